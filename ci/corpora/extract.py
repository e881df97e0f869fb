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

import hard_benign
import openapi_gen

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


def add(src, cls, payload, target, headers=None, body=None, split_as=None):
    hs = list(headers or [])
    if not any(h[0] == "user-agent" for h in hs):
        hs.insert(0, ["user-agent", UA])
    cases.append({"src": src, "class": cls, "half": half(split_as or src, payload), "payload": payload,
                  "target": target, "headers": hs, "body": body})
    counts[(src, cls)] = counts.get((src, cls), 0) + 1


def raw_query(s):
    """A payload meant to be pasted into a URL: escape only what would end it."""
    return s.replace(" ", "%20").replace("#", "%23").replace("&", "%26").replace("\r", "%0D").replace("\n", "%0A")


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


# Go's `net/url` escaping (url.go: shouldEscape), which GoTestWAF's `URL`
# encoder (`url.PathEscape`) and its Go HTTP client use. Unreserved bytes are
# never escaped; `$&+=:@` stay raw in a path segment, `/;,?` do not.
GO_UNRESERVED = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def go_escape(s, keep):
    out = []
    for b in s.encode("utf-8", "surrogateescape"):
        c = chr(b)
        out.append(c if b in GO_UNRESERVED or c in keep else "%%%02X" % b)
    return "".join(out)


def go_path_escape(s):
    """`url.PathEscape`: GoTestWAF's `URL` encoder."""
    return go_escape(s, "$&+=:@")


def go_unescape(s):
    """`url.PathUnescape`, or None where Go refuses the escape."""
    if re.search(r"%(?![0-9A-Fa-f]{2})", s):
        return None
    return urllib.parse.unquote(s, errors="surrogateescape")


def go_request_uri(rest):
    """The request target Go's client writes for `http://host/` + `rest`:
    `url.Parse` (fragment cut, path unescaped, query kept raw), then
    `URL.RequestURI()` (the raw path if it is a valid encoding of the
    path, else the path escaped again). None where `url.Parse` fails
    (a control byte, a bad `%` escape in the path): GoTestWAF sends
    nothing then."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in rest):
        return None
    rest = rest.split("#", 1)[0]
    path, sep, query = rest.partition("?")
    path = "/" + path
    decoded = go_unescape(path)
    if decoded is None:
        return None
    valid = all(c in "!$&'()*+,;=:@[]/%" or ord(c) in GO_UNRESERVED for c in path)
    uri = path if valid else go_escape(decoded, "$&+,/:;=@")
    return uri + (sep + query if sep else "")


def go_xml_text(s):
    """`xml.EscapeText`, as GoTestWAF's `XMLEntity` encoder writes a string."""
    table = {'"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\t": "&#x9;", "\n": "&#xA;",
             "\r": "&#xD;"}
    return "".join(table.get(c, c) for c in s)


def random_hex(*key):
    """GoTestWAF names each parameter, field and header with 5 random bytes
    in hex; here a hash of the sample, so every run builds the same requests."""
    return hashlib.sha256("\0".join(key).encode("utf-8", "surrogateescape")).hexdigest()[:10]


def gtw_encode(encoder, p):
    if encoder == "URL":
        return go_path_escape(p)
    if encoder in ("Base64", "Base64Flat"):
        b = base64.b64encode(p.encode("utf-8")).decode("ascii")
        return b if encoder == "Base64" else b.replace("=", "")
    if encoder == "JSUnicode":
        return js_unicode(p)
    if encoder == "XMLEntity":
        return "<string>" + go_xml_text(p) + "</string>"
    return p  # Plain


def js_unicode(s):
    """GoTestWAF's `JSUnicode` encoder: every UTF-16 unit as `\\uXXXX`."""
    units = s.encode("utf-16-be", "surrogatepass")
    return "".join("\\u%02x%02x" % (units[i], units[i + 1]) for i in range(0, len(units), 2))


SOAP_WRAPPER = ('<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope '
                'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"\n\t'
                'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
                '\t<soapenv:Header>\n\t\t<ns1:RequestHeader soapenv:actor="http://schemas.xmlsoap.org/soap/actor/next"\n'
                '\t\t\tsoapenv:mustUnderstand="0" xmlns:ns1="https://www.google.com/apis/ads/publisher/v202002">\n'
                '\t\t</ns1:RequestHeader>\n\t</soapenv:Header>\n\t<soapenv:Body>\n'
                '\t\t<getAdUnitsByStatement xmlns="https://www.google.com/apis/ads/publisher/v202002">\n'
                '\t\t\t<filterStatement>\n\t\t\t\t<{0}>{1}</{0}>\n\t\t\t</filterStatement>\n'
                '\t\t</getAdUnitsByStatement>\n\t</soapenv:Body>\n</soapenv:Envelope>')


