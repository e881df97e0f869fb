#!/usr/bin/env bash
# Side-by-side benchmark on loopback: the same release nginx binary, the same
# content and configuration, with and without the module, measured in
# alternating rounds so that background load on the machine hits both alike.
# See docs/performance.md for the figures and how to read them.
#
#   ci/bench.sh [capacity]   worker CPU per request and throughput, 1 and 2
#                            workers and behind proxy_pass, then added latency
#                            on one connection (about 4 minutes)
#   ci/bench.sh sweep        capacity from 10 to 1,000,000 list entries and
#                            from 1,000 to 1,000,000 clients (about 5 minutes)
#   ci/bench.sh callgrind    instructions per request under valgrind's
#                            callgrind, plain nginx and the module on the same
#                            request mix: counts, unaffected by machine load
#                            (about 2 minutes)
#
# Variants (each its own nginx, same binary and content):
#   A1 A2  plain nginx, 1 and 2 workers
#   B1 B2  the module on, every detector on, 1 and 2 workers
#   PA PB  as A1 and B1, but proxy_pass (keep-alive) to a plain backend nginx X
#   C1     the module on, its profile disabled: access decision only (lists,
#          exceptions, signatures), no detection          [BENCH_VARIANTS]
#   D1     the module loaded, `api_abuse off`               [BENCH_VARIANTS]
# The figure: capacity = (plain nginx's worker CPU per request) / (the
# module's), the workers' user + system CPU from /proc over each round.
#
# Clients: each request comes from one of CLIENTS addresses (X-Forwarded-For),
# each a person with a browser, cookie and products of interest. The count is
# sized to the machine: at least BENCH_CLIENTS (200,000), and enough that at
# the measured rate of plain nginx every client sends one request per
# BENCH_CLIENT_GAP seconds (2) or less often, so clients stay human-paced on
# any machine. The run fails when the module lists or refuses anyone.
#
# Environment (all optional):
#   BENCH_ROUNDS=3 BENCH_DURATION=5    rounds per variant, seconds per round
#   BENCH_CONNECTIONS=32               wrk connections (one wrk thread)
#   BENCH_LAT_ROUNDS=5 BENCH_LAT_DURATION=3  one-connection latency rounds (A1, B1 alternating)
#   BENCH_CLIENTS=200000               minimum distinct clients
#   BENCH_CLIENT_GAP=2                 minimum mean seconds between a client's requests
#   BENCH_DENY=100000                  denylist entries in the profiles file
#   BENCH_VARIANTS="A1 B1 A2 B2 PA PB" variants of the capacity run
#   BENCH_PIN=1                        1-worker variants: nginx on CPU 0, wrk on CPU 1
#   BENCH_CALLGRIND_REQUESTS=10000     counted requests per callgrind variant (a fixed
#   BENCH_CALLGRIND_WARMUP=4000        sequence: the warm-up's, then the counted ones)
#   BENCH_CALLGRIND_TIMEOUT=900        seconds either part may take before the run fails
#   BENCH_CALLGRIND_CLIENTS=300        clients of the callgrind run
#   BENCH_CALLGRIND_OPTS=              more valgrind options (--dump-instr=yes adds the hot-code
#                                      footprint, ci/code_footprint.py, per variant)
#   BENCH_CALLGRIND_VARIANTS="A1 B1"   variants of the callgrind run (B1 alone: the module's
#                                      figures while iterating; plain nginx does not change)
#   BENCH_REACTION=denylist            the profile's reaction (monitor: nobody is refused,
#                                      detection still runs in full on every request)
#   BENCH_PORT=18480                   first of the loopback ports used
#
# Runtime files: target/bench/<variant>/ (conf, html, logs); results in
# target/bench/results.tsv, latency.tsv, callgrind.tsv. Every nginx started
# here is stopped on exit, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
BENCH="$REPO/target/bench"
# Cargo's target directory (CARGO_TARGET_DIR when set, as cargo reads it).
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"

MODE=${1:-capacity}
ROUNDS=${BENCH_ROUNDS:-3}
DURATION=${BENCH_DURATION:-5}
CONNS=${BENCH_CONNECTIONS:-32}
MIN_CLIENTS=${BENCH_CLIENTS:-200000}
GAP=${BENCH_CLIENT_GAP:-2}
DENY=${BENCH_DENY:-100000}
VARIANTS=${BENCH_VARIANTS:-A1 B1 A2 B2 PA PB}
PIN=${BENCH_PIN:-1}
PORT_BASE=${BENCH_PORT:-18480}
REACTION=${BENCH_REACTION:-denylist}
WARMUP=2
LAT_DURATION=${BENCH_LAT_DURATION:-3}
LAT_ROUNDS=${BENCH_LAT_ROUNDS:-5}
CLIENTS=$MIN_CLIENTS

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

say() { printf '%s\n' "$*" >&2; }
die() { say "bench: $*"; exit 1; }

case "$MODE" in
  capacity|sweep|callgrind) ;;
  *) die "usage: ci/bench.sh [capacity|sweep|callgrind]" ;;
esac

# Every variant name gets a port: its index in this list.
ALL_VARIANTS="X A1 B1 A2 B2 PA PB C1 D1 L10 L1M K1K K1M"
port_of() {
  local i=0 v
  for v in $ALL_VARIANTS; do
    if [ "$v" = "$1" ]; then echo $((PORT_BASE + i)); return; fi
    i=$((i + 1))
  done
  die "no port for variant $1"
}
describe() {
  case "$1" in
    X) echo "plain nginx, backend of PA and PB" ;;
    A1) echo "plain nginx, 1 worker" ;;
    B1) echo "module, all detectors on, 1 worker" ;;
    A2) echo "plain nginx, 2 workers" ;;
    B2) echo "module, all detectors on, 2 workers" ;;
    PA) echo "plain nginx, proxy_pass to X" ;;
    PB) echo "module on, proxy_pass to X" ;;
    C1) echo "module on, detection off (lists+signatures)" ;;
    D1) echo "module loaded, api_abuse off" ;;
    L10) echo "module, 10 list entries" ;;
    L1M) echo "module, 1,000,000 list entries" ;;
    K1K) echo "module, 1,000 clients (monitor)" ;;
    K1M) echo "module, 1,000,000 clients (monitor)" ;;
  esac
}
# The plain variant a module variant is compared with.
base_of() {
  case "$1" in
    B1|C1|D1|L10|L1M|K1K|K1M) echo A1 ;;
    B2) echo A2 ;;
    PB) echo PA ;;
    *) echo "" ;;
  esac
}
workers_of() { case "$1" in A2|B2) echo 2 ;; *) echo 1 ;; esac; }
is_plain() { case "$1" in A1|A2|PA|X) return 0 ;; *) return 1 ;; esac; }

