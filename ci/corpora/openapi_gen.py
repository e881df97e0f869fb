"""Benign requests generated from real public OpenAPI / Swagger specs.

For every operation of a spec, a few requests a real client could send: path
parameters filled, required and some optional query parameters in the
serialisation style the spec declares (form/explode, comma, space, pipe,
deepObject; Swagger 2 `collectionFormat`), header parameters, and a body in
one of the media types the operation accepts (JSON, urlencoded with bracket
notation for nested values, multipart with file parts, plain text, XML).

Values come, in this order, from the spec itself (parameter and schema
`example`/`examples`, media-type examples, `enum`, `default`), then from the
schema's `format` (date-time, email, uri, uuid, ipv4/6, byte as base64,
hostname, ...) and a simple `pattern` (via `rstr`, when importable), then
from the field name (names, companies, addresses, phone numbers, prose and
Markdown for free-text fields, searches, filenames, URLs, tokens), drawing
from `pools.py`. Free-text fields also get the spec's own descriptions,
which are real Markdown prose with code.

Specs may span files: a `$ref` to another file of the same repository is
followed (DigitalOcean's spec is 600 files).
"""
import base64
import json
import posixpath
import re
import urllib.parse

import yaml

import pools

try:
    import rstr
except ImportError:  # patterns are then ignored
    rstr = None

try:
    _YAML_LOADER = yaml.CSafeLoader
except AttributeError:
    _YAML_LOADER = yaml.SafeLoader


class Spec:
    """One spec, its `$ref`s rewritten to absolute `file#pointer` keys."""

    def __init__(self, show, exists, root):
        self.show, self.exists, self.docs = show, exists, {}
        self.doc = self.load(root)

    def load(self, path):
        if path not in self.docs:
            self.docs[path] = {}
            if not self.exists(path):
                return {}
            text = self.show(path)
            try:
                doc = json.loads(text) if path.endswith(".json") else yaml.load(text, Loader=_YAML_LOADER)
            except (ValueError, yaml.YAMLError):
                doc = {}
            self._absolute(doc, path)
            self.docs[path] = doc
        return self.docs[path]

    @staticmethod
    def _absolute(doc, path):
        d = posixpath.dirname(path)
        stack = [doc]
        while stack:
            x = stack.pop()
            if isinstance(x, dict):
                r = x.get("$ref")
                if isinstance(r, str) and not r.startswith(("http:", "https:")):
                    f, _, ptr = r.partition("#")
                    f = posixpath.normpath(posixpath.join(d, f)) if f else path
                    x["$ref"] = f + "#" + ptr
                stack.extend(x.values())
            elif isinstance(x, list):
                stack.extend(x)

    def resolve(self, node):
        for _ in range(20):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                return node
            f, _, ptr = node["$ref"].partition("#")
            if f.startswith(("http:", "https:")):
                return {}
            cur = self.load(f)
            for part in [p for p in ptr.split("/") if p]:
                part = urllib.parse.unquote(part).replace("~1", "/").replace("~0", "~")
                if isinstance(cur, dict):
                    cur = cur.get(part, {})
                elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
                    cur = cur[int(part)]
                else:
                    cur = {}
            node = cur
        return {}


def q(s, plus=False):
    return urllib.parse.quote_plus(s) if plus else urllib.parse.quote(s, safe="")


def jsonable(v):
    v = json.loads(json.dumps(v, default=str))
    if isinstance(v, str) and len(v) > 2 and v[0] == v[-1] == '"' and '"' not in v[1:-1]:
        return v[1:-1]  # a documentation quirk: `example: '"123e4567-..."'`
    return v


def scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return ""
    if isinstance(v, (dict, list)):
        return json.dumps(v, default=str, ensure_ascii=False)
    return str(v)


