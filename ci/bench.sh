#!/usr/bin/env bash
# Side-by-side throughput and latency benchmark on loopback: the same release
# nginx binary, the same static content and the same configuration, once
# without the module (A) and once with the module loaded and every detector on
# (B), measured in alternating rounds with wrk so that background load on the
# machine hits both alike. See docs/performance.md for figures and discussion.
#
#   ci/bench.sh        about 2.5 minutes: 4 variants x 5 rounds x 5 s, alternating,
#                      then 3 rounds x 3 s of A and B on one connection (latency)
#
# Variants (each its own nginx, worker_processes 1, same binary and content):
#   A  plain nginx, no load_module
#   B  the module loaded and on, every detector on (the figure that matters)
#   C  the module on with its one profile disabled: access decision only
#      (lists, exceptions, attack signatures in PREACCESS), no detection
#   D  the module loaded, `api_abuse off`: the price of loading it
# B against A is the benchmark; C and D show where B's cost goes.
#
# Environment (all optional):
#   BENCH_ROUNDS=5 BENCH_DURATION=5    rounds per variant, seconds per round
#   BENCH_CONNECTIONS=32               wrk connections (one wrk thread)
#   BENCH_CLIENTS=20000                distinct client addresses (X-Forwarded-For)
#   BENCH_DENY=100000                  denylist entries in the profiles file
#   BENCH_VARIANTS="A B C D"           which variants to run ("A B" for the bare comparison)
#   BENCH_PIN=1                        nginx worker on CPU 0, wrk on CPU 1 (0: unpinned)
#   BENCH_PERF=1                       after the rounds, profile one B round with
#                                      `perf record -e cpu-clock` (target/bench/perf-B.txt)
#   BENCH_PORT=18480                   first of four loopback ports
#
# Runtime files: target/bench/<variant>/ (conf, html, logs), results in
# target/bench/results.tsv and latency.tsv. All nginx instances are stopped through their pid
# files on exit, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
BENCH="$REPO/target/bench"

ROUNDS=${BENCH_ROUNDS:-5}
DURATION=${BENCH_DURATION:-5}
CONNS=${BENCH_CONNECTIONS:-32}
CLIENTS=${BENCH_CLIENTS:-20000}
DENY=${BENCH_DENY:-100000}
VARIANTS=${BENCH_VARIANTS:-A B C D}
PIN=${BENCH_PIN:-1}
PERF=${BENCH_PERF:-0}
PORT_BASE=${BENCH_PORT:-18480}
WARMUP=2
LAT_DURATION=3
LAT_ROUNDS=3

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

say() { printf '%s\n' "$*" >&2; }
die() { say "bench: $*"; exit 1; }

describe() {
  case "$1" in
    A) echo "plain nginx" ;;
    B) echo "module, all detectors on" ;;
    C) echo "module on, detection off (lists+signatures)" ;;
    D) echo "module loaded, api_abuse off" ;;
  esac
}
port_of() { echo $((PORT_BASE + $(printf '%d' "'$1") - 65)); }

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

stop_all() {
  local v
  for v in A B C D; do
    [ -d "$BENCH/$v" ] && stop_one "$BENCH/$v"
  done
  return 0
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- tools, build

if ! command -v wrk >/dev/null 2>&1; then
  say "installing wrk"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk
fi
if [ "$PERF" = 1 ] && ! command -v perf >/dev/null 2>&1; then
  say "installing linux-perf"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq linux-perf
fi

say "building (release)..."
cargo build --release --quiet
NGINX=$(cargo build --release --message-format=json 2>/dev/null \
        | grep -o '"out_dir":"[^"]*nginx-sys-[^"]*"' | tail -n1 | sed 's/"out_dir":"//; s/"$//')
NGINX="${NGINX:+$NGINX/objs/nginx}"
if [ -z "$NGINX" ] || [ ! -x "$NGINX" ]; then
  NGINX=$(ls -t "$REPO"/target/release/build/nginx-sys-*/out/objs/nginx 2>/dev/null | head -n1)
fi
[ -x "$NGINX" ] || die "release nginx binary not found under target/release/build"
MODULE="$REPO/target/release/libngx_http_api_abuse_module.so"
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
  local file="$1" enabled="$2"
  {
    echo "# Generated by ci/bench.sh."
    echo "[lists]"
    echo "deny = ["
    awk -v n="$DENY" 'BEGIN {
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
reaction = "denylist"
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

make_conf() {
  local v="$1" prefix="$BENCH/$1" port load="" http="" server=""
  port=$(port_of "$v")
  case "$v" in
    B|C)
      load="load_module $MODULE;"
      http="api_abuse_zone abuse:64m;
    api_abuse_profiles $BENCH/profiles-$v.toml;
    api_abuse_events logs/events.jsonl;"
      server="api_abuse on;
        api_abuse_app bench;" ;;
    D)
      load="load_module $MODULE;"
      server="api_abuse off;" ;;
  esac
  local affinity=""
  [ "$PIN" = 1 ] && affinity="worker_cpu_affinity 01;"
  mkdir -p "$prefix"/{conf,logs,tmp}
  chmod 0777 "$prefix/logs" "$prefix/tmp"
  chmod 0755 "$prefix" "$prefix/conf"
  cat > "$prefix/conf/nginx.conf" <<EOF
# Generated by ci/bench.sh: variant $v ($(describe "$v")).
$load
worker_processes 1;
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
            root html;
        }
    }
}
EOF
  cp -r "$BENCH/html" "$prefix/html"
}