# ---------------------------------------------------------------- stopping

stop_one() {
  local prefix="$1" pidfile="$1/logs/nginx.pid" pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile" 2>/dev/null || true)
  # Only the nginx master of this prefix: a stale pid file may name a pid
  # that now belongs to something else.
  if [ -n "$pid" ] && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-p $prefix "; then
    kill -QUIT "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      sleep 0.5
    fi
  fi
  rm -f "$pidfile"
}

VALGRIND_PIDS=""
stop_all() {
  local v p
  for p in $VALGRIND_PIDS; do kill -TERM "$p" 2>/dev/null || true; done
  for v in $ALL_VARIANTS; do
    if [ -d "$BENCH/$v" ]; then stop_one "$BENCH/$v"; fi
  done
  return 0
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- tools, build

need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
if [ "$MODE" = callgrind ] && ! command -v valgrind >/dev/null 2>&1; then need+=(valgrind); fi
if [ "$MODE" = callgrind ] && ! command -v python3 >/dev/null 2>&1; then need+=(python3); fi
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
fi

say "building (release)..."
cargo build --release --quiet
NGINX=$(cargo build --release --message-format=json 2>/dev/null \
        | grep -o '"out_dir":"[^"]*nginx-sys-[^"]*"' | tail -n1 | sed 's/"out_dir":"//; s/"$//')
NGINX="${NGINX:+$NGINX/objs/nginx}"
if [ -z "$NGINX" ] || [ ! -x "$NGINX" ]; then
  NGINX=$(ls -t "$TARGET_DIR"/release/build/nginx-sys-*/out/objs/nginx 2>/dev/null | head -n1)
fi
[ -x "$NGINX" ] || die "release nginx binary not found under $TARGET_DIR/release/build"
MODULE="$TARGET_DIR/release/libngx_http_api_abuse_module.so"
[ -f "$MODULE" ] || die "module not found: $MODULE"

# ---------------------------------------------------------------- content

stop_all
rm -rf "$BENCH"
mkdir -p "$BENCH"
# Workers run as nobody when the master is root: every directory on the way
# must be world-searchable and the content world-readable.
chmod 0755 "$REPO/target" "$BENCH"

make_html() {
  local root="$1"
  mkdir -p "$root/api/v1/products" "$root/static"
  # index.html, about 1 KB
  {
    echo '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bench shop</title>'
    echo '<link rel="stylesheet" href="/static/app.css"><script src="/static/app.js" defer></script></head><body>'
    echo '<header><h1>Bench shop</h1><nav><a href="/">Home</a> <a href="/api/v1/products/1.json">API</a></nav></header><main><ul>'
    for i in $(seq 1 14); do
      echo "<li><a href=\"/api/v1/products/$i.json\">Product $i</a> - a small static item for the benchmark</li>"
    done
    echo '</ul></main><footer>ngx_http_api_abuse_module benchmark</footer></body></html>'
  } > "$root/index.html"
  printf 'document.addEventListener("DOMContentLoaded",function(){var n=document.querySelectorAll("li").length;document.title+=" ("+n+")";});\n' > "$root/static/app.js"
  printf 'body{font-family:sans-serif;margin:2em}li{margin:.2em 0}header,footer{color:#555}\n' > "$root/static/app.css"
  # 1000 product documents of ~400 bytes: the API the load generator walks.
  awk -v dir="$root/api/v1/products" 'BEGIN {
    for (i = 1; i <= 1000; i++) {
      f = dir "/" i ".json"
      printf "{\"id\":%d,\"sku\":\"SKU-%06d\",\"name\":\"Product %d\",\"price\":{\"amount\":%d.%02d,\"currency\":\"EUR\"},", i, i * 7, i, 5 + i % 200, i % 100 > f
      printf "\"stock\":%d,\"tags\":[\"bench\",\"static\",\"json\"],\"description\":\"A small JSON document served as a static file so that the benchmark measures nginx and the module, not a backend.\",", i % 37 > f
      printf "\"links\":{\"self\":\"/api/v1/products/%d.json\",\"reviews\":\"/api/v1/products/%d/reviews\"}}\n", i, i > f
      close(f)
    }
  }'
  chmod -R a+rX "$root"
}

