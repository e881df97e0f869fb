#!/usr/bin/env python3
"""Payload lists (one payload a line) through the standalone evaluator.

    python3 ci/corpora/lists.py LISTS_DIR [EVALUATOR]

LISTS_DIR holds plain-text lists copied from a public collection (session
18: SecLists' `Fuzzing/` lists, see docs/signatures.md); nothing of them is
in the repository. Each non-empty line that is not a `#` comment is sent as
`/search?q=` (escapes the list writes kept, see `encode`); a list whose name holds `WITH-CONTEXT`
keeps only its `Exploit String: ` lines; sqlmap's template marks
(`[RANDNUM]`...) are filled as sqlmap fills them. EVALUATOR defaults to the release
build of `examples/signature_eval` (build it with `cargo build --release
--no-default-features --features standalone --example signature_eval`).
Prints flagged/sent per list and writes the lines not flagged to
LISTS_DIR/../lists-misses.txt, to read, not to copy.
"""
import collections
import os
import subprocess
import sys
import urllib.parse

HEX = set(b"0123456789abcdefABCDEF")


def encode(p):
    """Escapes what would end or split the query (`&`, `#`, `+`, space,
    control and non-ASCII bytes, a `%` that opens no escape); an escape the
    list writes (`%0a`, `%27`) is sent as written, as the lists mean it."""
    b = p.encode("utf-8", "surrogateescape")
    out = []
    for i, c in enumerate(b):
        if c == 0x25 and i + 2 < len(b) + 0 and b[i + 1] in HEX and b[i + 2] in HEX:
            out.append("%")
        elif 0x21 <= c < 0x7F and chr(c) not in "&#+%":
            out.append(chr(c))
        else:
            out.append("%%%02X" % c)
    return "".join(out)


# sqlmap's templates (SecLists' `sqlmap-risk-classified`) hold the marks
# sqlmap fills before it sends them; filled here as sqlmap fills them.
SQLMAP_MARKS = [
    ("[RANDNUM1]", "5678"), ("[RANDNUM]", "1234"), ("[RANDSTR]", "qzxv"),
    ("[ORIGVALUE]", "1"), ("[SLEEPTIME]", "5"), ("[DELIMITER_START]", "qvkqq"),
    ("[DELIMITER_STOP]", "qbxpq"), ("[INFERENCE]", "1=1"), ("[QUERY]", "SELECT 1"),
    ("[GENERIC_SQL_COMMENT]", "-- -"),
]

d = sys.argv[1]
exe = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
    os.path.dirname(__file__), "..", "..", "target", "release", "examples", "signature_eval")
targets, owners = [], []
for f in sorted(os.listdir(d)):
    for raw in open(os.path.join(d, f), encoding="utf-8", errors="surrogateescape"):
        p = raw.rstrip("\n").rstrip("\r")
        if not p.strip() or p.startswith("#"):
            continue
        if "WITH-CONTEXT" in f:
            if not p.startswith("Exploit String: "):
                continue
            p = p[len("Exploit String: "):]
        for mark, value in SQLMAP_MARKS:
            p = p.replace(mark, value)
        targets.append("/search?q=" + encode(p))
        owners.append((f, p))
out = subprocess.run([exe, "-"], input="\n".join(targets) + "\n", capture_output=True,
                     text=True, check=True).stdout.splitlines()
assert len(out) == len(owners), "the evaluator answered a different number of lines"
stats = collections.defaultdict(lambda: [0, 0])
with open(os.path.join(d, "..", "lists-misses.txt"), "w") as miss:
    for (f, p), o in zip(owners, out):
        s = stats[f]
        s[0] += 1
        if o.startswith("[]"):
            miss.write(f + "\t" + p + "\n")
        else:
            s[1] += 1
print("| list | flagged | sent | rate |\n|---|---:|---:|---:|")
for f, (n, k) in sorted(stats.items()):
    print(f"| {f} | {k} | {n} | {100.0 * k / max(n, 1):.1f} % |")