# The load: realistic browser traffic against a JSON API. Each of $CLIENTS
# addresses in 172.16.0.0/12 is one person with a fixed browser, a session
# cookie and four products of interest; requests pick a random client, so each
# client's gaps are irregular (as people's are) and its pace is total
# rate / $CLIENTS, about one request per second at the rates measured here.
make_lua() {
  cat > "$BENCH/load.lua" <<'EOF'
-- Generated by ci/bench.sh.
local nclients = tonumber(os.getenv("BENCH_CLIENTS") or "20000")
local random = math.random
math.randomseed(tonumber(os.getenv("BENCH_SEED") or "7"))

local uas = {
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
  "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
}
local langs = { "en-US,en;q=0.9", "nl-NL,nl;q=0.9,en;q=0.8", "de-DE,de;q=0.9,en;q=0.7", "fr-FR,fr;q=0.9" }
local sorts = { "price", "-price", "name", "created_at" }

-- Per client: the headers that identify it, and its products of interest.
local heads, prods = {}, {}
for i = 1, nclients do
  -- spread over 172.16.0.0/12 (2^20 addresses; 7919 is odd, so no repeats)
  local a = (i * 7919) % 1048576
  local ip = string.format("172.%d.%d.%d", 16 + math.floor(a / 65536), math.floor(a / 256) % 256, a % 256)
  heads[i] = "User-Agent: " .. uas[(i % #uas) + 1] .. "\r\n"
    .. "Accept-Language: " .. langs[(i % #langs) + 1] .. "\r\n"
    .. "Accept-Encoding: gzip, deflate, br\r\n"
    .. string.format("Cookie: sid=%08x%08x; theme=light\r\n", (i * 2654435761) % 4294967296, (i * 40503) % 4294967296)
    .. "X-Forwarded-For: " .. ip .. "\r\n\r\n"
  prods[i] = { 1 + (i * 31) % 1000, 1 + (i * 31 + 257) % 1000, 1 + (i * 31 + 514) % 1000, 1 + (i * 31 + 771) % 1000 }
end

local host = "Host: shop.example\r\n"
local page = "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
  .. "Sec-Fetch-Site: none\r\nSec-Fetch-Mode: navigate\r\nSec-Fetch-Dest: document\r\nUpgrade-Insecure-Requests: 1\r\n"
local asset = "Accept: */*\r\nReferer: https://shop.example/\r\n"
  .. "Sec-Fetch-Site: same-origin\r\nSec-Fetch-Mode: no-cors\r\nSec-Fetch-Dest: script\r\n"
local api = "Accept: application/json\r\nReferer: https://shop.example/\r\n"
  .. "Sec-Fetch-Site: same-origin\r\nSec-Fetch-Mode: cors\r\nSec-Fetch-Dest: empty\r\nX-Requested-With: XMLHttpRequest\r\n"

function request()
  local c = random(nclients)
  local r = random(100)
  if r <= 8 then
    return "GET / HTTP/1.1\r\n" .. host .. page .. heads[c]
  elseif r <= 16 then
    return "GET /static/app.js HTTP/1.1\r\n" .. host .. asset .. heads[c]
  end
  return "GET /api/v1/products/" .. prods[c][random(4)] .. ".json?fields=id,name,price&currency=EUR&sort="
    .. sorts[random(4)] .. "&page=" .. random(3) .. " HTTP/1.1\r\n" .. host .. api .. heads[c]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50=%.0f p90=%.0f p99=%.0f p999=%.0f max=%.0f non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max,
    e.status, e.connect, e.read, e.write, e.timeout))
end
EOF
}

# ---------------------------------------------------------------- run

start() {
  local v="$1" prefix="$BENCH/$1" port
  port=$(port_of "$v")
  if ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
    die "port $port is in use (set BENCH_PORT)"
  fi
  "$NGINX" -p "$prefix" -c conf/nginx.conf -t -q || die "nginx -t failed for $v: see $prefix/logs/error.log"
  "$NGINX" -p "$prefix" -c conf/nginx.conf
  for _ in $(seq 100); do
    if curl -fs -o /dev/null "http://127.0.0.1:$port/api/v1/products/1.json"; then return; fi
    sleep 0.1
  done
  die "variant $v did not answer on 127.0.0.1:$port; see $prefix/logs/error.log"
}

worker_pid() {
  local master
  master=$(cat "$BENCH/$1/logs/nginx.pid")
  pgrep -P "$master" | head -n1
}

# user and system CPU ticks of a process
cpu_ticks() { awk '{ print $14, $15 }' "/proc/$1/stat"; }

wrk_cmd() {
  local v="$1" secs="$2" conns="${3:-$CONNS}"
  local cmd=(wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$BENCH/load.lua" "http://127.0.0.1:$(port_of "$v")/")
  if [ "$PIN" = 1 ]; then cmd=(taskset -c 1 "${cmd[@]}"); fi
  BENCH_CLIENTS=$CLIENTS "${cmd[@]}"
}

# run VARIANT ROUND: one wrk round, appends a line to results.tsv
run() {
  local v="$1" round="$2" wpid u0 s0 u1 s1 out line
  wpid=$(worker_pid "$v")
  read -r u0 s0 < <(cpu_ticks "$wpid")
  out=$(wrk_cmd "$v" "$DURATION")
  read -r u1 s1 < <(cpu_ticks "$wpid")
  printf '%s\n' "$out" > "$BENCH/wrk-$v-$round.txt"
  line=$(printf '%s\n' "$out" | grep '^BENCH ' | tail -n1)
  [ -n "$line" ] || die "no result from wrk for $v (see $BENCH/wrk-$v-$round.txt)"
  # The worker's CPU time over the round (user + system, from /proc) divided
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
    printf "  %s round %s: %6d req/s  p50 %5d us  p99 %6d us  worker %5.2f us/req (user %5.2f, sys %5.2f; %3.0f%% CPU)  non-2xx %d  socket errors %d\n",
      $1, $2, $3, $4, $5, $8, $11, $12, $9 * 100, $6, $7 }' >&2
}

say "preparing $BENCH (profiles with $DENY deny entries, $CLIENTS clients)..."
make_html "$BENCH/html"
make_lua
make_profiles "$BENCH/profiles-B.toml" true
make_profiles "$BENCH/profiles-C.toml" false
for v in $VARIANTS; do
  case "$v" in A|B|C|D) ;; *) die "unknown variant $v (A, B, C, D)" ;; esac
  make_conf "$v"
