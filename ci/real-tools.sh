#!/usr/bin/env bash
# Real attack tools against a graylisted client, signatures only.
#
# Starts the nginx built by cargo with the module (2 workers) on loopback,
# in front of a small "vulnerable" backend (an unprotected server of the same
# nginx that reflects its parameters), with 127.0.0.1 in the graylist and no
# enabled profile: nothing is detected or listed, so only the attack
# signatures decide. Then runs each tool, bounded in time, against it and
# counts, from the access log, the tool's payload requests (any parameter
# whose value is not one the site itself offers) and how many got 403.
#
#   ci/real-tools.sh [debug|release]      (default: debug)
#
# Tools: sqlmap and wapiti (Debian; ci/deps.sh installs them); wapiti's XSS
# modules are also run alone as the XSS scanner.
# Everything stays under target/real-tools/; nginx is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${1:-debug}
LIMIT=${REAL_TOOLS_SECONDS:-240}   # per tool
for tool in sqlmap wapiti; do
    command -v "$tool" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool"
done
if [ "$PROFILE" = release ]; then cargo build --release >/dev/null; else cargo build >/dev/null; fi
NGINX=$(ls -t target/"$PROFILE"/build/nginx-sys-*/out/objs/nginx | head -1)
MODULE=$PWD/target/$PROFILE/libngx_http_api_abuse_module.so
W=$PWD/target/real-tools
rm -rf "$W"; mkdir -p "$W"/{conf,logs,state,html,out}
chmod -R a+rwX "$W"
read -r PORT PORT2 < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
printf '[lists]\ngray = ["127.0.0.1"]\n' > "$W/conf/profiles.toml"
cat > "$W/conf/nginx.conf" <<CONF
load_module $MODULE;
worker_processes 2;
pid logs/nginx.pid;
error_log logs/error.log notice;
events { worker_connections 512; }
http {
    api_abuse_zone abuse:4m;
    api_abuse_profiles conf/profiles.toml;
    api_abuse_events logs/events.jsonl;
    log_format tools escape=json '{"status":\$status,"attack":"\$api_abuse_attack","method":"\$request_method","uri":"\$request_uri","body":"\$request_body","ua":"\$http_user_agent"}';
    server {
        listen 127.0.0.1:$PORT;
        access_log logs/access.jsonl tools;
        api_abuse on;
        client_max_body_size 64k;
        location / {
            api_abuse_inspect_body on;
            client_body_buffer_size 64k;
            proxy_pass http://127.0.0.1:$PORT2;
        }
    }
    server {
        listen 127.0.0.1:$PORT2;
        access_log off;
        default_type text/html;
        location = / {
            return 200 '<html><body><h1>Shop</h1>
<a href="/search?q=test&amp;id=1">search</a> <a href="/item?id=1">item</a>
<a href="/file?name=readme.txt">file</a>
<form method="POST" action="/comment"><input name="author" value="alice"><textarea name="comment">hello</textarea><input type="submit"></form>
<form method="GET" action="/lookup"><input name="host" value="example.com"><input type="submit"></form>
</body></html>';
        }
        location / {
            return 200 '<html><body><p>Results for \$arg_q</p><p>Item \$arg_id</p><p>File \$arg_name</p><p>Host \$arg_host</p><a href="/">home</a></body></html>';
        }
    }
}
CONF
"$NGINX" -p "$W" -c conf/nginx.conf
trap '"$NGINX" -p "$W" -c conf/nginx.conf -s stop 2>/dev/null || true' EXIT
sleep 1
BASE=http://127.0.0.1:$PORT
marks() { wc -l < "$W/logs/access.jsonl" 2>/dev/null || echo 0; }
declare -A FROM TO

FROM[sqlmap]=$(marks)
timeout "$LIMIT" sqlmap -u "$BASE/search?q=test&id=1" --batch --level 2 --risk 1 \
    --flush-session --output-dir="$W/out/sqlmap" --timeout 5 --retries 0 \
    >"$W/out/sqlmap.log" 2>&1 || true
timeout "$LIMIT" sqlmap -u "$BASE/comment" --data "author=alice&comment=hello" --batch \
    --level 1 --risk 1 --flush-session --output-dir="$W/out/sqlmap" --timeout 5 --retries 0 \
    >>"$W/out/sqlmap.log" 2>&1 || true
TO[sqlmap]=$(marks)

FROM[wapiti]=$(marks)
timeout "$LIMIT" wapiti -u "$BASE/" --scope folder -m xss,sql,timesql,exec,file,crlf,ssrf,redirect,ldap \
    --max-scan-time $((LIMIT - 20)) --flush-session -f txt -o "$W/out/wapiti.txt" \
    >"$W/out/wapiti.log" 2>&1 || true
TO[wapiti]=$(marks)

# The XSS scanner: wapiti's xss and permanentxss modules on their own (the
# PyPI XSS scanners tried, brs-xss 4.0.0 and 2.1.1, do not start: their
# packages lack a module), so the XSS figure is apart from the rest.
FROM[wapiti-xss]=$(marks)
timeout "$LIMIT" wapiti -u "$BASE/" --scope folder -m xss,permanentxss \
    --max-scan-time $((LIMIT - 20)) --flush-session -f txt -o "$W/out/wapiti-xss.txt" \
    >"$W/out/wapiti-xss.log" 2>&1 || true
TO[wapiti-xss]=$(marks)

for tool in "${!FROM[@]}"; do
    python3 ci/real_tools_count.py "$W/logs/access.jsonl" "${FROM[$tool]}" "${TO[$tool]}" "$tool" "$W/out/$tool-passed.txt"
done
grep -E '\[(alert|emerg|crit)\]' "$W/logs/error.log" && { echo "nginx logged alerts"; exit 1; } || true