# The profiles file of B: one enabled profile, every bot type, a few sensitive
# endpoints, and a denylist of $DENY entries in 10.0.0.0/8 (the load comes
# from 172.16.0.0/12, so no request is refused by the list: every lookup walks
# the whole structure and misses, the common case in production).
make_profiles() {
  local file="$1" enabled="$2" deny="${3:-$DENY}" reaction="${4:-denylist}"
  {
    echo "# Generated by ci/bench.sh."
    echo "[lists]"
    echo "deny = ["
    awk -v n="$deny" 'BEGIN {
      for (i = 0; i < n; i++) {
        if (i % 10 == 9) {
          # one in ten: a /24 in 10.128.0.0/9
          k = int(i / 10)
          printf "  \"10.%d.%d.0/24\",\n", 128 + int(k / 256) % 128, k % 256
        } else {
          # hosts spread over 10.0.0.0/9
          h = (i * 37) % 8388608
          printf "  \"10.%d.%d.%d\",\n", int(h / 65536), int(h / 256) % 256, h % 256
        }
      }
    }'
    echo "]"
    cat <<EOF
gray = ["192.0.2.0/24"]
allow = ["198.51.100.7"]

[exceptions]
addrs = ["192.0.2.200"]

[[profile]]
name = "bench"
enabled = $enabled
applications = ["bench"]
tolerance = "normal"
bot_types = "all"
reaction = "$reaction"
duration = "1h"

  [[profile.sensitive]]
  method = "POST"
  path = "/api/v1/login"
  kind = "auth"

  [[profile.sensitive]]
  method = "POST"
  path = "/api/v1/signup"
  kind = "signup"

  [[profile.sensitive]]
  method = "POST"
  path = "/api/v1/reviews"
  kind = "feedback"

  [[profile.sensitive]]
  method = "POST"
  path = "/api/v1/cart/{id}"
  kind = "checkout"

  [[profile.sensitive]]
  path = "/api/v1/account/**"
  kind = "critical"
EOF
  } > "$file"
  chmod 0644 "$file"
}

# make_conf VARIANT [PROFILES ZONE_MB]: the nginx.conf of one variant.
make_conf() {
  local v="$1" profiles="${2:-$BENCH/profiles-B.toml}" zone_mb="${3:-64}"
  local prefix="$BENCH/$1" port load="" http="" server="" workers affinity="" main=""
  local location="root html;"
  port=$(port_of "$v")
  workers=$(workers_of "$v")
  case "$v" in
    B1|B2|PB|L10|L1M|K1K|K1M|C1)
      if [ "$v" = C1 ]; then profiles="$BENCH/profiles-C.toml"; fi
      load="load_module $MODULE;"
      http="api_abuse_zone abuse:${zone_mb}m;
    api_abuse_profiles $profiles;
    api_abuse_events logs/events.jsonl;"
      server="api_abuse on;
        api_abuse_app bench;" ;;
    D1)
      load="load_module $MODULE;"
      server="api_abuse off;" ;;
  esac
  case "$v" in
    PA|PB)
      http="$http
    upstream backend { server 127.0.0.1:$(port_of X); keepalive 32; }"
      location="proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection \"\";" ;;
  esac
  if [ "$MODE" = callgrind ]; then
    main="master_process off;
daemon off;"
  elif [ "$PIN" = 1 ]; then
    case "$workers:$v" in
      1:X) affinity="worker_cpu_affinity 10;" ;;
      1:*) affinity="worker_cpu_affinity 01;" ;;
      2:*) affinity="worker_cpu_affinity 01 10;" ;;
    esac
  fi
  mkdir -p "$prefix"/{conf,logs,tmp}
  chmod 0777 "$prefix/logs" "$prefix/tmp"
  chmod 0755 "$prefix" "$prefix/conf"
  cat > "$prefix/conf/nginx.conf" <<CONF
# Generated by ci/bench.sh: variant $v ($(describe "$v")).
$load
$main
worker_processes $workers;
$affinity
error_log logs/error.log notice;
pid logs/nginx.pid;

events {
    worker_connections 1024;
}

http {
    types {
        text/html html;
        text/css css;
        application/javascript js;
        application/json json;
    }
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    keepalive_requests 100000;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;

    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;

    $http

    server {
        listen 127.0.0.1:$port;
        server_name localhost;
        $server

        location / {
            $location
        }
    }
}
CONF
  cp -r "$BENCH/html" "$prefix/html"
}