done
for v in $VARIANTS; do start "$v"; done

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
say "machine: $(nproc) CPUs, load average $LOAD_BEFORE; nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///')"
say "warm-up ${WARMUP}s per variant..."
for v in $VARIANTS; do wrk_cmd "$v" "$WARMUP" > /dev/null; done

printf 'variant\tround\trps\tp50_us\tp99_us\tnon2xx\tsocket_errors\tcpu_us_per_req\tcpu_util\trequests\tuser_us_per_req\tsys_us_per_req\n' > "$BENCH/results.tsv.head"
: > "$BENCH/results.tsv"
say "measuring: $ROUNDS rounds x ${DURATION}s per variant, wrk -t1 -c$CONNS, alternating $VARIANTS"
for round in $(seq 1 "$ROUNDS"); do
  for v in $VARIANTS; do run "$v" "$round"; done
done

# Latency without queueing: one connection, so every request finds the worker
# idle and the difference between A and B is the time the module adds to one
# request (with 32 connections on a saturated worker, latency is mostly the
# queue: 32 / throughput).
if [[ " $VARIANTS " == *" A "* && " $VARIANTS " == *" B "* ]]; then
  say "latency: $LAT_ROUNDS rounds x ${LAT_DURATION}s, wrk -t1 -c1, alternating A B"
  printf 'variant\tround\trps\tp50_us\tp90_us\tp99_us\tp999_us\tnon2xx\n' > "$BENCH/latency.tsv"
  for round in $(seq 1 "$LAT_ROUNDS"); do
    for v in A B; do
      line=$(wrk_cmd "$v" "$LAT_DURATION" 1 | grep '^BENCH ' | tail -n1)
      [ -n "$line" ] || die "no result from wrk (latency, $v)"
      printf '%s\n' "$line" | awk -v v="$v" -v r="$round" '{
        for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
        printf "%s\t%d\t%.0f\t%d\t%d\t%d\t%d\t%d\n", v, r, f["requests"] / (f["duration_us"] / 1e6),
          f["p50"], f["p90"], f["p99"], f["p999"], f["non2xx"] + f["connect"] + f["read"] + f["write"] + f["timeout"]
      }' >> "$BENCH/latency.tsv"
      tail -n1 "$BENCH/latency.tsv" | awk -F'\t' '{
        printf "  %s round %s (1 connection): %6d req/s  p50 %4d us  p90 %4d us  p99 %5d us  p99.9 %5d us\n", $1, $2, $3, $4, $5, $6, $7 }' >&2
    done
  done
fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

if [ "$PERF" = 1 ] && [[ " $VARIANTS " == *" B "* ]]; then
  say "profiling one B round with perf (cpu-clock)..."
  wpid=$(worker_pid B)
  perf record -q -e cpu-clock -F 1999 -g -p "$wpid" -o "$BENCH/perf-B.data" -- sleep "$DURATION" 2>/dev/null &
  perf_pid=$!
  wrk_cmd B "$DURATION" > /dev/null
  wait "$perf_pid" || true
  perf report -i "$BENCH/perf-B.data" --stdio -g none --no-children --sort dso,symbol 2>/dev/null \
    | grep -v '^#' | grep -E '^ +[0-9]' | head -n 40 > "$BENCH/perf-B.txt" || true
  perf report -i "$BENCH/perf-B.data" --stdio -g none --no-children --sort dso 2>/dev/null \
    | grep -v '^#' | grep -E '^ +[0-9]' | head -n 10 > "$BENCH/perf-B-dso.txt" || true
  say "perf: $BENCH/perf-B.txt (by symbol), $BENCH/perf-B-dso.txt (by object)"
fi

# ---------------------------------------------------------------- report

cat "$BENCH/results.tsv.head" "$BENCH/results.tsv" > "$BENCH/results.tsv.tmp"
mv "$BENCH/results.tsv.tmp" "$BENCH/results.tsv"
rm -f "$BENCH/results.tsv.head"

