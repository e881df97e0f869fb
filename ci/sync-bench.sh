#!/usr/bin/env bash
# api_abuse_sync figures for docs/fleet.md (bounded, niced; about 2 minutes):
#  1. propagation of 1,000 changes between two nginx nodes, Redis killed and
#     restarted at change 500 (p50/p90/p99/max, none lost);
#  2. a node started fresh loading 1,000,000 entries from Redis, and Redis'
#     memory for them;
#  3. the CPU cost of that load in a release build (decode + apply);
#  4. changes per second one Redis sustains through the module's own Lua
#     compare-and-set (GET + SET PX + PUBLISH), with 0 and 100 subscribers.
set -euo pipefail
cd "$(dirname "$0")/.."
./ci/deps.sh >/dev/null

nice -n 10 cargo test --test nginx bench_ -- --ignored --nocapture --test-threads 1 2>&1 \
  | grep -oE "BENCH.*|test result.*|panicked.*"

# the CPU side of a full load, in a release build, without Redis
nice -n 10 cargo test --release --no-default-features --lib apply_a_million -- --ignored --nocapture 2>&1 \
  | grep -oE "BENCH.*|test result.*|panicked.*"

dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --daemonize no --dir "$dir" >"$dir/log" 2>&1 &
rpid=$!
subs=()
cleanup() {
  for p in "${subs[@]}"; do kill "$p" 2>/dev/null || true; done
  kill "$rpid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
sha=$(redis-cli -p "$port" script load "$(cat src/sync/set_if_newer.lua)")
entry='{"addr":"10.0.0.1","list":"deny","origin":"detection","bot_type":"scraping","confidence":80,"offences":1,"created":1764582000,"expires":1864582000,"stamp":1807330394112011,"node":"bench","instance":1}'
run() {
  nice -n 10 redis-benchmark -p "$port" -q -n 200000 -c 8 -P 16 -r 100000000 \
    evalsha "$sha" 1 "bench:entry:__rand_int__" 1807330394112011 "$entry" 3600000 bench:changes \
    | tr '\r' '\n' | grep -E "requests per second" | tail -1
}
echo "BENCH changes/s, 0 subscribers: $(run)"
for _ in $(seq 100); do
  redis-cli -p "$port" subscribe bench:changes >/dev/null &
  subs+=($!)
done
sleep 1
echo "BENCH changes/s, 100 subscribers: $(run)"
echo "BENCH redis used_memory after the runs: $(redis-cli -p "$port" info memory | grep '^used_memory_human' | tr -d '\r')"
