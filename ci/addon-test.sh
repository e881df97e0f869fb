#!/usr/bin/env bash
# Builds the module the way nginx builds its own: configure a copy of the
# packaged nginx source (Debian's nginx-dev, /usr/share/nginx/src, with the
# package's configure flags) with --add-dynamic-module=<this repo>, `make
# modules`, then loads objs/ngx_http_api_abuse_module.so into Debian's
# /usr/sbin/nginx (a separate instance on a free loopback port) and checks a
# denied and an allowed request. A few minutes: the Rust part is a release
# build, run under nice.
#
#   ci/addon-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
SRC=/usr/share/nginx/src
OUT="$REPO/target/addon"
[ -f "$SRC/conf_flags" ] || { echo "needs Debian's nginx-dev (/usr/share/nginx/src)" >&2; exit 1; }
NGINX_VERSION=$(sed -n 's/^#define NGINX_VERSION *"\(.*\)"/\1/p' "$SRC/src/core/nginx.h")
TREE="$OUT/nginx-$NGINX_VERSION"
rm -rf "$TREE" "$OUT/module"; mkdir -p "$OUT/module"
cp -a "$SRC" "$TREE"
# The committed module (git archive), so edits or merges in the working
# tree during the build cannot mix two versions.
git archive HEAD | tar -x -C "$OUT/module"
MODULE="$OUT/module"
cd "$TREE"
. ./conf_flags
echo "== ./configure (Debian's flags) --add-dynamic-module=<this repo at $(git -C "$REPO" rev-parse --short HEAD)>"
./configure "${NGX_CONF_FLAGS[@]}" --add-dynamic-module="$MODULE" > "$OUT/configure.log" 2>&1 \
  || { tail -20 "$OUT/configure.log"; exit 1; }
grep -E "ngx_http_api_abuse_module|cargo" "$OUT/configure.log" || true
echo "== make modules"
nice -n 10 make -f objs/Makefile modules > "$OUT/make.log" 2>&1 || { tail -30 "$OUT/make.log"; exit 1; }
SO="$TREE/objs/ngx_http_api_abuse_module.so"
ls -l "$SO"

echo "== load it into Debian's nginx"
WORK=$(mktemp -d /tmp/api-abuse-addon.XXXXXX)
PID=""
trap '[ -n "$PID" ] && kill -QUIT "$PID" 2>/dev/null; sleep 0.3; rm -rf "$WORK"' EXIT
mkdir -p "$WORK"/{conf,logs,html}
echo hello > "$WORK/html/index.html"
printf '[lists]\ndeny = ["203.0.113.66"]\n' > "$WORK/conf/profiles.toml"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$WORK/conf/nginx.conf" <<CONF
load_module $SO;
worker_processes 2;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path logs/body; proxy_temp_path logs/proxy; fastcgi_temp_path logs/fastcgi;
    uwsgi_temp_path logs/uwsgi; scgi_temp_path logs/scgi;
    api_abuse_zone abuse:4m;
    api_abuse_profiles conf/profiles.toml;
    set_real_ip_from 127.0.0.1; real_ip_header X-Forwarded-For;
    server { listen 127.0.0.1:$PORT; api_abuse on; location / { root html; } }
}
CONF
chmod -R a+rX "$WORK" "$OUT"; chmod 0777 "$WORK/logs"
/usr/sbin/nginx -p "$WORK" -c conf/nginx.conf -t
/usr/sbin/nginx -p "$WORK" -c conf/nginx.conf
for _ in $(seq 50); do [ -s "$WORK/logs/nginx.pid" ] && break; sleep 0.1; done
PID=$(cat "$WORK/logs/nginx.pid")
code() { curl -s -o /dev/null -w '%{http_code}' -H "X-Forwarded-For: $1" "http://127.0.0.1:$PORT/"; }
for _ in $(seq 50); do [ "$(code 192.0.2.1)" != 000 ] && break; sleep 0.1; done
denied=$(code 203.0.113.66); allowed=$(code 203.0.113.67)
echo "denylisted client: $denied, other client: $allowed"
[ "$denied" = 403 ] && [ "$allowed" = 200 ] || { cat "$WORK/logs/error.log"; exit 1; }
! grep -E '\[(alert|emerg|crit)\]' "$WORK/logs/error.log"
echo "addon build test: passed (nginx $NGINX_VERSION, ./configure --add-dynamic-module)"