median() { # median of column $2 for variant $1 (in results.tsv, or the file $3)
  awk -F'\t' -v v="$1" -v c="$2" 'NR > 1 && $1 == v { print $c }' "${3:-$BENCH/results.tsv}" \
    | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
total() {
  awk -F'\t' -v v="$1" -v c="$2" 'NR > 1 && $1 == v { s += $c } END { print s + 0 }' "$BENCH/results.tsv"
}

echo
echo "ngx_http_api_abuse_module benchmark: $ROUNDS x ${DURATION}s per variant, wrk -t1 -c$CONNS, $CLIENTS clients, $DENY deny entries"
echo "machine: $(nproc) CPUs, load average $LOAD_BEFORE before, $LOAD_AFTER after; $([ "$PIN" = 1 ] && echo 'nginx worker on CPU 0, wrk on CPU 1' || echo 'no CPU pinning')"
echo
printf '%-46s %8s %7s %7s %9s %7s %7s %5s %7s\n' "variant (medians of rounds)" "req/s" "p50 us" "p99 us" "CPU us/rq" "user" "sys" "CPU%" "non-2xx"
for v in $VARIANTS; do
  printf '%-46s %8.0f %7.0f %7.0f %9.2f %7.2f %7.2f %5.0f %7d\n' "$v $(describe "$v")" \
    "$(median "$v" 3)" "$(median "$v" 4)" "$(median "$v" 5)" "$(median "$v" 8)" "$(median "$v" 11)" \
    "$(median "$v" 12)" "$(awk "BEGIN { print $(median "$v" 9) * 100 }")" "$(total "$v" 6)"
done
echo
status=0
if [[ " $VARIANTS " == *" A "* ]]; then
  for v in $VARIANTS; do
    [ "$v" = A ] && continue
    awk -v v="$v" -v b="$(median "$v" 3)" -v a="$(median A 3)" -v bp="$(median "$v" 5)" -v ap="$(median A 5)" \
        -v bc="$(median "$v" 8)" -v ac="$(median A 8)" -v bu="$(median "$v" 11)" -v au="$(median A 11)" \
        -v bs="$(median "$v" 12)" -v as="$(median A 12)" 'BEGIN {
      ratio = b / a
      printf "%s/A throughput (req/s)       %.3f  target >= 0.95: %s\n", v, ratio,
        (ratio >= 0.95 ? "met" : sprintf("missed by %.1f points", (0.95 - ratio) * 100))
      printf "%s/A capacity (A CPU / %s CPU) %.3f  requests per CPU-second of the worker, independent of other load\n", v, v, ac / bc
      printf "%s-A p99 latency, 32 conns   %+6d us  (a saturated worker: mostly queueing, 32 / throughput)\n", v, bp - ap
      printf "%s-A worker CPU per request  %+6.2f us  (user %+.2f, sys %+.2f): the module'"'"'s own cost\n", v, bc - ac, bu - au, bs - as
    }'
  done
  if [ -f "$BENCH/latency.tsv" ]; then
    L="$BENCH/latency.tsv"
    awk -v a50="$(median A 4 "$L")" -v b50="$(median B 4 "$L")" -v a99="$(median A 6 "$L")" -v b99="$(median B 6 "$L")" \
        -v a999="$(median A 7 "$L")" -v b999="$(median B 7 "$L")" 'BEGIN {
      printf "one connection (no queue): A p50 %d us, p99 %d us, p99.9 %d us; B p50 %d us, p99 %d us, p99.9 %d us\n",
        a50, a99, a999, b50, b99, b999
      printf "B-A added latency, 1 conn  p50 %+d us, p99 %+d us  target < 50 us at p99: %s\n", b50 - a50, b99 - a99,
        (b99 - a99 < 50 ? "met" : "missed")
    }'
    bad=$(awk -F'\t' 'NR > 1 { s += $8 } END { print s + 0 }' "$L")
    if [ "$bad" -gt 0 ]; then echo "WARNING: $bad non-2xx responses or socket errors in the latency rounds"; status=1; fi
  fi
  echo
fi
for v in $VARIANTS; do
  bad=$(( $(total "$v" 6) + $(total "$v" 7) ))
  if [ "$bad" -gt 0 ]; then
    echo "WARNING: variant $v had $(total "$v" 6) non-2xx responses and $(total "$v" 7) socket errors: the comparison is not valid"
    status=1
  fi
done
for v in B C; do
  [[ " $VARIANTS " == *" $v "* ]] || continue
  ev=0
  [ -f "$BENCH/$v/logs/events.jsonl" ] && ev=$(wc -l < "$BENCH/$v/logs/events.jsonl")
  blocked=$(grep -c 'api_abuse: client .* blocked' "$BENCH/$v/logs/error.log" || true)
  echo "$v: $ev detection events, $blocked refused requests in the error log (expected: 0 and 0)"
  if [ "$ev" -gt 0 ] || [ "$blocked" -gt 0 ]; then status=1; fi
done
for v in $VARIANTS; do
  if grep -qE '\[(alert|emerg|crit)\]' "$BENCH/$v/logs/error.log"; then
    echo "WARNING: $v error log has [alert]/[emerg]/[crit] lines: $BENCH/$v/logs/error.log"
    status=1
  fi
done
echo "per-round figures: $BENCH/results.tsv; wrk output: $BENCH/wrk-*.txt"
exit "$status"