# The load: realistic browser traffic against a JSON API. Each of
# BENCH_CLIENTS addresses (172.16.0.0/12, then 100.64.0.0/10) is one person
# with a fixed browser, a session cookie and four products of interest;
# requests pick a random client, so each client's gaps are irregular (as
# people's are) and its pace is the total rate / clients; a client's first
# two requests are the page and its script. Headers are made per request
# from the client's number, so a million clients cost wrk little memory.
make_lua() {
  cat > "$BENCH/load.lua" <<'LUA'
-- Generated by ci/bench.sh.
local nclients = tonumber(os.getenv("BENCH_CLIENTS") or "200000")
local random = math.random
local floor = math.floor
local format = string.format
math.randomseed(tonumber(os.getenv("BENCH_SEED") or "7"))

local uas = {
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
  "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
}
local langs = { "en-US,en;q=0.9", "nl-NL,nl;q=0.9,en;q=0.8", "de-DE,de;q=0.9,en;q=0.7", "fr-FR,fr;q=0.9" }
local sorts = { "price", "-price", "name", "created_at" }

-- The headers that identify client i.
local function heads(i)
  local ip
  if i <= 1048576 then
    -- 172.16.0.0/12 (2^20 addresses; 7919 is odd, so no repeats)
    local a = (i * 7919) % 1048576
    ip = format("172.%d.%d.%d", 16 + floor(a / 65536), floor(a / 256) % 256, a % 256)
  else
    local a = i % 4194304
    ip = format("100.%d.%d.%d", 64 + floor(a / 65536), floor(a / 256) % 256, a % 256)
  end
  return "User-Agent: " .. uas[(i % #uas) + 1] .. "\r\n"
    .. "Accept-Language: " .. langs[(i % #langs) + 1] .. "\r\n"
    .. "Accept-Encoding: gzip, deflate, br\r\n"
    .. format("Cookie: sid=%08x%08x; theme=light\r\n", (i * 2654435761) % 4294967296, (i * 40503) % 4294967296)
    .. "X-Forwarded-For: " .. ip .. "\r\n\r\n"
end

local host = "Host: shop.example\r\n"
local page = "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
  .. "Sec-Fetch-Site: none\r\nSec-Fetch-Mode: navigate\r\nSec-Fetch-Dest: document\r\nUpgrade-Insecure-Requests: 1\r\n"
local asset = "Accept: */*\r\nReferer: https://shop.example/\r\n"
  .. "Sec-Fetch-Site: same-origin\r\nSec-Fetch-Mode: no-cors\r\nSec-Fetch-Dest: script\r\n"
local api = "Accept: application/json\r\nReferer: https://shop.example/\r\n"
  .. "Sec-Fetch-Site: same-origin\r\nSec-Fetch-Mode: cors\r\nSec-Fetch-Dest: empty\r\nX-Requested-With: XMLHttpRequest\r\n"

-- How many requests each client sent: a person's first two requests load
-- the page and its script, as a browser does.
local sent = {}

local function next_request()
  local c = random(nclients)
  local n = sent[c] or 0
  sent[c] = n + 1
  local r = random(100)
  if n == 0 then r = 1 elseif n == 1 then r = 9 end
  if r <= 8 then
    return "GET / HTTP/1.1\r\n" .. host .. page .. heads(c)
  elseif r <= 16 then
    return "GET /static/app.js HTTP/1.1\r\n" .. host .. asset .. heads(c)
  end
  -- one of the client's four products of interest
  local product = 1 + (c * 31 + 257 * random(0, 3)) % 1000
  return "GET /api/v1/products/" .. product .. ".json?fields=id,name,price&currency=EUR&sort="
    .. sorts[random(4)] .. "&page=" .. random(3) .. " HTTP/1.1\r\n" .. host .. api .. heads(c)
end

-- The callgrind mode's fixed sequence (wall-clock modes leave both unset):
-- BENCH_SKIP requests are generated and dropped first (the warm-up sent
-- them), and after BENCH_COUNT answers the run ends at once, so one
-- connection sends exactly the same requests to every variant.
local skip = tonumber(os.getenv("BENCH_SKIP") or "0")
local count = tonumber(os.getenv("BENCH_COUNT") or "0")
local answered, generated, non2xx = 0, 0, 0
-- wrk asks for one request before the run to check it (and never sends
-- it): while nothing is answered, the request asked first is asked again.
local held

function init(args)
  for _ = 1, skip do
    next_request()
  end
end

if count > 0 then
  function request()
    if answered == 0 and held then
      local r = held
      held = nil
      return r
    end
    generated = generated + 1
    local r = next_request()
    if answered == 0 then held = r end
    return r
  end

  function response(status, headers, body)
    answered = answered + 1
    if status < 200 or status > 299 then
      non2xx = non2xx + 1
    end
    if answered >= count then
      -- One connection: each request is answered before the next is
      -- asked, so generated > answered means a lost connection asked for
      -- more (the sequence then differs from the other variant's).
      io.write(string.format("BENCH requests=%d generated=%d non2xx=%d connect=0 read=0 write=0 timeout=0\n",
        answered, generated, non2xx))
      io.stdout:flush()
      os.exit(0)
    end
  end
else
  request = next_request
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50=%.0f p90=%.0f p99=%.0f p999=%.0f max=%.0f non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max,
    e.status, e.connect, e.read, e.write, e.timeout))
end
LUA
}

# ---------------------------------------------------------------- run

wait_port() {
  local port="$1" what="$2"
  for _ in $(seq 1200); do
    if curl -fs -o /dev/null "http://127.0.0.1:$port/api/v1/products/1.json"; then return; fi
    sleep 0.1
  done
  die "$what did not answer on 127.0.0.1:$port"
}

start() {
  local v="$1" prefix="$BENCH/$1" port
  port=$(port_of "$v")
  if ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
    die "port $port is in use (set BENCH_PORT)"
  fi
  "$NGINX" -p "$prefix" -c conf/nginx.conf -t -q || die "nginx -t failed for $v: see $prefix/logs/error.log"
  "$NGINX" -p "$prefix" -c conf/nginx.conf
  wait_port "$port" "variant $v (see $prefix/logs/error.log)"
}

worker_pids() {
  local master
  master=$(cat "$BENCH/$1/logs/nginx.pid")
  pgrep -P "$master" | tr '\n' ' '
}

# user and system CPU ticks of a set of processes, summed
cpu_ticks() {
  local u=0 s=0 p a b
  for p in $1; do
    read -r a b < <(awk '{ print $14, $15 }' "/proc/$p/stat")
    u=$((u + a)); s=$((s + b))
  done
  echo "$u $s"
}

clients_of() { case "$1" in K1K) echo 1000 ;; K1M) echo 1000000 ;; *) echo "$CLIENTS" ;; esac; }

wrk_cmd() {
  local v="$1" secs="$2" conns="${3:-$CONNS}" clients="${4:-$(clients_of "$1")}"
  local cmd=(wrk -t1 -c"$conns" -d"${secs}s" --timeout 10s --latency -s "$BENCH/load.lua" "http://127.0.0.1:$(port_of "$v")/")
  if [ "$PIN" = 1 ] && [ "$(workers_of "$v")" = 1 ] && [ "$MODE" != callgrind ]; then
    cmd=(taskset -c 1 "${cmd[@]}")
  fi
  BENCH_CLIENTS=$clients "${cmd[@]}"
}

field() { # field NAME of a wrk BENCH line on stdin
  awk -v k="$1" '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }'
}

rate_of() { # requests per second of a wrk BENCH line on stdin
  awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } printf "%.0f\n", f["requests"] / (f["duration_us"] / 1e6) }'
}