def placements(e, p, placeholders):
    """The requests GoTestWAF's Go client builds (internal/payload/placeholder)
    for the encoder's output `e` of the payload `p`, against `http://host/`:
    the encoded payload goes into every placeholder as it is (so a `URL`
    encoded payload is percent-escaped in JSON and multipart bodies too, and
    its raw `&` and `=` split a query or a form), JSONRequest escapes it again
    as `\\uXXXX` and SOAPBody as XML text. RawRequest fills the case's own
    method, path (`url.PathEscape` of the payload), headers and body."""
    for ph in placeholders:
        name = ph if isinstance(ph, str) else next(iter(ph))
        key = random_hex(name, e)
        if name == "URLParam":
            uri = go_request_uri("?" + key + "=" + e)
            if uri is not None:
                yield name, uri, [], None
        elif name == "URLPath":
            uri = go_request_uri(e)
            if uri is not None:
                yield name, uri, [], None
        elif name == "JSONRequest":
            yield name, "/", [["content-type", "application/json"]], '{"test": true, "%s": "%s"}' % (key, js_unicode(e))
        elif name == "JSONBody":
            yield name, "/", [["content-type", "application/json"]], e
        elif name in ("Header", "UserAgent"):
            # Go refuses a header value holding a line break or a control byte.
            if not any(ord(c) < 0x20 and c != "\t" or ord(c) == 0x7F for c in e):
                yield name, "/", [["x-" + key if name == "Header" else "user-agent", e]], None
        elif name == "HTMLForm":
            yield name, "/", [["content-type", "application/x-www-form-urlencoded"]], key + "=" + e
        elif name == "HTMLMultipartForm":
            boundary = random_hex("boundary", e) * 3
            b = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{key}\"\r\n\r\n" + e
                 + f"\r\n--{boundary}--\r\n")
            yield name, "/", [["content-type", "multipart/form-data; boundary=" + boundary]], b
        elif name == "SOAPBody":
            b = SOAP_WRAPPER.format("ab" + key, gtw_encode("XMLEntity", e))
            hs = [["soapaction", '"http://schemas.xmlsoap.org/soap/actor/next"'], ["content-type", "text/xml"]]
            yield name, "/", hs, b
        elif name == "XMLBody":
            yield name, "/", [["content-type", "application/xml"]], e
        elif name == "RequestBody":
            yield name, "/", [], e
        elif name == "RawRequest":
            conf = ph[name] or {}
            uri = go_request_uri(str(conf.get("path", "/")).lstrip("/").replace("{{payload}}", go_path_escape(e)))
            if uri is None:
                continue
            hs = [[k.lower(), str(v).replace("{{payload}}", e)] for k, v in (conf.get("headers") or {}).items()]
            body = conf.get("body")
            yield name, uri, hs, (str(body).replace("{{payload}}", e) if body else None)


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
        encoders = doc.get("encoder") or doc.get("encoders") or []
        for p in doc.get("payload", []):
            p = str(p)
            # Each encoder's output in each placeholder, as GoTestWAF sends
            # them; `Base64Flat` (raw `+` and `/` in a URL) is reported as a
            # source of its own, split by the payload with the plain cases.
            for enc in encoders or ["Plain"]:
                if cls == "benign" and enc.startswith("Base64"):
                    continue
                src = "gotestwaf-b64" if enc.startswith("Base64") else "gotestwaf"
                for name, target, hs, body in placements(gtw_encode(enc, p), p, phs):
                    add(src, cls, p, target, hs, body, split_as="gotestwaf")


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


# html5sec's test page (MarioXSSVectors.txt): every vector wrapped in
# `<div id="N">...</div>`, several on one line or one over several lines.
HTML5SEC_VECTOR = re.compile(r'<div id="\d+">')


def html5sec_vectors(text):
    """The vectors of a file laid out as html5sec's test page, each whole
    (its line breaks kept), without the `<div id="N">` wrapper; None for a
    file of another layout (one payload a line)."""
    starts = [m.start() for m in HTML5SEC_VECTOR.finditer(text)]
    if len(starts) < 10 or text.lstrip()[:8] != '<div id=':
        return None
    out = []
    for a, b in zip(starts, starts[1:] + [len(text)]):
        v = text[a:b].strip()
        v = v[HTML5SEC_VECTOR.match(v).end():]
        out.append(v[:-len("</div>")] if v.endswith("</div>") else v)
    return out


def fuzz_byte(line):
    """A list line of at most two characters, neither a letter nor a digit
    once URL-decoded (`(`, `|`, `//`, `%0a`): a byte the list probes a
    parser with, not an injection (LDAP_FUZZ, the command-injection lists)."""
    d = urllib.parse.unquote(line).strip()
    return len(d) <= 2 and not any(c.isalnum() for c in d)


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
        for l in html5sec_vectors(text) or lines(text):
            if l in seen or fuzz_byte(l):
                continue
            seen.add(l)
            if cls == "traversal" and not l.startswith(("http", "php", "file", "data", "expect")):
                add("patt", cls, l, "/download?file=" + raw_query(l))
            else:
                add("patt", cls, l, "/search?q=" + raw_query(l))


