#!/usr/bin/env bash
# Installs the Debian package built by ci/package-deb.sh into this machine's
# Debian nginx, checks it, and removes it again:
#
#   1. dpkg -i: the .so, the modules-available file and the modules-enabled
#      symlink made by postinst are where Debian's module packages put theirs;
#   2. `nginx -t` of the system configuration (which includes
#      /etc/nginx/modules-enabled/*.conf) loads the module;
#   3. a separate Debian nginx instance (/usr/sbin/nginx -p <tmpdir>) on a
#      free loopback port, loading the module through the installed
#      modules-enabled file: a denylisted client is refused, another one is
#      served, a scanner is detected and refused, the API and the dashboard
#      answer; the running system service (if any) is never touched;
#   4. dpkg -r keeps the link aside (.removed), dpkg -P drops it and every file.
#
#   ci/package-test.sh [DEB]     (default: the newest target/deb/*.deb; builds one if none)
# Needs root (dpkg). Prints PASS/FAIL per check; exits non-zero on a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
PKG=libnginx-mod-http-api-abuse
DEB=${1:-$(ls -t target/deb/${PKG}_*.deb 2>/dev/null | head -n1 || true)}
if [ -z "$DEB" ]; then
  ci/package-deb.sh
  DEB=$(ls -t target/deb/${PKG}_*.deb | head -n1)
fi
DEB=$(realpath "$DEB")
[ "$(id -u)" -eq 0 ] || { echo "run as root (dpkg -i)" >&2; exit 2; }
dpkg -s nginx >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx

fails=0
check() { # check "what" command...
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then echo "PASS $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}
dpkg_retry() { # apt or another dpkg may hold the lock for a moment
  for _ in $(seq 30); do
    if dpkg "$@" 2>/tmp/package-test.dpkg.$$; then rm -f /tmp/package-test.dpkg.$$; return 0; fi
    grep -q "lock" /tmp/package-test.dpkg.$$ || { cat /tmp/package-test.dpkg.$$ >&2; return 1; }
    sleep 2
  done
  return 1
}

WORK=$(mktemp -d /tmp/api-abuse-pkgtest.XXXXXX)
PID=""
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -QUIT "$PID"; sleep 0.5; fi
  if dpkg -s $PKG >/dev/null 2>&1; then dpkg_retry -P $PKG >/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== install $(basename "$DEB")"
dpkg_retry -i "$DEB" >/dev/null
check "package installed" dpkg -s $PKG
check "module in /usr/lib/nginx/modules" test -f /usr/lib/nginx/modules/ngx_http_api_abuse_module.so
check "load file in modules-available" grep -qx 'load_module modules/ngx_http_api_abuse_module.so;' \
  /usr/share/nginx/modules-available/mod-http-api-abuse.conf
check "postinst enabled it (modules-enabled symlink)" test "$(readlink /etc/nginx/modules-enabled/50-mod-http-api-abuse.conf)" \
  = /usr/share/nginx/modules-available/mod-http-api-abuse.conf
check "logrotate snippet for the events file (conffile)" sh -c "test -f /etc/logrotate.d/nginx-api-abuse && logrotate -d /etc/logrotate.d/nginx-api-abuse"
check "example profiles file under /usr/share/doc" test -f /usr/share/doc/$PKG/examples/profiles.toml
ABI=$(dpkg-query -W -f='${Depends}' $PKG | grep -o 'nginx-abi-[^ ,]*')
check "depends on the ABI the installed nginx provides ($ABI)" sh -c "dpkg-query -W -f='\${Provides}' nginx | grep -q '$ABI'"

echo "== nginx -t of the system configuration (modules-enabled included)"
if /usr/sbin/nginx -t 2>"$WORK/t.log"; then echo "PASS system nginx -t"; else echo "FAIL system nginx -t"; cat "$WORK/t.log"; fails=$((fails + 1)); fi

echo "== a separate Debian nginx instance with the installed module"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK"/{conf,logs,state,html}
ln -s /usr/lib/nginx/modules "$WORK/modules"       # `load_module modules/...` is relative to -p
echo '<html>hello</html>' > "$WORK/html/index.html"
echo 'token-for-the-package-test' > "$WORK/conf/tokens"
AUTH='Authorization: Bearer token-for-the-package-test'
cp /usr/share/doc/$PKG/examples/profiles.toml "$WORK/conf/profiles.toml"
sed -i 's/^deny  = \[\]/deny  = ["203.0.113.66"]/' "$WORK/conf/profiles.toml"
sed -i 's/^addrs = \["127.0.0.1", "::1"\]/addrs = []/' "$WORK/conf/profiles.toml"
chmod -R a+rX "$WORK"; chmod 0777 "$WORK/logs" "$WORK/state"; chmod 0600 "$WORK/conf/tokens"
cat > "$WORK/conf/nginx.conf" <<EOF
include /etc/nginx/modules-enabled/50-mod-http-api-abuse.conf;
worker_processes 2;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 128; }
http {
    access_log logs/access.log;
    client_body_temp_path logs/body; proxy_temp_path logs/proxy; fastcgi_temp_path logs/fastcgi;
    uwsgi_temp_path logs/uwsgi; scgi_temp_path logs/scgi;
    api_abuse_zone     abuse:8m state=state/api_abuse.state;
    api_abuse_profiles conf/profiles.toml;
    api_abuse_events   logs/events.jsonl;
    set_real_ip_from 127.0.0.1; real_ip_header X-Forwarded-For;
    server {
        listen 127.0.0.1:$PORT;
        api_abuse on;
        location / { root html; }
        location /api-abuse/ { api_abuse_api write token=conf/tokens; allow 127.0.0.1; deny all; }
        location = /api-abuse/dashboard { api_abuse off; api_abuse_dashboard; allow 127.0.0.1; deny all; }
        location = /metrics { api_abuse off; api_abuse_metrics; allow 127.0.0.1; deny all; }
    }
}
EOF
NGX=(/usr/sbin/nginx -p "$WORK" -c conf/nginx.conf)
check "nginx -t of the test instance" "${NGX[@]}" -t
"${NGX[@]}"
for _ in $(seq 50); do [ -s "$WORK/logs/nginx.pid" ] && break; sleep 0.1; done
PID=$(cat "$WORK/logs/nginx.pid")
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
URL=http://127.0.0.1:$PORT
for _ in $(seq 50); do [ "$(code "$URL/")" != 000 ] && break; sleep 0.1; done
check "a denylisted client is refused (403)" test "$(code -H 'X-Forwarded-For: 203.0.113.66' "$URL/")" = 403
check "another client is served (200)" test "$(code -H 'X-Forwarded-For: 203.0.113.67' "$URL/")" = 200
listed=""
for i in $(seq 100); do
  if [ "$(code -A 'sqlmap/1.7' -H 'X-Forwarded-For: 198.51.100.23' "$URL/.env?i=$i")" = 403 ]; then listed=$i; break; fi
