#!/usr/bin/env python3
"""Hot-code footprint of a request, from a callgrind dump.

    ci/code_footprint.py DUMP REQUESTS [--min 0.3] [--top 15]

DUMP is a callgrind output file written with `--dump-instr=yes` (for
example `BENCH_CALLGRIND_OPTS="--dump-instr=yes" ci/bench.sh callgrind`,
then target/bench/B1/callgrind.out.1), REQUESTS the number of requests
the dump counts (BENCH_CALLGRIND_REQUESTS, 10,000 by default).

A 64-byte code line is *hot* when some instruction in it ran at least
MIN times a request (0.3 by default: code that most requests run). The
report gives, per object (the nginx binary, the module, libc ...), the
hot lines and their size in KiB, and the functions of the module that
hold the most hot lines, with their own instructions a request. Set
beside the CPU's L1 instruction cache (`lscpu`), the sum tells whether a
request's code fits: this is the figure behind docs/performance.md's
"Where the capacity goes", repeatable like the instruction count.

Reads both compressed and uncompressed dumps (callgrind's default
`--compress-strings=yes --compress-pos=yes`, and `=no`). The cost lines
that follow `calls=` lines are a call's inclusive cost, not code run at
that address, and are left out.
"""

import argparse
import collections
import re
import sys

LINE = 64
NAME = re.compile(r"^\((\d+)\)(?: (.*))?$")


def parse(path):
    """Yield (object, function, address, Ir) for every instruction cost line."""
    # Compressed names: one table per kind, shared by ob= and cob=, by fn=
    # and cfn=, and by the file keys.
    names = {}  # (kind, id) -> name
    positions = ["line"]
    instr = ir_at = None  # columns of the address and of Ir
    ob = fn = "?"
    last = []  # last absolute position values, for relative positions
    skip_next = False

    def name(kind, value):
        m = NAME.match(value)
        if not m:
            return value
        key = (kind, m.group(1))
        if m.group(2) is not None:
            names[key] = m.group(2)
        return names.get(key, value)

    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not line:
                continue
            if line[0].isdigit() or line[0] in "+-*":
                fields = line.split()
                npos = len(positions)
                pos = []
                for i, v in enumerate(fields[:npos]):
                    prev = last[i] if i < len(last) else 0
                    if v == "*":
                        pos.append(prev)
                    elif v[0] in "+-":
                        pos.append(prev + int(v, 0))
                    else:
                        pos.append(int(v, 0))
                last = pos
                if skip_next:
                    skip_next = False
                    continue
                costs = fields[npos:]
                if instr is None or ir_at is None or len(costs) <= ir_at:
                    continue  # no address column, or no Ir on this line (0)
                yield ob, fn, pos[instr], int(costs[ir_at])
                continue
            key, _, value = line.partition("=")
            if key == "ob":
                ob = name("ob", value)
            elif key == "fn":
                fn = name("fn", value)
            elif key == "cob":
                name("ob", value)
            elif key == "cfn":
                name("fn", value)
            elif key in ("fl", "fi", "fe", "cfi", "cfl"):
                name("fl", value)
            elif key == "calls":
                skip_next = True
            elif line.startswith("positions:"):
                positions = line.split(":", 1)[1].split()
                instr = positions.index("instr") if "instr" in positions else None
            elif line.startswith("events:"):
                events = line.split(":", 1)[1].split()
                ir_at = events.index("Ir") if "Ir" in events else None