def words_of(name):
    """`displayName`, `display_name`, `Display-Name` -> ['display', 'name']."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name or "")
    return [w for w in re.split(r"[^A-Za-z0-9]+", name.lower()) if w]


TEXT_WORDS = {"description", "body", "message", "text", "comment", "comments", "note", "notes", "content",
              "summary", "bio", "reason", "details", "instructions", "markdown", "memo", "feedback", "about",
              "prompt", "caption", "reply", "answer", "question", "story", "review", "explanation", "html"}


class Gen:
    def __init__(self, spec, rng, texts):
        self.spec, self.rng, self.texts = spec, rng, texts
        # rstr's module functions use the global generator: seed our own so
        # the corpus (and so its tuning/held-back split) is reproducible.
        self.rstr = rstr.Rstr(rng) if rstr is not None else None

    # --- values -----------------------------------------------------------
    def person(self):
        r = self.rng
        return f"{r.choice(pools.FIRST_NAMES)} {r.choice(pools.LAST_NAMES)}"

    def email(self):
        r = self.rng
        local = r.choice(pools.FIRST_NAMES).lower() + r.choice([".", "_", "+billing.", ""]) + \
            r.choice(pools.LAST_NAMES).lower()
        local = re.sub(r"[^a-z0-9.+_'-]", "", local.encode("ascii", "ignore").decode()) or "user"
        return f"{local}@{r.choice(pools.EMAIL_DOMAINS)}"

    def free_text(self):
        r = self.rng.random()
        if r < 0.35 and self.texts:
            return self.rng.choice(self.texts)
        if r < 0.75:
            return self.rng.choice(pools.PROSE)
        return self.rng.choice(pools.MARKDOWN)

    def token(self, n=24):
        return "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(n))

    def uuid(self):
        g = self.rng.getrandbits
        return "%08x-%04x-4%03x-%x%03x-%012x" % (g(32), g(16), g(12), 8 + g(2), g(12), g(48))

    def date_time(self):
        r = self.rng
        s = "2026-%02d-%02dT%02d:%02d:%02d" % (r.randint(1, 12), r.randint(1, 28), r.randint(0, 23), r.randint(0, 59),
                                              r.randint(0, 59))
        return s + r.choice(["Z", ".000Z", "+02:00", "-05:00", ".123456Z"])

    def by_format(self, fmt, words):
        r = self.rng
        if fmt == "date-time":
            return self.date_time()
        if fmt == "date":
            return "20%02d-%02d-%02d" % (r.randint(20, 27), r.randint(1, 12), r.randint(1, 28))
        if fmt == "time":
            return "%02d:%02d:00" % (r.randint(0, 23), r.randint(0, 59))
        if fmt == "email":
            return self.email()
        if fmt in ("uri", "url", "iri", "uri-reference"):
            return r.choice(pools.URLS)
        if fmt == "uuid":
            return self.uuid()
        if fmt == "ipv4":
            return r.choice(["203.0.113.%d" % r.randint(1, 254), "198.51.100.%d" % r.randint(1, 254),
                             "8.8.%d.%d" % (r.randint(0, 8), r.randint(1, 254))])
        if fmt == "ipv6":
            return r.choice(["2001:db8::%x" % r.randint(1, 65535), "2001:db8:85a3::8a2e:370:%x" % r.randint(1, 65535)])
        if fmt in ("hostname", "idn-hostname"):
            return r.choice(["api.example.com", "mail.example.org", "shop-eu.example.net", "example.co.uk"])
        if fmt == "byte":
            raw = r.choice([b"\x89PNG\r\n\x1a\n" + bytes(r.getrandbits(8) for _ in range(40)),
                            "Zoë's notes: call O'Brien at 10:30 & send the invoice.".encode(),
                            json.dumps({"id": r.randint(1, 9999), "name": self.person()}).encode(),
                            bytes(r.getrandbits(8) for _ in range(r.randint(8, 90)))])
            return base64.b64encode(raw).decode()
        if fmt == "password":
            return r.choice(["C0rrect-Horse-Battery!", "p@ssw0rd#2026", "hunter2", "S3cure&Long pass phrase",
                             "Tr0ub4dor&3", "zoë'sPa$$word"])
        if fmt in ("phone", "phone-number", "e164"):
            return "+1415555%04d" % r.randint(0, 9999)
        if fmt in ("duration",):
            return r.choice(["PT15M", "P1D", "PT1H30M"])
        if fmt in ("country-code", "iso-3166"):
            return r.choice(pools.COUNTRIES)
        if fmt in ("currency", "iso-4217"):
            return r.choice(pools.CURRENCIES)
        return None

    def by_name(self, words):
        r = self.rng
        w = set(words)
        last = words[-1] if words else ""
        if "email" in w or "emails" in w:
            return self.email()
        if w & {"url", "uri", "link", "href", "website", "homepage", "callback", "redirect", "webhook", "endpoint"}:
            return r.choice(pools.URLS)
        if w & {"phone", "mobile", "fax", "msisdn"} or last in ("to", "from") and len(words) == 1:
            return r.choice(["+1415555%04d" % r.randint(0, 9999), "+44 20 7946 %04d" % r.randint(0, 9999),
                             "(555) 010-%04d" % r.randint(0, 9999), "+49 (0)30 123456-%02d" % r.randint(0, 99)])
        if w & {"company", "organization", "organisation", "business", "merchant", "employer", "brand", "vendor"}:
            return r.choice(pools.COMPANIES)
        if last in ("name", "names", "author", "owner", "assignee", "contact", "recipient", "signer") or \
                w & {"firstname", "lastname", "fullname"}:
            if "first" in w or "given" in w:
                return r.choice(pools.FIRST_NAMES)
            if "last" in w or "family" in w or "surname" in w:
                return r.choice(pools.LAST_NAMES)
            if w & {"file", "filename"}:
                return r.choice(pools.FILENAMES)
            if w & {"user", "username", "login"} and "display" not in w:
                return (r.choice(pools.FIRST_NAMES)[:1] + r.choice(pools.LAST_NAMES)).lower().replace("'", "")
            return r.choice([self.person(), self.person(), r.choice(pools.COMPANIES), r.choice(pools.TITLES)])
        if w & {"filename", "file"}:
            return r.choice(pools.FILENAMES)
        if w & {"street", "address", "line1", "line2", "address1", "address2"}:
            return r.choice(pools.STREETS)
        if "city" in w or "locality" in w:
            return r.choice(pools.CITIES)
        if w & {"country"}:
            return r.choice(pools.COUNTRIES)
        if w & {"zip", "postal", "postcode", "zipcode"}:
            return r.choice(["94103", "D02 X285", "10115", "SW1A 1AA", "H2X 1Y4", "01310-200"])
        if w & {"currency"}:
            return r.choice(pools.CURRENCIES)
        if w & {"locale", "language", "lang"}:
            return r.choice(pools.LOCALES)
        if w & {"timezone", "tz"}:
            return r.choice(pools.TIMEZONES)
        if w & {"color", "colour"}:
            return "#%06x" % r.getrandbits(24)
        if last in ("ip", "ips") or "ip" in w and "address" in w:
            return "203.0.113.%d" % r.randint(1, 254)
        if last == "type" and w & {"content", "mime", "media", "file"}:
            return r.choice(["application/pdf", "image/png", "text/csv", "application/json",
                             "application/vnd.openxmlformats-officedocument.wordprocessingml.document"])
        if last in ("date", "day"):
            return "20%02d-%02d-%02d" % (r.randint(20, 27), r.randint(1, 12), r.randint(1, 28))
        if last in ("at", "time", "since", "until", "timestamp") and len(words) > 1 or last == "timestamp":
            return self.date_time()
        # The last word names what a field holds: `message_text` is text,
        # `content_type` or `comment_count` is not.
        if last in TEXT_WORDS:
            return self.free_text()
        if last in ("title", "subject", "label", "headline", "topic", "purpose"):
            return r.choice(pools.TITLES)
        if last in ("q", "query", "search", "keyword", "keywords", "term", "terms"):
            return r.choice(pools.SEARCHES)
        if last in ("tag", "tags", "category", "categories"):
            return r.choice(["urgent", "c++", "q&a", "how-to", "billing/invoices", "ui/ux", "node.js", "r&d"])
        if w & {"sort", "order", "orderby", "sortby"}:
            return r.choice(["created_at", "-updated_at", "name:asc", "created desc", "priority,-due_date"])
        if w & {"fields", "select", "expand", "include", "fields[]"}:
            return r.choice(["id,name,created_at", "items.data,customer", "owner(id,name)", "*"])
        if w & {"path", "dir", "directory", "folder"}:
            return r.choice(["docs/README.md", "src/main.rs", "photos/2026/summer trip", "/Shared/Finance/Q3",
                             "assets/img/logo.png", "reports/2026-01"])
        if w & {"version"}:
            return r.choice(["1.2.3", "2026-01-15", "v2", "3.0.0-beta.1"])
        if w & {"domain", "host", "hostname"}:
            return r.choice(["example.com", "shop.example.org", "mail.example.net"])
        if w & {"token", "secret", "key", "cursor", "signature", "nonce", "state", "code", "hash", "etag", "sha"}:
            return self.rng.choice([self.token(r.randint(16, 40)), self.token(8) + "." + self.token(20),
                                    base64.urlsafe_b64encode(bytes(r.getrandbits(8) for _ in range(24))).decode(),
                                    "%040x" % r.getrandbits(160)])
        if last in ("id", "ids", "uuid", "guid", "sid", "key") or last.endswith("id"):
            return r.choice([self.uuid(), str(r.randint(1, 10 ** 9)), self.token(12)])
        return None

    def string(self, name, s):
        r = self.rng
        words = words_of(name)
        v = self.by_format(s.get("format", ""), words)
        if v is None and s.get("pattern") and self.rstr is not None and r.random() < 0.7:
            v = self.from_pattern(s["pattern"])
        if v is None:
            v = self.by_name(words)
        if v is None:
            v = r.choice(pools.WORDS) + r.choice(["-", "_", " ", ""]) + str(r.randint(1, 999))
        if isinstance(s.get("maxLength"), int) and s["maxLength"] > 0 and len(v) > s["maxLength"]:
            v = v[: s["maxLength"]].rstrip()
        return v

    @staticmethod
    def simple_pattern(p):
        # Only patterns of literal runs, classes and bounded repeats: `.` or
        # negated classes would produce random punctuation no client sends.
        return len(p) <= 80 and not re.search(r"(?<!\\)\.|\[\^|\\[SWDB]|\(\?", p)

    def from_pattern(self, p):
        if not self.simple_pattern(p):
            return None
        try:
            v = self.rstr.xeger(p)
        except Exception:  # noqa: BLE001 - the pattern dialect is not Python's
            return None
        return v if 0 < len(v) <= 64 else None

    def example_of(self, s):
        if "example" in s and s["example"] not in (None, "", {}, []):
            return s["example"]
        ex = s.get("examples")
        if isinstance(ex, list) and ex:
            return self.rng.choice(ex)
        if isinstance(ex, dict) and ex:
            e = self.spec.resolve(self.rng.choice(list(ex.values())))
            if isinstance(e, dict) and "value" in e:
                return e["value"]
        return None

    def value(self, name, schema, depth=0, body=False):
        s = self.spec.resolve(schema)
        r = self.rng
        if not isinstance(s, dict):
            return self.string(name, {})
        if "allOf" in s and isinstance(s["allOf"], list):
            merged = {k: v for k, v in s.items() if k != "allOf"}
            props, req = dict(merged.get("properties") or {}), list(merged.get("required") or [])
            for part in s["allOf"]:
                part = self.spec.resolve(part)
                if isinstance(part, dict):
                    props.update(part.get("properties") or {})
                    req += part.get("required") or []
                    for k in ("type", "example", "enum", "format", "items"):
                        if k in part and k not in merged:
                            merged[k] = part[k]
            if props:
                merged["properties"], merged["required"] = props, req
                merged.setdefault("type", "object")
            s = merged
        for k in ("oneOf", "anyOf"):
            if isinstance(s.get(k), list) and s[k]:
                opts = [o for o in s[k] if self.spec.resolve(o).get("type") != "null"] or s[k]
                return self.value(name, r.choice(opts), depth + 1, body)
        ex = self.example_of(s)
        if ex is not None and r.random() < 0.75:
            return jsonable(ex)
        if s.get("enum"):
            opts = [e for e in s["enum"] if e is not None] or [""]
            return jsonable(r.choice(opts))
        if "const" in s:
            return jsonable(s["const"])
        if "default" in s and s["default"] not in (None, "") and r.random() < 0.5:
            return jsonable(s["default"])
        t = s.get("type")
        if isinstance(t, list):
            t = next((x for x in t if x != "null"), "string")
        if t == "object" or "properties" in s or (t is None and "additionalProperties" in s):
            if depth > 4:
                return {}
            out = {}
            req = set(s.get("required") or [])
            for k, v in list((s.get("properties") or {}).items())[:40]:
                vs = self.spec.resolve(v)
                if body and isinstance(vs, dict) and vs.get("readOnly"):
                    continue
                if k in req or r.random() < 0.55:
                    out[k] = self.value(k, v, depth + 1, body)
                if len(out) >= 14:
                    break
            if not out and s.get("properties") and depth < 3:
                # An empty object is a request no client bothers to send.
                props = list(s["properties"].items())
                for k, v in r.sample(props, min(len(props), r.randint(1, 3))):
                    out[k] = self.value(k, v, depth + 1, body)
            ap = s.get("additionalProperties")
            if not out and ap:
                for k in r.sample(["env", "team", "cost_center", "source", "customer_ref"], r.randint(1, 2)):
                    out[k] = self.value(k, ap if isinstance(ap, dict) else {"type": "string"}, depth + 1, body)
            return out
        if t == "array":
            lo = s.get("minItems") or 1
            hi = min(s.get("maxItems") or 3, 3)
            n = r.randint(min(lo, hi), max(lo, hi)) if depth < 4 else 0
            items = [self.value(name, s.get("items", {}), depth + 1, body) for _ in range(n)]
            if s.get("uniqueItems"):
                uniq = []
                for x in items:
                    if x not in uniq:
                        uniq.append(x)
                items = uniq
            return items
        if t in ("integer", "number"):
            return self.number(name, s, t)
        if t == "boolean":
            return r.choice([True, False])
        if t == "file" or s.get("format") == "binary":
            return {"$file": r.choice(pools.FILENAMES)}
        return self.string(name, s)

    def number(self, name, s, t):
        r = self.rng
        words = set(words_of(name))
        lo = s.get("minimum", 0 if "exclusiveMinimum" not in s else 1)
        hi = s.get("maximum")
        if not isinstance(lo, (int, float)) or isinstance(lo, bool):
            lo = 0
        if words & {"limit", "size", "count", "per", "page_size", "pagesize", "max", "top"}:
            hi = hi if isinstance(hi, (int, float)) else 100
            lo = max(lo, 1)
        elif words & {"page", "offset", "skip", "start"}:
            hi = hi if isinstance(hi, (int, float)) else 50
        elif words & {"year"}:
            lo, hi = 2020, 2026
        elif not isinstance(hi, (int, float)):
            hi = lo + r.choice([10, 100, 5000, 10 ** 6])
        if hi < lo:
            hi = lo
        if t == "integer":
            return r.randint(int(lo), int(hi))
        return round(r.uniform(lo, hi), r.choice([0, 1, 2, 2, 4]))


# --- requests -----------------------------------------------------------
def ops_of(spec):
    doc = spec.doc
    for path, item in (doc.get("paths") or {}).items():
        item = spec.resolve(item)
        if not isinstance(item, dict):
            continue
        common = item.get("parameters", []) or []
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete") and isinstance(op, dict):
                yield path, method.upper(), spec.resolve(op), common


def base_path(doc):
    if doc.get("swagger"):
        return (doc.get("basePath") or "").rstrip("/")
    for srv in doc.get("servers") or []:
        url = srv.get("url", "") if isinstance(srv, dict) else ""
        url = re.sub(r"\{[^}]*\}", "x", url)
        p = urllib.parse.urlsplit(url).path if "://" in url else url
        return p.rstrip("/") if p.startswith("/") else ""
    return ""


def serialise_query(g, p, v, out):
    """One query parameter in the style it declares."""
    r = g.rng
    name = p["name"]
    plus = r.random() < 0.4
    style = p.get("style", "form")
    explode = p.get("explode", style == "form")
    cf = p.get("collectionFormat")
    if isinstance(v, dict) and not (len(v) == 1 and "$file" in v):
        if style == "deepObject":
            for k, x in v.items():
                out.append(f"{q(name)}%5B{q(str(k))}%5D={q(scalar(x), plus)}" if r.random() < 0.5
                           else f"{name}[{k}]={q(scalar(x), plus)}")
        elif explode and p.get("content") is None:
            for k, x in v.items():
                out.append(f"{q(str(k))}={q(scalar(x), plus)}")
        else:
            out.append(f"{q(name)}={q(json.dumps(v, ensure_ascii=False), plus)}")
        return
    if isinstance(v, list):
        vals = [scalar(x) for x in v]
        if cf == "multi" or (cf is None and explode and style == "form"):
            key = name + "[]" if r.random() < 0.15 else name
            out.extend(f"{q(key)}={q(x, plus)}" for x in vals)
            return
        sep = {"ssv": " ", "tsv": "\t", "pipes": "|", "spaceDelimited": " ", "pipeDelimited": "|"}.get(
            cf or style, ",")
        out.append(f"{q(name)}={q(sep.join(vals), plus)}")
        return
    out.append(f"{q(name)}={q(scalar(v), plus)}")


def form_pairs(prefix, v, out):
    """Nested values as `a[b][0]=x` (Rails/PHP/Stripe style)."""
    if isinstance(v, dict):
        for k, x in v.items():
            form_pairs(f"{prefix}[{k}]" if prefix else str(k), x, out)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            form_pairs(f"{prefix}[{i}]", x, out)
    else:
        out.append((prefix, scalar(v)))


def multipart(g, obj):
    b = "----WebKitFormBoundary" + g.token(16)
    parts = []
    for k, v in (obj.items() if isinstance(obj, dict) else [("file", obj)]):
        if isinstance(v, dict) and "$file" in v:
            fn = v["$file"]
            ct = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "csv": "text/csv"}.get(
                fn.rsplit(".", 1)[-1], "application/octet-stream")
            data = "%PDF-1.7\n%âãÏÓ\n1 0 obj <</Type /Catalog>> endobj\n" if ct == "application/pdf" else \
                "id,name,amount\n1,Zoë O'Brien,12.50\n2,\"Smith & Sons\",99.00\n"
            parts.append(f'--{b}\r\nContent-Disposition: form-data; name="{k}"; filename="{fn}"\r\n'
                         f"Content-Type: {ct}\r\n\r\n{data}\r\n")
        else:
            val = json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else scalar(v)
            parts.append(f'--{b}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{val}\r\n')
    return "multipart/form-data; boundary=" + b, "".join(parts) + f"--{b}--\r\n"


def xml_of(tag, v):
    tag = re.sub(r"[^A-Za-z0-9_.-]", "", str(tag)) or "item"
    if isinstance(v, dict):
        return f"<{tag}>" + "".join(xml_of(k, x) for k, x in v.items()) + f"</{tag}>"
    if isinstance(v, list):
        return "".join(xml_of(tag, x) for x in v)
    s = scalar(v).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<{tag}>{s}</{tag}>"


BODY_TYPES = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data", "text/plain",
              "application/xml", "text/xml")


def body_for(g, media, content_schema, example=None):
    """(content-type, body) for one media type."""
    r = g.rng
    v = example if example is not None else g.value("", content_schema, body=True)
    if media.endswith("json") or media.startswith("application/") and "+json" in media:
        return media, json.dumps(v, ensure_ascii=r.random() < 0.3, default=str)
    if media == "application/x-www-form-urlencoded":
        pairs = []
        form_pairs("", v if isinstance(v, dict) else {"value": v}, pairs)
        plus = r.random() < 0.7
        return media, "&".join(f"{q(k)}={q(x, plus)}" for k, x in pairs)
    if media == "multipart/form-data":
        return multipart(g, v if isinstance(v, dict) else {"file": v})
    if media in ("application/xml", "text/xml"):
        return media, '<?xml version="1.0" encoding="UTF-8"?>' + xml_of("request", v)
    return media, scalar(v) if not isinstance(v, (dict, list)) else json.dumps(v, default=str)


def request(g, path, method, op, common, bp, swagger, consumes):
    r = g.rng
    spec = g.spec
    target = path
    query, headers = [], []
    form = {}
    body_schema = None
    for p in list(common) + list(op.get("parameters") or []):
        p = spec.resolve(p)
        if not isinstance(p, dict) or "name" not in p:
            continue
        where = p.get("in")
        sch = p.get("schema", p) if not swagger or where == "body" else p
        if where == "body":
            body_schema = p.get("schema", {})
            continue
        if not p.get("required") and where != "path" and r.random() < 0.5:
            continue
        ex = g.example_of(p) if r.random() < 0.75 else None
        v = jsonable(ex) if ex is not None else g.value(p["name"], sch)
        if where == "path":
            target = target.replace("{" + p["name"] + "}", q(scalar(v)))
        elif where == "query":
            serialise_query(g, p, v, query)
        elif where == "header" and p["name"].lower() not in ("authorization", "content-type", "host",
                                                              "content-length", "accept"):
            headers.append([p["name"].lower(), scalar(v)])
        elif where == "formData":
            form[p["name"]] = v
        elif where == "cookie":
            headers.append(["cookie", f"{p['name']}={q(scalar(v))}"])
    target = bp + re.sub(r"\{[^}]*\}", lambda m: str(r.randint(1, 99999)), target)
    body = None
    if swagger:
        if form:
            media = "multipart/form-data" if "multipart/form-data" in consumes or any(
                isinstance(v, dict) and "$file" in v for v in form.values()) else "application/x-www-form-urlencoded"
            ct, body = body_for(g, media, {}, form)
            headers.append(["content-type", ct])
        elif body_schema is not None:
            media = next((c for c in consumes if c in BODY_TYPES or c.endswith("json")), "application/json")
            ct, body = body_for(g, media, body_schema)
            headers.append(["content-type", ct])
    else:
        rb = spec.resolve(op.get("requestBody") or {})
        content = rb.get("content") or {} if isinstance(rb, dict) else {}
        medias = [m for m in content if m in BODY_TYPES or m.endswith("json")]
        if medias:
            media = r.choice(medias)
            c = spec.resolve(content[media]) or {}
            ex = g.example_of(c) if r.random() < 0.6 else None
            ct, body = body_for(g, media, c.get("schema", {}), jsonable(ex) if ex is not None else None)
            headers.append(["content-type", ct])
    if query:
        target += "?" + "&".join(query)
    headers.append(["accept", r.choice(["application/json", "*/*", "application/json, text/plain, */*"])])
    headers.append(["user-agent", r.choice(pools.USER_AGENTS)])
    if r.random() < 0.3:
        headers.append(["x-request-id", g.uuid()])
    return method, target, headers, body


def generate(spec, rng, per_source=1400, cap=1700):
    """Up to `cap` distinct requests, about `per_source`, spread over all operations."""
    doc = spec.doc
    if not isinstance(doc, dict):
        return []
    swagger = bool(doc.get("swagger"))
    bp = base_path(doc)
    ops = list(ops_of(spec))
    if not ops:
        return []
    texts = []
    for _, _, op, _ in ops:
        for k in ("description", "summary"):
            d = op.get(k)
            if isinstance(d, str) and 12 < len(d) < 600:
                texts.append(d)
    g = Gen(spec, rng, texts)
    variants = max(1, min(8, round(per_source / len(ops))))
    out, seen = [], set()
    order = list(ops)
    rng.shuffle(order)
    for path, method, op, common in order:
        consumes = op.get("consumes") or doc.get("consumes") or ["application/json"]
        for _ in range(variants):
            try:
                m, t, hs, b = request(g, path, method, op, common, bp, swagger, consumes)
            except RecursionError:
                continue
            key = f"{m} {t} {b}"
            if key in seen:
                continue
            seen.add(key)
            out.append((m, t, hs, b))
    rng.shuffle(out)
    return out[:cap]