# run VARIANT ROUND: one wrk round, appends a line to results.tsv
run() {
  local v="$1" round="$2" pids u0 s0 u1 s1 out line
  pids=$(worker_pids "$v")
  read -r u0 s0 < <(cpu_ticks "$pids")
  out=$(wrk_cmd "$v" "$DURATION")
  read -r u1 s1 < <(cpu_ticks "$pids")
  printf '%s\n' "$out" > "$BENCH/wrk-$v-$round.txt"
  line=$(printf '%s\n' "$out" | grep '^BENCH ' | tail -n1)
  [ -n "$line" ] || die "no result from wrk for $v (see $BENCH/wrk-$v-$round.txt)"
  # The workers' CPU time over the round (user + system, from /proc) divided
  # by the requests served: the cost of one request to nginx, independent of
  # how much CPU the machine's other processes left to it.
  printf '%s\n' "$line" | awk -v v="$v" -v r="$round" -v du=$((u1 - u0)) -v ds=$((s1 - s0)) \
      -v hz="$(getconf CLK_TCK)" '{
    for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    secs = f["duration_us"] / 1e6
    n = f["requests"]
    printf "%s\t%d\t%.0f\t%d\t%d\t%d\t%d\t%.2f\t%.2f\t%d\t%.2f\t%.2f\n", v, r, n / secs, f["p50"], f["p99"],
      f["non2xx"], f["connect"] + f["read"] + f["write"] + f["timeout"],
      (du + ds) / hz * 1e6 / n, (du + ds) / hz / secs, n, du / hz * 1e6 / n, ds / hz * 1e6 / n
  }' >> "$BENCH/results.tsv"
  tail -n1 "$BENCH/results.tsv" | awk -F'\t' '{
    printf "  %-3s round %s: %6d req/s  p50 %5d us  p99 %6d us  workers %5.2f us/req (user %5.2f, sys %5.2f; %3.0f%% CPU)  non-2xx %d  socket errors %d\n",
      $1, $2, $3, $4, $5, $8, $11, $12, $9 * 100, $6, $7 }' >&2
}

median() { # median of column $2 for variant $1 (in results.tsv, or the file $3)
  awk -F'\t' -v v="$1" -v c="$2" 'NR > 1 && $1 == v { print $c }' "${3:-$BENCH/results.tsv}" \
    | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
total() {
  awk -F'\t' -v v="$1" -v c="$2" 'NR > 1 && $1 == v { s += $c } END { print s + 0 }' "$BENCH/results.tsv"
}

has() { [[ " $1 " == *" $2 "* ]]; }

say "preparing $BENCH..."
make_html "$BENCH/html"
make_lua

# ---------------------------------------------------------------- callgrind

if [ "$MODE" = callgrind ]; then
  CG_REQS=${BENCH_CALLGRIND_REQUESTS:-10000}
  CG_WARM=${BENCH_CALLGRIND_WARMUP:-4000}
  CG_LIMIT=${BENCH_CALLGRIND_TIMEOUT:-900}
  if [ -n "${BENCH_CALLGRIND_SECONDS:-}" ]; then
    say "bench: BENCH_CALLGRIND_SECONDS is no longer used: the callgrind mode sends a fixed sequence (BENCH_CALLGRIND_REQUESTS, BENCH_CALLGRIND_WARMUP)"
  fi
  # A fixed, seeded sequence on one connection: the warm-up sends its first
  # CG_WARM requests, the counted run the CG_REQS after them, each asked
  # only once the one before was answered, so A1 and B1 count exactly the
  # same requests in the same order whatever valgrind's speed (it was a
  # fixed time before: the mix then depended on how many requests fit).
  # 300 clients: every one is past its first page and script in the
  # warm-up, so the counted mix is the steady state. The profile's reaction
  # is monitor: what the module does per request is the same, and a client
  # that happens to cross a threshold is not refused (which would change
  # the answers).
  CLIENTS=${BENCH_CALLGRIND_CLIENTS:-300}
  make_profiles "$BENCH/profiles-B.toml" true "$DENY" monitor
  make_profiles "$BENCH/profiles-C.toml" false
  printf 'variant\trequests\tinstructions\tinstr_per_request\tmodule_preaccess\tmodule_log\n' > "$BENCH/callgrind.tsv"
  for v in ${BENCH_CALLGRIND_VARIANTS:-A1 B1}; do
    make_conf "$v"
    prefix="$BENCH/$v"
    port=$(port_of "$v")
    "$NGINX" -p "$prefix" -c conf/nginx.conf -t -q || die "nginx -t failed for $v"
    # shellcheck disable=SC2086 # options, split on purpose
    valgrind --tool=callgrind ${BENCH_CALLGRIND_OPTS:-} --callgrind-out-file="$prefix/callgrind.out" \
      "$NGINX" -p "$prefix" -c conf/nginx.conf > "$prefix/logs/valgrind.log" 2>&1 &
    vpid=$!
    VALGRIND_PIDS="$VALGRIND_PIDS $vpid"
    wait_port "$port" "variant $v under valgrind (see $prefix/logs/valgrind.log)"
    say "callgrind $v: $CG_WARM requests of warm-up, then $CG_REQS counted (wrk -t1 -c1, a fixed sequence)"
    warm=$(BENCH_COUNT=$CG_WARM wrk_cmd "$v" "$CG_LIMIT" 1 | grep '^BENCH ' | tail -n1)
    [ "$(printf '%s\n' "$warm" | field requests)" = "$CG_WARM" ] || die "$v: warm-up did not finish in ${CG_LIMIT} s: $warm"
    callgrind_control -z "$vpid" > /dev/null
    line=$(BENCH_SKIP=$CG_WARM BENCH_COUNT=$CG_REQS wrk_cmd "$v" "$CG_LIMIT" 1 | grep '^BENCH ' | tail -n1)
    callgrind_control -d "$vpid" > /dev/null
    kill -QUIT "$vpid" 2>/dev/null || true
    wait "$vpid" 2>/dev/null || true
    [ "$(printf '%s\n' "$line" | field requests)" = "$CG_REQS" ] || die "$v: counted run did not finish in ${CG_LIMIT} s: $line"
    [ "$(printf '%s\n' "$line" | field generated)" = "$CG_REQS" ] || die "$v: more requests asked than answered (a connection was lost): $line"
    n=$(printf '%s\n' "$line" | field requests)
    bad=$(printf '%s\n' "$line" | awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } print f["non2xx"] + f["connect"] + f["read"] + f["write"] + f["timeout"] }')
    [ "$bad" = 0 ] || die "$v: $bad failed requests under callgrind: $line"
    # The dump taken right after the counted run (callgrind.out.1): from
    # zeroing to dump, requests only.
    dump="$prefix/callgrind.out.1"
    [ -f "$dump" ] || die "no callgrind dump for $v"
    total=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
    pre=0; logp=0
    if [ "$v" = B1 ]; then
      callgrind_annotate --inclusive=yes "$dump" > "$BENCH/callgrind-B1-inclusive.txt" 2>/dev/null || true
      pre=$(awk '/preaccess_handler/ { gsub(",", "", $1); print $1; exit }' "$BENCH/callgrind-B1-inclusive.txt")
      logp=$(awk '/log_handler/ { gsub(",", "", $1); print $1; exit }' "$BENCH/callgrind-B1-inclusive.txt")
    fi
    callgrind_annotate "$dump" 2>/dev/null | head -n 60 > "$BENCH/callgrind-$v.txt" || true
    # With per-instruction costs, the hot-code footprint (what must fit in
    # the CPU's L1 instruction cache; see ci/code_footprint.py).
    case " ${BENCH_CALLGRIND_OPTS:-} " in
      *" --dump-instr=yes "*)
        python3 ci/code_footprint.py "$dump" "$n" > "$BENCH/footprint-$v.txt" \
          || die "$v: ci/code_footprint.py failed on $dump"
        ;;
    esac
    printf '%s\t%d\t%d\t%.0f\t%.0f\t%.0f\n' "$v" "$n" "$total" "$(awk -v t="$total" -v n="$n" 'BEGIN { print t / n }')" \
      "$(awk -v t="${pre:-0}" -v n="$n" 'BEGIN { print t / n }')" "$(awk -v t="${logp:-0}" -v n="$n" 'BEGIN { print t / n }')" >> "$BENCH/callgrind.tsv"
    say "  $v: $n requests, $total instructions"
  done
  echo
  echo "ngx_http_api_abuse_module: instructions per request (valgrind --tool=callgrind, user space only;"
  echo "one nginx process (master_process off), the same $CG_REQS requests after $CG_WARM of warm-up, one connection, $CLIENTS clients, $DENY deny entries)"
  awk -F'\t' 'NR > 1 { printf "  %-3s %8d requests  %8d instructions per request", $1, $2, $4;
    if ($1 == "B1") printf "  (module handlers inclusive: PREACCESS %d, LOG %d)", $5, $6; printf "\n"; i[$1] = $4 }
    END { if (i["A1"] > 0) printf "  B1 - A1: %+d instructions per request; A1/B1 %.3f\n", i["B1"] - i["A1"], i["A1"] / i["B1"] }' "$BENCH/callgrind.tsv"
  ev=0
  if [ -f "$BENCH/B1/logs/events.jsonl" ]; then ev=$(wc -l < "$BENCH/B1/logs/events.jsonl"); fi
  echo "  B1: $ev detection events (monitor reaction)"
  for v in ${BENCH_CALLGRIND_VARIANTS:-A1 B1}; do
    if [ -f "$BENCH/footprint-$v.txt" ]; then
      echo "  $v hot code ($BENCH/footprint-$v.txt):"
      sed -n '2,/in all/p' "$BENCH/footprint-$v.txt" | sed 's/^/  /'
    fi
  done
  echo "annotations: $BENCH/callgrind-A1.txt, callgrind-B1.txt, callgrind-B1-inclusive.txt"
  exit 0