def hot_lines(dump, requests, least):
    """The hot (object, line) keys; hot lines per object and per (object,
    function); self Ir per (object, function)."""
    line_runs = collections.defaultdict(int)  # (ob, line) -> max Ir of an instruction in it
    line_fn = {}
    self_ir = collections.Counter()
    seen = False
    for ob, fn, addr, ir in parse(dump):
        seen = True
        key = (ob, addr // LINE)
        if ir > line_runs[key]:
            line_runs[key] = ir
            line_fn[key] = fn
        self_ir[(ob, fn)] += ir
    if not seen:
        sys.exit(f"{dump}: no instruction positions (was callgrind run with --dump-instr=yes?)")
    hot = {key for key, runs in line_runs.items() if runs >= least * requests}
    per_ob = collections.Counter(key[0] for key in hot)
    per_fn = collections.Counter((key[0], line_fn[key]) for key in hot)
    return hot, per_ob, per_fn, self_ir


# A dump in callgrind's compressed form: names given once by number, then
# referred to by it; positions relative to the line before; a call's cost
# line (after calls=) at an address of its own.
SELF_TEST = """version: 1
positions: instr line
events: Ir Dr
ob=(1) /usr/sbin/nginx
fl=(1) a.c
fn=(1) ngx_hot
0x1000 10 100 7
+4 * 100
+60 * 100
calls=100 0x9000 5
+200 * 999999
-96 * 100
fn=(2) ngx_cold
0x2000 1 20
ob=(2) /x/libngx_http_api_abuse_module.so
cob=(1)
fn=(3) ngx_http_api_abuse_module::f
0x7000 3 50
+64 3 50
ob=(1)
fn=(1)
0x1008 10 100
"""


def self_test():
    import os
    import tempfile

    fd, path = tempfile.mkstemp(suffix=".callgrind")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(SELF_TEST)
        hot, per_ob, per_fn, self_ir = hot_lines(path, 100, 0.3)
    finally:
        os.unlink(path)
    nginx, module = "/usr/sbin/nginx", "/x/libngx_http_api_abuse_module.so"
    # nginx: lines 0x40 (0x1000-0x1008), 0x41 (0x1044) and 0x42 (0x10a8,
    # after the call's cost line at 0x1144, which is left out); ngx_cold
    # ran 0.2 times a request: not hot.
    assert {line for ob, line in hot if ob == nginx} == {0x40, 0x41, 0x42}, hot
    assert {line for ob, line in hot if ob == module} == {0x1C0, 0x1C1}, hot
    assert per_ob == {nginx: 3, module: 2}, per_ob
    assert per_fn[(nginx, "ngx_hot")] == 3, per_fn
    assert self_ir[(nginx, "ngx_hot")] == 500, self_ir
    assert self_ir[(module, "ngx_http_api_abuse_module::f")] == 100, self_ir
    print("ci/code_footprint.py: self-test passed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dump", nargs="?")
    ap.add_argument("requests", type=int, nargs="?")
    ap.add_argument("--self-test", action="store_true", help="parse a built-in dump and check the counts")
    ap.add_argument("--min", type=float, default=0.3, help="runs a request that make a line hot")
    ap.add_argument("--top", type=int, default=15, help="module functions to list")
    ap.add_argument("--module", default="ngx_http_api_abuse_module", help="object name of the module")
    a = ap.parse_args()
    if a.self_test:
        self_test()
        return
    if a.dump is None or a.requests is None:
        ap.error("DUMP and REQUESTS are required")
    if a.requests <= 0:
        sys.exit("REQUESTS must be positive")
    _, per_ob, per_fn, self_ir = hot_lines(a.dump, a.requests, a.min)

    def short(ob):
        return ob.rsplit("/", 1)[-1]

    total = sum(per_ob.values())
    print(f"hot code lines (64 B, run >= {a.min} times a request, {a.requests} requests):")
    for ob, n in per_ob.most_common():
        print(f"  {n:6d} lines {n * LINE / 1024:7.1f} KiB  {short(ob)}")
    print(f"  {total:6d} lines {total * LINE / 1024:7.1f} KiB  in all")
    mod = [(k, n) for k, n in per_fn.most_common() if a.module in short(k[0])]
    if mod:
        print("module functions by hot lines (self instructions a request):")
        for (ob, fn), n in mod[: a.top]:
            print(f"  {n:5d}  {self_ir[(ob, fn)] / a.requests:9.1f}  {fn}")


if __name__ == "__main__":
    main()
