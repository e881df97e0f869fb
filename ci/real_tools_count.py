#!/usr/bin/env python3
"""Counts one tool's payload requests in the access log written by
ci/real-tools.sh and how many were refused (403)."""
import json
import re
import sys
import urllib.parse

log, start, end, tool, passed_out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
# The values the site itself offers in its links and forms, and what tools
# fill empty fields with: a request holding only these carries no payload.
OFFERED = {"test", "1", "readme.txt", "alice", "hello", "example.com", "", "default", "on", "submit",
           "Hi there!"}

payload = refused = 0
passed = []
with open(log) as fh:
    lines = fh.readlines()[start:end]
for line in lines:
    r = json.loads(line)
    uri = r["uri"]
    query = uri.split("?", 1)[1] if "?" in uri else ""
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    body = r["body"] if r["method"] == "POST" else ""
    pairs += urllib.parse.parse_qsl(body, keep_blank_values=True)
    # A payload needs something beyond letters and digits (a random number
    # or word the tool puts in to compare answers carries none).
    if not any(v not in OFFERED and re.search(r"[^A-Za-z0-9 _.,-]", v) for _, v in pairs):
        continue
    payload += 1
    if r["status"] == 403:
        refused += 1
    else:
        passed.append(f"{r['status']} {r['method']} {uri} {body}")
with open(passed_out, "w") as fh:
    fh.write("\n".join(passed) + "\n")
rate = 100 * refused / payload if payload else 0
print(f"{tool}: {len(lines)} requests, {payload} with a payload, {refused} refused ({rate:.1f} %); not refused: {passed_out}")