fi

# ---------------------------------------------------------------- capacity, sweep

if [ "$MODE" = sweep ]; then
  VARIANTS="A1 L10 L1M K1K K1M"
  say "sweep: 10 and 1,000,000 list entries; 1,000 and 1,000,000 clients (monitor reaction: 1,000 clients at full rate are not human-paced)"
  make_profiles "$BENCH/profiles-L10.toml" true 10 "$REACTION"
  make_profiles "$BENCH/profiles-L1M.toml" true 1000000 "$REACTION"
  make_profiles "$BENCH/profiles-K.toml" true "$DENY" monitor
else
  make_profiles "$BENCH/profiles-B.toml" true "$DENY" "$REACTION"
  make_profiles "$BENCH/profiles-C.toml" false
  for v in $VARIANTS; do
    case "$v" in A1|B1|A2|B2|PA|PB|C1|D1) ;; *) die "unknown variant $v" ;; esac
  done
fi

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
say "machine: $(nproc) CPUs, load average $LOAD_BEFORE; nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///')"

# Plain variants first: their rate sizes the client count.
if has "$VARIANTS" PA || has "$VARIANTS" PB; then make_conf X; start X; fi
fastest=0
for v in $VARIANTS; do
  is_plain "$v" || continue
  make_conf "$v"
  start "$v"
  r=$(wrk_cmd "$v" "$WARMUP" | grep '^BENCH ' | tail -n1 | rate_of)
  say "  $v warm-up: $r req/s"
  if [ "$r" -gt "$fastest" ]; then fastest=$r; fi
done
need=$(awk -v r="$fastest" -v g="$GAP" 'BEGIN { printf "%d\n", r * g + 0.5 }')
if [ "$need" -gt "$CLIENTS" ]; then CLIENTS=$need; fi
ZONE_MB=$(awk -v c="$CLIENTS" 'BEGIN { z = int(c * 330 / 1048576) + 16; print (z < 64 ? 64 : z) }')
say "clients: $CLIENTS (fastest plain rate $fastest req/s x ${GAP} s, at least $MIN_CLIENTS); zone ${ZONE_MB}m"
for v in $VARIANTS; do
  is_plain "$v" && continue
  case "$v" in
    L10) make_conf L10 "$BENCH/profiles-L10.toml" "$ZONE_MB" ;;
    L1M) make_conf L1M "$BENCH/profiles-L1M.toml" "$ZONE_MB" ;;
    K1K) make_conf K1K "$BENCH/profiles-K.toml" 64 ;;
    K1M) make_conf K1M "$BENCH/profiles-K.toml" 400 ;;
    *) make_conf "$v" "$BENCH/profiles-B.toml" "$ZONE_MB" ;;
  esac
  start "$v"
  wrk_cmd "$v" "$WARMUP" > /dev/null
