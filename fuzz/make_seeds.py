#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/<target>/ (small, readable inputs
in each target's format). Seeds only: the fuzzers grow their own corpora
in fuzz/corpus/<target>/ while they run; ci/fuzz.sh keeps what they find
out of git (fuzz/.gitignore) except these seeds."""
import os, random

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SIG = os.path.join(ROOT, "tests", "corpus", "signatures")
random.seed(8)


def corpus_samples(per_class=6):
    out = []
    for name in sorted(os.listdir(SIG)):
        rows = []
        for line in open(os.path.join(SIG, name), encoding="utf-8", errors="replace"):
            line = line.rstrip("\n")
            if not line or line.startswith("#") or "\t" not in line:
                continue
            loc, data = line.split("\t", 1)
            rows.append((loc, data))
        out += random.sample(rows, min(per_class, len(rows)))
    return out


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


samples = corpus_samples()
SCANNERS = 14
for i, (loc, data) in enumerate(samples):
    raw = data.encode()
    write("normalize", f"{i:03}", bytes([i % 4]) + raw)
    write("scanners", f"{i:03}", bytes([(i % SCANNERS) | (0x40 if loc in ("arg", "form") else 0) | (0x80 if loc == "json" else 0)]) + raw)
    if loc == "target":
        req = f"{data}\nuser-agent: Mozilla/5.0\n"
    elif loc == "arg":
        req = f"/search?q={data}\n"
    elif loc == "cookie":
        req = f"/\ncookie: session={data}\n"
    elif loc.startswith("header:"):
        req = f"/\n{loc[7:]}: {data}\n"
    elif loc in ("json", "form", "xml"):
        ct = {"json": "application/json", "form": "application/x-www-form-urlencoded", "xml": "application/xml"}[loc]
        req = f"/api/items\ncontent-type: {ct}\n\n{data}"
    else:
        req = data
    write("inspect", f"{i:03}", req)

bodies = [
    (0, "", "a=1&b=%27%20OR%201%3D1--&user[$ne]=x&bare"),
    (1, "", "session=abc; theme=dark; q=<script>alert(1)</script>"),
    (2, "application/json", '{"user":"demo","$where":"sleep(1)","list":["a\\"b",{"k":"v"}],"n":1}'),
    (3, "multipart/form-data; boundary=XyZ", '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\nhello\r\n--XyZ\r\nContent-Disposition: form-data; name="f"; filename="../../etc/passwd"\r\n\r\nbinary\r\n--XyZ--\r\n'),
    (4, "application/xml", '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r><a>text &x;</a><![CDATA[<b>cdata</b>]]></r>'),
    (5, "text/plain", "just some text\r\nSet-Cookie: x=1"),
    (0x32, "application/json", '{"a":"1","b":"2","c":"3","d":"4"}'),
]
for i, (which, ct, body) in enumerate(bodies):
    write("body", f"{i:03}", bytes([which]) + f"{ct}\n{body}".encode())

headers = [
    "user-agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\naccept: text/html\naccept-language: en\naccept-encoding: gzip\nsec-fetch-mode: navigate\ncookie: a=1",
    "user-agent: sqlmap/1.7.2#stable (https://sqlmap.org)\naccept: */*",
    "user-agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)\nconnection: close",
    "user-agent: python-requests/2.31.0\nx-forwarded-for: 127.0.0.1\nreferer: http://169.254.169.254/latest/meta-data/",
    "user-agent: Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/119.0.0.0 Safari/537.36\nx-api-version: ${jndi:ldap://x/a}",
    "",
    "user-agent:\ncookie: ;;=;\n: empty name",
]
for i, h in enumerate(headers):
    write("headers", f"{i:03}", h)

sessions = [
    "\n".join(f"POST /login 401 200 7 python-requests/2.31" for _ in range(30)),
    "\n".join(f"GET /users/{n}/orders 403 150 7 curl/8.0" for n in range(1000, 1030)),
    "\n".join(f"GET /products?page={n} 200 90 0 Mozilla/5.0 (compatible; Googlebot/2.1)" for n in range(40)),
    "\n".join(f"GET /{p} 404 50 0 Nikto/2.5.0" for p in ["admin", ".env", "wp-login.php", ".git/config", "phpinfo.php", "server-status"] * 5),
    "GET / 200 1200 7fff Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0\nGET /app.css 200 30 7fff Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0\nGET /products/42 200 4000 7fff Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0\nPOST /cart/add 200 2500 7fff Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
    "GET /users/550e8400-e29b-41d4-a716-446655440000/a.json 200 1 400000000 x\nGET //a//b/../c/%2e%2e/ 200 18446744073709551615 ffffffffffffffff",
]
for i, s in enumerate(sessions):
    write("request_view", f"{i:03}", s)

profiles = [open(os.path.join(ROOT, "nginx-conf", "profiles.toml")).read(),
'''[lists]
deny = ["192.0.2.10", "198.51.100.0/24", "2001:db8:bad::/48", { addr = "192.0.2.77", expires = "2026-12-31T00:00:00Z", comment = "manual" }]
gray = ["203.0.113.0/24"]
allow = ["10.1.2.3"]

[exceptions]
addrs = ["192.0.2.200", "10.0.0.0/8"]
countries = ["NL"]

[[profile]]
name = "shop"
applications = ["shop"]
tolerance = "low"
bot_types = ["scraping", "credential_stuffing"]
reaction = "graylist"
duration = "forever"
  [[profile.sensitive]]
  method = "POST"
  path = "/login"
  kind = "auth"
''',
'''[[profile]]
name = "a\\"b\\u0001"
duration = "7d"
[[profile]]
name = "second"
enabled = false
''',
]
for i, p in enumerate(profiles):
    write("profiles", f"{i:03}", p)

api = [
    b"\x08addr=192.0.2.1&list=deny&duration=1h\naddr=2001:db8::1&list=gray\naddr=192.0.2.1",
    b"\x09addr=10.0.0.1&list=allow&duration=forever\naddr=%31%30.0.0.1\nlist=deny",
    b"\x48addr=::ffff:1.2.3.4&list=deny&duration=30m\naddr=1.2.3.4&list=nope\n",
    b"\x00",
]
for i, a in enumerate(api):
    write("api", f"{i:03}", a)
