#!/usr/bin/env python3
"""Turns public labelled corpora into requests for the signature evaluation.

Reads git snapshots of public repositories (one directory per repository,
named owner+name, each with a bare `repo` git dir, as `ci/corpora.sh` gets
them) and writes OUT/cases.jsonl: one request per line,

  {"src": ..., "class": ..., "half": "tune"|"held", "payload": ...,
   "target": ..., "headers": [[name, value], ...], "body": ... | null}

`class` is the label the source gives (mapped onto the module's classes) or
"benign". `half` splits every source in two by a hash of its payload, so the
same payload always lands in the same half: tune on "tune", report "held".
Nothing here is copied into the repository; the files stay in OUT.
"""
import base64
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import urllib.parse

import yaml

MIRRORS, OUT = sys.argv[1], sys.argv[2]
cases = []
counts = {}


def git(repo, *args):
    d = os.path.join(MIRRORS, repo, "repo")
    return subprocess.run(["git", "--git-dir", d, *args], capture_output=True).stdout


def files(repo, prefix=""):
    out = git(repo, "ls-tree", "-r", "--name-only", "HEAD", "--", prefix) if prefix else git(repo, "ls-tree", "-r", "--name-only", "HEAD")
    return [l for l in out.decode("utf-8", "replace").splitlines() if l]


def show(repo, path):
    return git(repo, "show", f"HEAD:{path}").decode("utf-8", "replace")


def half(src, payload):
    h = hashlib.sha256(f"{src}\0{payload}".encode("utf-8", "surrogateescape")).digest()
    return "held" if h[0] & 1 else "tune"


UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"


def add(src, cls, payload, target, headers=None, body=None):
    hs = [["user-agent", UA]] + (headers or [])
    cases.append({"src": src, "class": cls, "half": half(src, payload), "payload": payload,
                  "target": target, "headers": hs, "body": body})
    counts[(src, cls)] = counts.get((src, cls), 0) + 1


def q(s):
    return urllib.parse.quote(s, safe="")


def raw_query(s):
    """A payload meant to be pasted into a URL: escape only what would end it."""
    return s.replace(" ", "%20").replace("#", "%23").replace("&", "%26")


def lines(text):
    for l in text.splitlines():
        l = l.rstrip("\r\n")
        if l.strip() and not l.startswith("#"):
            yield l


# --- libinjection test data (client9/libinjection, data/) -------------------
def libinjection():
    repo = "client9+libinjection"
    for f in files(repo, "data"):
        name = os.path.basename(f)
        if name.startswith("sqli-"):
            cls = "sqli"
        elif name.startswith("xss-"):
            cls = "xss"
        elif name == "false_positives.txt":
            cls = "benign"
        else:
            continue
        for l in lines(show(repo, f)):
            # The files hold URL-encoded parameter values.
            add("libinjection", cls, l, "/search?q=" + raw_query(l))


# --- GoTestWAF test cases (wallarm/gotestwaf, testcases/) -------------------
GTW_CLASS = {
    "sql-injection": "sqli", "community-sqli": "sqli", "xss-scripting": "xss",
    "community-xss": "xss", "shell-injection": "rce", "rce": "rce", "rce-urlparam": "rce",
    "rce-urlpath": "rce", "community-rce": "rce", "community-rce-rawrequests": "rce",
    "path-traversal": "traversal", "community-lfi": "traversal",
    "community-lfi-multipart": "traversal", "ldap-injection": "ldap",
    "nosql-injection": "nosql", "sst-injection": "ssti", "ss-include": "ssti",
    "xml-injection": "xxe", "community-xxe": "xxe", "crlf": "crlf",
    "mail-injection": "crlf", "community-user-agent": "rce", "texts": "benign",
}