done
check "a scanner is detected and refused (after ${listed:-?} requests)" test -n "$listed"
check "the API wants the token (401 + WWW-Authenticate)" sh -c "curl -si '$URL/api-abuse/' | grep -qi '^www-authenticate: Bearer'"
check "the API lists it" sh -c "curl -s -H '$AUTH' '$URL/api-abuse/' | grep -q '\"addr\":\"198.51.100.23\"'"
check "the dashboard is served" sh -c "curl -s '$URL/api-abuse/dashboard' | grep -q 'API abuse console'"
check "the dashboard's headers (CSP)" sh -c "curl -sI '$URL/api-abuse/dashboard' | grep -qi '^content-security-policy: default-src'"
check "one click's worth of unblock (DELETE)" sh -c "curl -s -X DELETE -H '$AUTH' '$URL/api-abuse/?addr=198.51.100.23' | grep -q '\"removed\":true'"
check "unblocked client is served again" test "$(code -H 'X-Forwarded-For: 198.51.100.23' "$URL/")" = 200
check "metrics answer" sh -c "curl -s '$URL/metrics' | grep -q '^api_abuse_requests_total '"
check "no [alert] or [emerg] in the error log" sh -c "! grep -E '\[(alert|emerg|crit)\]' '$WORK/logs/error.log'"
kill -QUIT "$PID"; for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done; PID=""

echo "== remove and purge"
dpkg_retry -r $PKG >/dev/null
check "remove keeps the link aside (.removed)" test -L /etc/nginx/modules-enabled/50-mod-http-api-abuse.conf.removed
check "remove takes the module away" test ! -e /usr/lib/nginx/modules/ngx_http_api_abuse_module.so
dpkg_retry -P $PKG >/dev/null
check "purge drops every link" sh -c "! ls /etc/nginx/modules-enabled/ | grep -q api-abuse"
check "package gone" sh -c "! dpkg -s $PKG"
check "purge removes the logrotate conffile" test ! -e /etc/logrotate.d/nginx-api-abuse

if [ "$fails" -eq 0 ]; then echo "package test: all passed"; else echo "package test: $fails failed"; exit 1; fi
