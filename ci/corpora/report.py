#!/usr/bin/env python3
"""Tables for docs/signatures.md from OUT/cases.jsonl and OUT/verdicts.jsonl,
and libinjection (the `libinjection-python` package, if importable) as an
oracle: its SQLi/XSS verdict on every decoded argument and body value of the
same requests, agreement both ways on the held-back half.

The oracle is run twice. *As the application reads it*: query and form
values decoded once, JSON strings unescaped, other bodies whole. *As our
inspection reads it*: each of those values also with its percent-escapes
undone until none is left (at most 4 passes, as `normalize.rs` does) and,
when it is written in the base64 alphabet and carries text, that text
(`fields::base64_text`): GoTestWAF's `JSONRequest` places its `URL`-encoded
payload in a JSON string (`"\\u0025\\u0033\\u0043..."` is `%3C...` once
unescaped), and its `Base64Flat` cases carry the payload in base64; both
readings give libinjection what our detectors are given."""
import base64
import binascii
import json
import re
import sys
import urllib.parse
from collections import defaultdict

OUT = sys.argv[1]
try:
    import libinjection
except ImportError:
    libinjection = None

cases = [json.loads(l) for l in open(f"{OUT}/cases.jsonl")]
verdicts = [json.loads(l) for l in open(f"{OUT}/verdicts.jsonl")]


def values(c):
    """What an application would read: decoded query and body values."""
    t = c["target"]
    out = []
    if "?" in t:
        out += [v for _, v in urllib.parse.parse_qsl(t.split("?", 1)[1], keep_blank_values=True)]
    out.append(urllib.parse.unquote(t.split("?", 1)[0]))
    body = c.get("body")
    ct = dict((h[0], h[1]) for h in c["headers"]).get("content-type", "")
    if body:
        if "json" in ct:
            try:
                stack = [json.loads(body)]
                while stack:
                    x = stack.pop()
                    if isinstance(x, dict):
                        stack += list(x.values())
                    elif isinstance(x, list):
                        stack += x
                    elif isinstance(x, str):
                        out.append(x)
            except ValueError:
                out.append(body)
        elif "urlencoded" in ct or ("=" in body[:64] and not ct):
            out += [v for _, v in urllib.parse.parse_qsl(body, keep_blank_values=True)]
        else:
            out.append(body)
    out += [h[1] for h in c["headers"] if h[0] not in ("user-agent", "accept", "content-type")]
    return out


BASE64 = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")


def inspected(v):
    """The forms of a value our inspection reads besides the value itself:
    percent-escapes undone (repeated, at most 4 passes) and the text a
    base64 value carries (printable ASCII and whitespace only)."""
    out = []
    w = v
    for _ in range(4):
        u = urllib.parse.unquote(w)
        if u == w:
            break
        w = u
    if w != v:
        out.append(w)
    for x in (v, w):
        if BASE64.fullmatch(x):
            b = x.rstrip("=").replace("-", "+").replace("_", "/")
            try:
                t = base64.b64decode(b + "=" * (-len(b) % 4)).decode("ascii")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                continue
            if t and all(ch.isprintable() or ch in "\t\r\n" for ch in t):
                out.append(t)
    return out


def li(c, kind, decoded=True):
    vs = values(c)
    if decoded:
        vs = vs + [w for v in vs for w in inspected(v)]
    for v in vs:
        if kind == "sqli" and libinjection.is_sql_injection(v)["is_sqli"]:
            return True
        if kind == "xss" and libinjection.is_xss(v)["is_xss"]:
            return True
    return False


held = defaultdict(lambda: [0, 0])
total_benign = [0, 0]
for c, v in zip(cases, verdicts):
    if c["half"] != "held":
        continue
    k = (c["class"], c["src"])
    held[k][0] += 1
    held[k][1] += v["flagged"]
    if c["class"] == "benign":
        total_benign[0] += 1
        total_benign[1] += v["flagged"]

print("## Held-back half: flagged per class and source\n")
print("| class | source | cases | flagged | rate |\n|---|---|---:|---:|---:|")
by_class = defaultdict(lambda: [0, 0])
for (cls, src), (n, f) in sorted(held.items()):
    print(f"| {cls} | {src} | {n} | {f} | {100 * f / n:.1f} % |")
    by_class[cls][0] += n
    by_class[cls][1] += f
print("\n| class (all sources) | cases | flagged | rate |\n|---|---:|---:|---:|")
for cls, (n, f) in sorted(by_class.items()):
    print(f"| {cls} | {n} | {f} | {100 * f / n:.2f} % |")

# Benign requests flagged, per class found (a request may count in several):
# the target is <= 0.1 % per class and in total.
benign_by_class = defaultdict(int)
for c, v in zip(cases, verdicts):
    if c["half"] == "held" and c["class"] == "benign":
        for k in v.get("classes", []):
            benign_by_class[k] += 1
print("\n| benign flagged as (held back) | requests | rate |\n|---|---:|---:|")
for k, n in sorted(benign_by_class.items(), key=lambda x: -x[1]):
    print(f"| {k} | {n} | {100 * n / max(1, total_benign[0]):.2f} % |")
print(f"| any | {total_benign[1]} | {100 * total_benign[1] / max(1, total_benign[0]):.2f} % |")

if libinjection is None:
    print("\n(libinjection not importable: pip install libinjection-python)")
    sys.exit(0)

for decoded in (False, True):
    reading = "as our inspection reads it" if decoded else "as the application reads it"
    print(f"\n## libinjection as an oracle (held-back half, {reading})\n")
    print("| set | cases | ours | libinjection | both | only ours | only libinjection |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind in ("sqli", "xss"):
        for label in (kind, "benign"):
            n = ours = lib = both = 0
            only_lib = []
            for c, v in zip(cases, verdicts):
                if c["class"] != label:
                    continue
                a, b = v["flagged"], li(c, kind, decoded)
                if c["half"] != "held":
                    # Candidates to look at come from the tuning half only: the
                    # held-back half is what the table reports, never read.
                    if b and not a:
                        only_lib.append(c["payload"])
                    continue
                n += 1
                ours += a
                lib += b
                both += a and b
            name = f"{kind} attacks" if label == kind else f"benign, libinjection {kind}"
            print(f"| {name} | {n} | {ours} | {lib} | {both} | {ours - both} | {lib - both} |")
            if decoded:
                with open(f"{OUT}/only-libinjection-{kind}-{label}.txt", "w") as fh:
                    fh.write("\n".join(only_lib))