def placements(p, placeholders):
    """GoTestWAF's placeholders, as its clients build them."""
    for ph in placeholders:
        name = ph if isinstance(ph, str) else next(iter(ph))
        if name == "URLParam":
            yield name, "/get?q=" + q(p), [], None
        elif name == "URLPath":
            yield name, "/" + q(p).replace("%2F", "/"), [], None
        elif name == "JSONRequest":
            yield name, "/post", [["content-type", "application/json"]], json.dumps({"test": True, "data": p})
        elif name == "JSONBody":
            yield name, "/post", [["content-type", "application/json"]], json.dumps(p)
        elif name == "Header":
            yield name, "/get", [["x-test-header", p]], None
        elif name == "UserAgent":
            yield name, "/get", [["user-agent", p]], None
        elif name == "HTMLForm":
            yield name, "/post", [["content-type", "application/x-www-form-urlencoded"]], "data=" + q(p)
        elif name == "HTMLMultipartForm":
            b = "--gtw\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n" + p + "\r\n--gtw--\r\n"
            yield name, "/post", [["content-type", "multipart/form-data; boundary=gtw"]], b
        elif name == "SOAPBody":
            b = ('<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
                 "<soap:Body><data>" + p + "</data></soap:Body></soap:Envelope>")
            yield name, "/post", [["content-type", "text/xml"]], b
        elif name == "XMLBody":
            yield name, "/post", [["content-type", "text/xml"]], p
        elif name == "RequestBody":
            yield name, "/post", [], p
        elif name == "Cookie" or name == "RawCookie":
            yield name, "/get", [["cookie", "session=" + q(p)]], None


def gotestwaf():
    repo = "wallarm+gotestwaf"
    for f in files(repo, "testcases"):
        base = os.path.splitext(os.path.basename(f))[0]
        if re.match(r"community-\d+kb-", base) or f.startswith("testcases/owasp-api/"):
            continue  # padding tests and API-protocol smoke tests
        cls = GTW_CLASS.get(base)
        if not cls:
            continue
        text = show(repo, f)
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError:
            # go-yaml accepts `\'` in double-quoted scalars; PyYAML does not.
            doc = yaml.safe_load(text.replace("\\'", "'"))
        phs = doc.get("placeholder") or doc.get("placeholders") or []
        for p in doc.get("payload", []):
            p = str(p)
            for name, target, hs, body in placements(p, phs):
                add("gotestwaf", cls, p, target, hs, body)


# --- OWASP CRS regression tests (coreruleset/coreruleset) -------------------
CRS_CLASS = {"930": "traversal", "931": "rfi_ssrf", "932": "rce", "933": "rce",
             "934": "rce", "941": "xss", "942": "sqli", "944": "rce"}


def crs_paranoia():
    repo = "coreruleset+coreruleset"
    levels = {}
    for f in files(repo, "rules"):
        if not f.endswith(".conf"):
            continue
        text = show(repo, f)
        for m in re.finditer(r'id:(\d{6}).*?(?:tag:\'paranoia-level/(\d)\'|(?=id:\d{6}))', text, re.S):
            if m.group(2):
                levels[m.group(1)] = int(m.group(2))
    return levels


def crs():
    repo = "coreruleset+coreruleset"
    levels = crs_paranoia()
    for f in files(repo, "tests/regression/tests"):
        m = re.search(r"/REQUEST-(\d{3})-[^/]+/(\d{6})\.yaml$", f)
        if not m or m.group(1) not in CRS_CLASS:
            continue
        rule = m.group(2)
        if levels.get(rule) != 1:
            continue  # paranoia 1 rules only: higher levels flag ordinary input by design
        try:
            doc = yaml.safe_load(show(repo, f))
        except yaml.YAMLError:
            continue
        for t in doc.get("tests", []):
            for st in t.get("stages", []):
                inp = st.get("input", {})
                out = st.get("output", {}).get("log", {}) or {}
                if int(rule) not in (out.get("expect_ids") or []):
                    continue
                if "encoded_request" in inp:
                    continue
                hs = [[k.lower(), str(v)] for k, v in (inp.get("headers") or {}).items()
                      if k.lower() not in ("host", "content-length", "user-agent")]
                ua = (inp.get("headers") or {}).get("User-Agent")
                body = inp.get("data")
                if isinstance(body, list):
                    body = "\r\n".join(str(x) for x in body)
                uri = str(inp.get("uri", "/"))
                payload = f"{rule}/{t.get('test_id')}:{uri}:{body}:{hs}"
                if ua:
                    hs.append(["user-agent", str(ua)])
                cls = CRS_CLASS[m.group(1)]
                cases.append({"src": "crs", "class": cls, "half": half("crs", payload), "payload": payload,
                              "target": uri, "headers": hs, "body": body if body is not None else None})
                counts[("crs", cls)] = counts.get(("crs", cls), 0) + 1


