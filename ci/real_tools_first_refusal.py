#!/usr/bin/env python3
"""Requests a concurrent tool got through before the module refused it.

    real_tools_first_refusal.py ACCESS_LOG CLIENT TOOL

ACCESS_LOG holds one JSON line per request (ci/real-tools.sh's `first`
format: client, status, action, msec, request_time). For CLIENT's requests,
ordered by when they started (msec - request_time), prints: requests in
all, the start-order number of the first refused one, how many were
answered by the site (not refused) before it started, and in all (requests
already in flight when the client was listed finish after it)."""
import json
import sys


def main():
    path, client, tool = sys.argv[1:4]
    reqs = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("client") != client:
                continue
            start = float(r["msec"]) - float(r["request_time"] or 0)
            reqs.append((start, r["action"] == "block", int(r["status"])))
    reqs.sort()
    first = next((i for i, (_, refused, _) in enumerate(reqs) if refused), None)
    passed = sum(1 for _, refused, _ in reqs if not refused)
    before = passed if first is None else sum(1 for _, refused, _ in reqs[:first] if not refused)
    statuses = {}
    for _, refused, status in reqs:
        if not refused:
            statuses[status] = statuses.get(status, 0) + 1
    top = ", ".join(f"{n} x {s}" for s, n in sorted(statuses.items(), key=lambda x: -x[1])[:3])
    print(
        f"{tool:<24} client {client:<12} requests {len(reqs):>5}  "
        f"first refused: #{'-' if first is None else first + 1:<4} "
        f"passed before it: {before:>4}  passed in all: {passed:>4}  ({top})"
    )


if __name__ == "__main__":
    main()
