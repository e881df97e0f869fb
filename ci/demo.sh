#!/usr/bin/env bash
# Runs the demo: the module in nginx on 127.0.0.1:8080 in front of the demo
# shop on 127.0.0.1:8081.
#   ci/demo.sh          build (release) and start in the background
#   ci/demo.sh stop     stop nginx and the shop
#   ci/demo.sh reset    stop, wipe target/demo state, start
#   ci/demo.sh token    print the API token
#
# The API (http://127.0.0.1:8080/api-abuse/), the dashboard
# (http://127.0.0.1:8080/api-abuse/dashboard) and the metrics
# (http://127.0.0.1:8080/metrics) answer on loopback only. The API needs the
# bearer token in target/demo/conf/api-tokens, generated on the first start.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
. ci/target-dir.sh
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
DEMO="$REPO/target/demo"
SHOP_ADDR=127.0.0.1:8081
TOKENS="$DEMO/conf/api-tokens"

nginx_bin() {
  local out
  out=$(cargo build --release --message-format=json 2>/dev/null \
        | grep -o '"out_dir":"[^"]*nginx-sys-[^"]*"' | tail -n1 | sed 's/"out_dir":"//; s/"$//')
  if [ -n "$out" ] && [ -x "$out/objs/nginx" ]; then echo "$out/objs/nginx"; return; fi
  ls -t "$TARGET"/release/build/nginx-sys-*/out/objs/nginx 2>/dev/null | head -n1
}

stop() {
  if [ -f "$DEMO/logs/nginx.pid" ]; then
    local pid; pid=$(cat "$DEMO/logs/nginx.pid")
    kill -QUIT "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$DEMO/logs/nginx.pid"
  fi
  if [ -f "$DEMO/shop.pid" ]; then
    kill "$(cat "$DEMO/shop.pid")" 2>/dev/null || true
    rm -f "$DEMO/shop.pid"
  fi
  echo "demo stopped"
}

start() {
  ci/deps.sh
  echo "building the module and nginx (release)..."
  cargo build --release
  cargo build --release --manifest-path tools/Cargo.toml
  local nginx; nginx=$(nginx_bin)
  [ -x "$nginx" ] || { echo "nginx binary not found" >&2; exit 1; }
  mkdir -p "$DEMO"/{conf,logs,state,tmp}
  chmod 0777 "$DEMO" "$DEMO"/{logs,state,tmp}
  if [ ! -s "$TOKENS" ]; then
    # 32 random bytes, hex; nginx's master reads the file at start, so it
    # stays private to its owner
    (umask 077; od -An -N32 -tx1 /dev/urandom | tr -d ' \n' > "$TOKENS"; echo >> "$TOKENS")
  fi
  chmod 0600 "$TOKENS"
  sed -e "s#@MODULE@#$TARGET/release/libngx_http_api_abuse_module.so#" \
      -e "s#@REPO@#$REPO#g" -e "s#@SHOP@#$SHOP_ADDR#" -e "s#@TOKENS@#$TOKENS#" \
      nginx-conf/nginx.conf > "$DEMO/conf/nginx.conf"
  if [ ! -f "$DEMO/shop.pid" ] || ! kill -0 "$(cat "$DEMO/shop.pid")" 2>/dev/null; then
    nohup "${CARGO_TARGET_DIR:-tools/target}"/release/demo-shop --listen "$SHOP_ADDR" --static "$REPO/nginx-conf/demo/static" \
      > "$DEMO/logs/shop.log" 2>&1 &
    echo $! > "$DEMO/shop.pid"
  fi
  "$nginx" -p "$DEMO" -c conf/nginx.conf -t
  if [ -f "$DEMO/logs/nginx.pid" ] && kill -0 "$(cat "$DEMO/logs/nginx.pid")" 2>/dev/null; then
    "$nginx" -p "$DEMO" -c conf/nginx.conf -s reload
  else
    "$nginx" -p "$DEMO" -c conf/nginx.conf
  fi
  for _ in $(seq 100); do
    if curl -fs -o /dev/null http://127.0.0.1:8080/ 2>/dev/null; then
      local token; token=$(head -n1 "$TOKENS")
      echo "demo running (nginx: $nginx, runtime files: $DEMO)"
      echo "  shop:       http://127.0.0.1:8080/"
      echo "  dashboard:  http://127.0.0.1:8080/api-abuse/dashboard   (paste the API token at the top right)"
      echo "  API:        http://127.0.0.1:8080/api-abuse/            (curl -H \"Authorization: Bearer \$TOKEN\" ...)"
      echo "  metrics:    http://127.0.0.1:8080/metrics"
      echo "  API token:  $token"
      echo "  for the README's curl commands:  export TOKEN=$token"
      return
    fi
    sleep 0.1
  done
  echo "demo did not answer on 127.0.0.1:8080; see $DEMO/logs/error.log" >&2
  exit 1
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  reset) stop; rm -rf "$DEMO/state" "$DEMO/logs" "$TOKENS"; start ;;
  token) head -n1 "$TOKENS" ;;
  *) echo "usage: ci/demo.sh [start|stop|reset|token]" >&2; exit 2 ;;
esac