# --- PayloadsAllTheThings Intruder lists -------------------------------------
PATT = {
    "SQL Injection/Intruder/": "sqli",
    "XSS Injection/Intruders/": "xss",
    "Command Injection/Intruder/": "rce",
    "Directory Traversal/Intruder/": "traversal",
    "File Inclusion/Intruders/": "traversal",
    "LDAP Injection/Intruder/LDAP_FUZZ": "ldap",
    "NoSQL Injection/Intruder/": "nosql",
    "Server Side Template Injection/Intruder/": "ssti",
    "XXE Injection/Intruders/": "xxe",
}
# Word lists, not payloads: bare event-handler names, attribute names.
PATT_SKIP = ("event_handlers", "jsonp_endpoint", "xss_swf_fuzz", "LDAP_attributes", "dotdotpwn", "deep_traversal",
             "traversals-8-deep")


def patt():
    repo = "swisskyrepo+PayloadsAllTheThings"
    for f in files(repo):
        cls = next((c for p, c in PATT.items() if f.startswith(p)), None)
        if not cls or any(s in f for s in PATT_SKIP):
            continue
        text = show(repo, f)
        if cls == "xxe":
            # XML documents: one per blank-line separated block.
            for block in re.split(r"\n\s*\n", text):
                if block.strip().startswith("<"):
                    add("patt", cls, block, "/api/import", [["content-type", "application/xml"]], block)
            continue
        seen = set()
        for l in lines(text):
            if l in seen:
                continue
            seen.add(l)
            if cls == "traversal" and not l.startswith(("http", "php", "file", "data", "expect")):
                add("patt", cls, l, "/download?file=" + raw_query(l))
            else:
                add("patt", cls, l, "/search?q=" + raw_query(l))


# --- Benign requests from public OpenAPI specs ------------------------------
rng = random.Random(7)
WORDS = ("order invoice shipment customer account status pending active green blue "
         "monthly report summary notes review delivery warehouse support ticket").split()
TEXTS = None  # filled from the spec's own descriptions


def value_for(name, schema, spec, depth=0):
    schema = resolve(schema, spec)
    if not isinstance(schema, dict):
        return "x"
    for k in ("example", "default"):
        if k in schema and schema[k] not in (None, ""):
            return schema[k]
    if schema.get("examples") and isinstance(schema["examples"], list):
        return schema["examples"][0]
    if schema.get("enum"):
        return rng.choice(schema["enum"])
    t = schema.get("type")
    fmt = schema.get("format", "")
    n = (name or "").lower()
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "string")
    if t == "object" or "properties" in schema:
        if depth > 3:
            return {}
        return {k: value_for(k, v, spec, depth + 1) for k, v in list(schema.get("properties", {}).items())[:12]}
    if t == "array":
        return [value_for(name, schema.get("items", {}), spec, depth + 1) for _ in range(rng.randint(1, 2))]
    if t == "integer":
        return rng.randint(1, 5000)
    if t == "number":
        return round(rng.uniform(1, 500), 2)
    if t == "boolean":
        return rng.choice([True, False])
    if fmt == "date-time":
        return "2026-%02d-%02dT%02d:%02d:00Z" % (rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59))
    if fmt == "date":
        return "2026-%02d-%02d" % (rng.randint(1, 12), rng.randint(1, 28))
    if fmt in ("uri", "url") or n.endswith("url") or n.endswith("uri"):
        return rng.choice(["https://example.com/callback", "https://hooks.example.org/twilio/status?id=42",
                           "https://app.example.com/oauth/callback?state=xyz", "https://cdn.example.net/a/b.png"])
    if fmt == "email" or "email" in n:
        return rng.choice(["mary.obrien@example.com", "j.doe+test@example.org"])
    if fmt == "uuid" or n.endswith("id"):
        return "%08x-%04x-4%03x-a%03x-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12), rng.getrandbits(12), rng.getrandbits(48))
    if "phone" in n or n in ("to", "from"):
        return "+1415555%04d" % rng.randint(0, 9999)
    if "name" in n:
        return rng.choice(["Mary O'Brien", "Renée D'Souza", "Jean-Luc Picard", "Zoë Smith", "José Núñez"])
    if any(w in n for w in ("description", "body", "message", "text", "comment", "note", "content")):
        return rng.choice(TEXTS)
    return rng.choice(WORDS) + "-" + str(rng.randint(1, 99))