done

printf 'variant\tround\trps\tp50_us\tp99_us\tnon2xx\tsocket_errors\tcpu_us_per_req\tcpu_util\trequests\tuser_us_per_req\tsys_us_per_req\n' > "$BENCH/results.tsv"
say "measuring: $ROUNDS rounds x ${DURATION} s per variant, wrk -t1 -c$CONNS, alternating $VARIANTS"
for round in $(seq 1 "$ROUNDS"); do
  for v in $VARIANTS; do run "$v" "$round"; done
done

# Latency without queueing: one connection, so every request finds the worker
# idle and the difference is the time the module adds to one request. Rounds
# alternate A1 and B1 so that a change in the machine's load hits both; each
# round records the load average and the worker's CPU time per request (from
# /proc/<pid>/schedstat, nanoseconds), which does not depend on how long the
# request waited for a CPU. The figure is the median over rounds of the
# paired difference B1 - A1 (p50 and p99); it is marked not valid when
# something else used the CPUs during a round (all CPUs' busy time from
# /proc/stat, steal included, minus the worker's and wrk's own CPU time, above
# 15 % of one CPU in any round) or the plain variant's p99 moved by more than
# 2x between rounds. The load average is recorded but not judged: it is a
# one-minute mean that still carries the capacity rounds just before.
sched_ns() { # CPU nanoseconds of a set of processes, summed
  local t=0 p a
  for p in $1; do read -r a _ < "/proc/$p/schedstat"; t=$((t + a)); done
  echo "$t"
}
busy_ms() { # busy milliseconds of all CPUs since boot (user nice system irq softirq steal)
  awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" { printf "%.0f\n", ($2 + $3 + $4 + $7 + $8 + $9) * 1000 / hz; exit }' /proc/stat
}
children_ms() { # user + system CPU milliseconds of finished children, from a file written by `times`
  awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60000 + a[2] * 1000 } printf "%.0f\n", t }' "$1"
}
if [ "$MODE" = capacity ] && has "$VARIANTS" A1 && has "$VARIANTS" B1; then
  say "latency: $LAT_ROUNDS rounds x ${LAT_DURATION} s, wrk -t1 -c1, alternating A1 B1"
  printf 'variant\tround\trps\tp50_us\tp90_us\tp99_us\tp999_us\tnon2xx\tload1\tcpu_ns_per_req\tothers_pct\n' > "$BENCH/latency.tsv"
  for round in $(seq 1 "$LAT_ROUNDS"); do
    for v in A1 B1; do
      pids=$(worker_pids "$v")
      load1=$(cut -d' ' -f1 /proc/loadavg)
      c0=$(sched_ns "$pids")
      b0=$(busy_ms)
      times > "$BENCH/times0" # in this shell: a subshell's own children start at zero
      line=$(wrk_cmd "$v" "$LAT_DURATION" 1 | grep '^BENCH ' | tail -n1)
      times > "$BENCH/times1"
      b1=$(busy_ms)
      c1=$(sched_ns "$pids")
      k0=$(children_ms "$BENCH/times0")
      k1=$(children_ms "$BENCH/times1")
      [ -n "$line" ] || die "no result from wrk (latency, $v)"
      printf '%s\n' "$line" | awk -v v="$v" -v r="$round" -v l="$load1" -v cpu=$((c1 - c0)) \
          -v others=$(( (b1 - b0) - (k1 - k0) - (c1 - c0) / 1000000 )) '{
        for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
        pct = others * 100 / (f["duration_us"] / 1000); if (pct < 0) pct = 0
        printf "%s\t%d\t%.0f\t%d\t%d\t%d\t%d\t%d\t%s\t%.0f\t%.1f\n", v, r, f["requests"] / (f["duration_us"] / 1e6),
          f["p50"], f["p90"], f["p99"], f["p999"], f["non2xx"] + f["connect"] + f["read"] + f["write"] + f["timeout"],
          l, cpu / (f["requests"] > 0 ? f["requests"] : 1), pct
      }' >> "$BENCH/latency.tsv"
      tail -n1 "$BENCH/latency.tsv" | awk -F'\t' '{
        printf "  %s round %s (1 connection): %6d req/s  p50 %4d us  p90 %4d us  p99 %5d us  p99.9 %5d us  worker CPU %5.2f us/req  load %s, others %.0f %% of a CPU\n", $1, $2, $3, $4, $5, $6, $7, $10 / 1000, $9, $11 }' >&2
    done
  done
fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report

echo
echo "ngx_http_api_abuse_module benchmark ($MODE): $ROUNDS x ${DURATION} s per variant, wrk -t1 -c$CONNS, $CLIENTS clients, $DENY deny entries"
echo "machine: $(nproc) CPUs, load average $LOAD_BEFORE before, $LOAD_AFTER after; $([ "$PIN" = 1 ] && echo '1-worker nginx on CPU 0, wrk on CPU 1' || echo 'no CPU pinning')"
echo
printf '%-4s %-40s %8s %7s %7s %9s %7s %7s %5s %7s\n' "" "variant (medians of rounds)" "req/s" "p50 us" "p99 us" "CPU us/rq" "user" "sys" "CPU%" "non-2xx"
for v in $VARIANTS; do
  printf '%-4s %-40s %8.0f %7.0f %7.0f %9.2f %7.2f %7.2f %5.0f %7d\n' "$v" "$(describe "$v")" \
    "$(median "$v" 3)" "$(median "$v" 4)" "$(median "$v" 5)" "$(median "$v" 8)" "$(median "$v" 11)" \
    "$(median "$v" 12)" "$(awk "BEGIN { print $(median "$v" 9) * 100 }")" "$(total "$v" 6)"