# --- Benign requests from public OpenAPI specs ------------------------------
# (source, repository, spec files): each file is one spec (its `$ref`s to
# other files of the repository are followed). docs/signatures.md lists them
# with their counts; ci/corpora.sh's header names the repositories.
SPECS = [
    ("openapi-twilio", "twilio+twilio-oai", "spec/json/*.json"),
    ("openapi-box", "box+box-openapi", "openapi.json"),
    ("openapi-slack", "slackapi+slack-api-specs", "web-api/slack_web_openapi_v2.json"),
    ("openapi-pagerduty", "PagerDuty+api-schema", "reference/REST/openapiv3.json"),
    ("openapi-hellosign", "hellosign+hellosign-openapi", "openapi.yaml"),
    ("openapi-asana", "Asana+openapi", "defs/asana_oas.yaml"),
    ("openapi-openai", "openai+openai-openapi", "openapi.json"),
    ("openapi-discord", "discord+discord-api-spec", "specs/openapi.json"),
    ("openapi-plaid", "plaid+plaid-openapi", "2020-09-14.yml"),
    ("openapi-adyen", "Adyen+adyen-openapi", "json/CheckoutService-v72.json json/ManagementService-v3.json "
     "json/LegalEntityService-v4.json json/BalancePlatformService-v2.json json/TransferService-v4.json"),
    ("openapi-sendgrid", "sendgrid+sendgrid-oai", "oai.json"),
    ("openapi-netlify", "netlify+open-api", "swagger.yml"),
    ("openapi-docusign", "docusign+OpenAPI-Specifications", "esignature.rest.swagger-v2.json "
     "rooms.rest.swagger-v2.json admin.rest.swagger-v2.1.json"),
    ("openapi-webex", "webex+webex-openapi-specs", "public-spec/webex-messaging.json public-spec/webex-meeting.json "
     "public-spec/webex-admin.json public-spec/webex-device.json"),
    ("openapi-okta", "okta+okta-management-openapi-spec", "dist/current/management-oneOfInheritance.yaml "
     "dist/current/oauth-oneOfInheritance.yaml dist/current/idp-oneOfInheritance.yaml"),
    ("openapi-digitalocean", "digitalocean+openapi", "specification/DigitalOcean-public.v2.yaml"),
    ("openapi-apideck", "apideck-libraries+openapi-specs", "crm.yml accounting.yml hris.yml ats.yml ecommerce.yml "
     "issue-tracking.yml customer-support.yml file-storage.yml"),
    ("openapi-intercom", "intercom+Intercom-OpenAPI", "descriptions/2.16/api.intercom.io.yaml"),
]
PER_SOURCE, CAP = 1500, 1800


def spec_files(repo, pattern):
    out = []
    listing = None
    for p in pattern.split():
        if "*" in p:
            listing = listing if listing is not None else files(repo)
            rx = re.compile("^" + re.escape(p).replace(r"\*", "[^/]*") + "$")
            out += [f for f in listing if rx.match(f)]
        else:
            out.append(p)
    return out


def openapi_sources():
    for src, repo, pattern in SPECS:
        if not os.path.isdir(os.path.join(MIRRORS, repo)):
            continue
        present = set(files(repo))
        paths = [p for p in spec_files(repo, pattern) if p in present]
        rng = random.Random(f"{src}:7")
        reqs = []
        per = max(1, PER_SOURCE // max(1, len(paths)))
        for p in paths:
            spec = openapi_gen.Spec(lambda f, repo=repo: show(repo, f), present.__contains__, p)
            reqs += openapi_gen.generate(spec, rng, per_source=per, cap=per + per // 4)
        rng.shuffle(reqs)
        for method, target, headers, body in reqs[:CAP]:
            add(src, "benign", f"{method} {target} {body}", target, headers, body)


def hard_benign_source():
    for target, headers, body in hard_benign.generate(random.Random("hard-benign:7")):
        add("hard-benign", "benign", f"{target} {body}", target, headers, body)


# --- Benign GoTestWAF-style texts and hard benign fields --------------------
def main():
    for name, fn in [("libinjection", libinjection), ("gotestwaf", gotestwaf), ("crs", crs), ("patt", patt)]:
        if os.path.isdir(os.path.join(MIRRORS, {"libinjection": "client9+libinjection", "gotestwaf": "wallarm+gotestwaf",
                                                 "crs": "coreruleset+coreruleset", "patt": "swisskyrepo+PayloadsAllTheThings"}[name])):
            fn()
    openapi_sources()
    hard_benign_source()
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "cases.jsonl"), "w") as fh:
        for c in cases:
            fh.write(json.dumps(c, ensure_ascii=False) + "\n")
    with open(os.path.join(OUT, "counts.json"), "w") as fh:
        json.dump({f"{s}/{c}": n for (s, c), n in sorted(counts.items())}, fh, indent=1)
    for (s, c), n in sorted(counts.items()):
        print(f"{s:18s} {c:14s} {n:6d}")


main()