def resolve(s, spec, seen=0):
    while isinstance(s, dict) and "$ref" in s and seen < 10:
        ref = s["$ref"]
        if not ref.startswith("#/"):
            return {}
        node = spec
        for part in ref[2:].split("/"):
            node = node.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(node, dict) else {}
        s, seen = node, seen + 1
    return s


def form_encode(obj):
    out = []
    for k, v in (obj.items() if isinstance(obj, dict) else []):
        if isinstance(v, (dict, list)):
            v = json.dumps(v)
        elif isinstance(v, bool):
            v = "true" if v else "false"
        out.append(q(str(k)) + "=" + urllib.parse.quote_plus(str(v)))
    return "&".join(out)


def openapi(src, repo, paths):
    global TEXTS
    for f in paths:
        try:
            spec = json.loads(show(repo, f))
        except ValueError:
            continue
        texts = []
        for op in walk_ops(spec):
            d = op[2].get("description") or op[2].get("summary")
            if isinstance(d, str) and 10 < len(d) < 400:
                texts.append(d)
        TEXTS = texts or ["Please call me back tomorrow."]
        for path, method, op, common in walk_ops(spec):
            for _ in range(2):
                target = path
                query = []
                headers = []
                for p in common + op.get("parameters", []):
                    p = resolve(p, spec)
                    if not isinstance(p, dict):
                        continue
                    v = value_for(p.get("name"), p.get("schema", p), spec)
                    if p.get("in") == "path":
                        target = target.replace("{" + p["name"] + "}", q(str(v)))
                    elif p.get("in") == "query" and (p.get("required") or rng.random() < 0.5):
                        query.append(q(p["name"]) + "=" + urllib.parse.quote_plus(str(v) if not isinstance(v, (dict, list)) else json.dumps(v)))
                    elif p.get("in") == "header" and p["name"].lower() not in ("authorization", "content-type", "host"):
                        headers.append([p["name"].lower(), str(v)])
                if query:
                    target += "?" + "&".join(query)
                body = None
                rb = resolve(op.get("requestBody", {}), spec)
                content = rb.get("content", {}) if isinstance(rb, dict) else {}
                for ct in ("application/json", "application/x-www-form-urlencoded"):
                    if ct in content:
                        c = content[ct]
                        ex = c.get("example")
                        if ex is None and c.get("examples"):
                            ex = resolve(next(iter(c["examples"].values())), spec).get("value")
                        if ex is None:
                            ex = value_for("", c.get("schema", {}), spec)
                        body = json.dumps(ex) if ct == "application/json" else form_encode(ex)
                        headers.append(["content-type", ct])
                        break
                add(src, "benign", f"{method} {target} {body}", target, headers, body)


def walk_ops(spec):
    for path, item in (spec.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        common = item.get("parameters", [])
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete") and isinstance(op, dict):
                yield path, method.upper(), op, common


# --- Benign GoTestWAF-style texts and hard benign fields --------------------
def main():
    for name, fn in [("libinjection", libinjection), ("gotestwaf", gotestwaf), ("crs", crs), ("patt", patt)]:
        if os.path.isdir(os.path.join(MIRRORS, {"libinjection": "client9+libinjection", "gotestwaf": "wallarm+gotestwaf",
                                                 "crs": "coreruleset+coreruleset", "patt": "swisskyrepo+PayloadsAllTheThings"}[name])):
            fn()
    if os.path.isdir(os.path.join(MIRRORS, "twilio+twilio-oai")):
        openapi("openapi-twilio", "twilio+twilio-oai", [f for f in files("twilio+twilio-oai", "spec/json") if f.endswith(".json")])
    if os.path.isdir(os.path.join(MIRRORS, "box+box-openapi")):
        openapi("openapi-box", "box+box-openapi", ["openapi.json"])
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "cases.jsonl"), "w") as fh:
        for c in cases:
            fh.write(json.dumps(c, ensure_ascii=False) + "\n")
    with open(os.path.join(OUT, "counts.json"), "w") as fh:
        json.dump({f"{s}/{c}": n for (s, c), n in sorted(counts.items())}, fh, indent=1)
    for (s, c), n in sorted(counts.items()):
        print(f"{s:18s} {c:14s} {n:6d}")


main()
