#!/usr/bin/env bash
# Runs abuse-sim against a private copy of the demo: the demo shop and nginx
# with the module (2 workers, nginx-conf/nginx.conf) on free loopback ports,
# a fresh zone, its own copy of nginx-conf/profiles.toml. Every argument goes
# to abuse-sim (--target and --profiles are set here).
#
#   tools/sim-nginx.sh [--release|--debug] ABUSE-SIM-OPTIONS...
#
# Default: the release module (cargo build --release). Everything lives in
# target/sim-<pid>/ and is removed at the end, unless SIM_KEEP=1; nginx and
# the shop are stopped by their own pids on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=release
case "${1:-}" in --release) shift ;; --debug) PROFILE=debug; shift ;; esac
if [ "$PROFILE" = release ]; then cargo build --release -q; else cargo build -q; fi
cargo build --release -q --manifest-path tools/Cargo.toml
NGINX=$(ls -t target/"$PROFILE"/build/nginx-sys-*/out/objs/nginx | head -1)
REPO=$PWD
W=$PWD/target/sim-$$
mkdir -p "$W"/{conf,logs,state,tmp}
chmod -R a+rwX "$W"
# Two free ports below the kernel's ephemeral range (32768 and up): a port
# picked by bind(0) is in that range, where another process's outgoing
# connection can take it before the shop listens (seen on the shared
# machine: every answer then a 502).
read -r PORT SHOP < <(python3 -c 'import random, socket
out = []
while len(out) < 2:
    p = random.randrange(20000, 32000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); out.append(p)
    except OSError:
        pass
    finally:
        s.close()
print(*out)')
cp nginx-conf/profiles.toml "$W/conf/profiles.toml"
head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n" > "$W/conf/api-tokens"; chmod 600 "$W/conf/api-tokens"
sed -e "s#@MODULE@#$REPO/target/$PROFILE/libngx_http_api_abuse_module.so#" \
    -e "s#@REPO@/nginx-conf/profiles.toml#$W/conf/profiles.toml#" \
    -e "s#@REPO@#$REPO#g" -e "s#@SHOP@#127.0.0.1:$SHOP#" -e "s#@TOKENS@#$W/conf/api-tokens#" \
    -e "s#listen 127.0.0.1:8080#listen 127.0.0.1:$PORT#" \
    nginx-conf/nginx.conf > "$W/conf/nginx.conf"
tools/target/release/demo-shop --listen "127.0.0.1:$SHOP" --static "$REPO/nginx-conf/demo/static" \
    > "$W/logs/shop.log" 2>&1 &
SHOP_PID=$!
cleanup() {
    "$NGINX" -p "$W" -c conf/nginx.conf -s stop 2>/dev/null || true
    kill "$SHOP_PID" 2>/dev/null || true
    [ "${SIM_KEEP:-0}" = 1 ] && echo "kept $W" >&2 || rm -rf "$W"
}
trap cleanup EXIT
"$NGINX" -p "$W" -c conf/nginx.conf
for _ in $(seq 50); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/health" && break; sleep 0.2; done
if ! curl -fs -o /dev/null "http://127.0.0.1:$PORT/health"; then
    echo "sim-nginx: the demo shop or nginx is not answering /health with 200:" >&2
    cat "$W/logs/shop.log" >&2
    exit 1
fi
tools/target/release/abuse-sim --target "http://127.0.0.1:$PORT" --profiles "$W/conf/profiles.toml" "$@"
if grep -E '\[(alert|emerg|crit)\]' "$W/logs/error.log"; then echo "nginx logged alerts" >&2; exit 1; fi