done
echo
status=0
for v in $VARIANTS; do
  a=$(base_of "$v")
  if [ -z "$a" ] || ! has "$VARIANTS" "$a"; then continue; fi
  target=0.95
  if [ "$v" = PB ]; then target=0.98; fi
  awk -v v="$v" -v a="$a" -v t="$target" -v bc="$(median "$v" 8)" -v ac="$(median "$a" 8)" \
      -v b="$(median "$v" 3)" -v ar="$(median "$a" 3)" 'BEGIN {
    cap = ac / bc
    printf "%-3s vs %-3s capacity %.3f (CPU per request %.2f / %.2f us, %+.2f us)  target >= %.2f: %s;  throughput ratio %.3f\n",
      v, a, cap, ac, bc, bc - ac, t, (cap >= t ? "met" : sprintf("missed by %.1f points", (t - cap) * 100)), b / ar
  }'
done
if [ -f "$BENCH/latency.tsv" ]; then
  L="$BENCH/latency.tsv"
  # Per round: B1's figure minus the A1 figure of the same round.
  pairs() { # column
    awk -F'\t' -v c="$1" 'NR > 1 { x[$1, $2] = $c; r[$2] = 1 } END { for (k in r) print x["B1", k] - x["A1", k] }' "$L" | sort -g \
      | awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
  }
  awk -F'\t' -v ncpu="$(nproc)" -v d50="$(pairs 4)" -v d99="$(pairs 6)" -v dcpu="$(pairs 10)" \
      -v a50="$(median A1 4 "$L")" -v b50="$(median B1 4 "$L")" -v a99="$(median A1 6 "$L")" -v b99="$(median B1 6 "$L")" \
      -v a999="$(median A1 7 "$L")" -v b999="$(median B1 7 "$L")" -v acpu="$(median A1 10 "$L")" -v bcpu="$(median B1 10 "$L")" '
    NR > 1 { if ($9 > maxload) maxload = $9; if ($11 > maxothers) maxothers = $11
             if ($1 == "A1") { if (min99 == "" || $6 < min99) min99 = $6; if ($6 > max99) max99 = $6 } }
    END {
      printf "one connection (no queue), medians of rounds: A1 p50 %d us, p99 %d us, p99.9 %d us, worker CPU %.2f us/req; B1 p50 %d us, p99 %d us, p99.9 %d us, worker CPU %.2f us/req\n",
        a50, a99, a999, acpu / 1000, b50, b99, b999, bcpu / 1000
      why = ""
      if (maxothers > 15) why = sprintf("machine busy: other processes used up to %.0f %% of a CPU in a round (load average up to %.2f on %d CPUs)", maxothers, maxload, ncpu)
      else if (min99 > 0 && max99 > 2 * min99) why = sprintf("A1 p99 moved from %d to %d us between rounds", min99, max99)
      printf "B1-A1 added latency, 1 conn (median of paired rounds)  p50 %+d us, p99 %+d us, worker CPU %+.2f us/req  target < 50 us at p99: %s\n",
        d50, d99, dcpu / 1000, (why != "" ? "NOT VALID (" why ")" : (d99 < 50 ? "met" : "missed"))
    }' "$L"
  bad=$(awk -F'\t' 'NR > 1 { s += $8 } END { print s + 0 }' "$L")
  if [ "$bad" -gt 0 ]; then echo "WARNING: $bad non-2xx responses or socket errors in the latency rounds"; status=1; fi
fi
echo
for v in $VARIANTS; do
  bad=$(( $(total "$v" 6) + $(total "$v" 7) ))
  if [ "$bad" -gt 0 ]; then
    echo "WARNING: variant $v had $(total "$v" 6) non-2xx responses and $(total "$v" 7) socket errors: the comparison is not valid"
    status=1
  fi
done
for v in $VARIANTS; do
  is_plain "$v" && continue
  [ "$v" = D1 ] && continue
  ev=0
  if [ -f "$BENCH/$v/logs/events.jsonl" ]; then ev=$(wc -l < "$BENCH/$v/logs/events.jsonl"); fi
  blocked=$(grep -c 'api_abuse: client .* blocked' "$BENCH/$v/logs/error.log" || true)
  if [ "$v" = K1K ]; then
    echo "$v: $ev detection events (monitor; 1,000 clients at full rate are not human-paced), $blocked refused"
  else
    echo "$v: $ev detection events, $blocked refused requests in the error log (expected: 0 and 0)"
    if [ "$ev" -gt 0 ] || [ "$blocked" -gt 0 ]; then status=1; fi
  fi
done
for v in X $VARIANTS; do
  [ -f "$BENCH/$v/logs/error.log" ] || continue
  if grep -qE '\[(alert|emerg|crit)\]' "$BENCH/$v/logs/error.log"; then
    echo "WARNING: $v error log has [alert]/[emerg]/[crit] lines: $BENCH/$v/logs/error.log"
    status=1
  fi
done
# The same figures as a Markdown table, for docs/performance.md.
echo
echo "Markdown ($(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), load average $LOAD_BEFORE before, $LOAD_AFTER after, $CLIENTS clients):"
echo
echo "| variant (medians of $ROUNDS x ${DURATION} s) | req/s | worker CPU µs/request | capacity | target |"
echo "|---|---:|---:|---:|---|"
for v in $VARIANTS; do
  a=$(base_of "$v")
  target=0.95
  if [ "$v" = PB ]; then target=0.98; fi
  awk -v v="$v" -v d="$(describe "$v")" -v a="$a" -v t="$target" -v r="$(median "$v" 3)" -v bc="$(median "$v" 8)" \
      -v ac="$( [ -n "$a" ] && has "$VARIANTS" "$a" && median "$a" 8 || echo 0)" 'BEGIN {
    if (ac > 0) { cap = ac / bc; printf "| %s %s | %d | %.2f | **%.3f** | %.2f: %s |\n", v, d, r, bc, cap, t,
        (cap >= t ? "met" : sprintf("missed by %.1f points", (t - cap) * 100)) }
    else printf "| %s %s | %d | %.2f | | |\n", v, d, r, bc
  }'
done
echo
echo "per-round figures: $BENCH/results.tsv; wrk output: $BENCH/wrk-*.txt"
exit "$status"
