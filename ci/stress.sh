#!/usr/bin/env bash
# Stress run: the real nginx with the module (two workers) under concurrent
# load from many client addresses while the operator's bad day happens, and
# the same scenario against the same nginx binary WITHOUT the module (the
# control), so that what plain nginx also shows (connections closed by a
# reload or by a killed worker) is told apart from what the module causes.
#
#   ci/stress.sh [SECONDS] [SCENARIO...]
#
# SECONDS (default 10) is the length of each timed scenario; the figures in
# docs/testing.md come from `nice -n 10 ci/stress.sh 60`. Scenarios (default:
# all, in this order):
#   reload    `nginx -s reload` every 100 ms
#   kill      SIGKILL of a random worker every second (the master respawns it)
#   profiles  the profiles file replaced, truncated, made unreadable, broken,
#             restored, in a loop; `nginx -s reopen` while it is broken
#   state     the state file corrupted in several ways between restarts
#   zone      a small zone filled by STRESS_CLIENTS distinct clients
#             (default 5,000,000 with SECONDS >= 60, else 200,000)
#   lists     the run-time list table driven full by detections and by
#             operator entries
#
# How it measures. Clients speak through X-Forwarded-For (realip trusts
# 127.0.0.1), so one wrk (lua script below) is 10,000s of addresses, each
# asking for a few of 100 static pages like a browser. Before each run 200
# operator denylist entries are added through the API (198.18.0.0/24); every
# tenth request comes from one of them and asks for /l.html. Each response
# carries `X-Uri` (add_header ... always), so the script counts per request:
#   normal_ok / normal_bad  a normal client got 200 / anything else
#   listed_403 / listed_bad a listed client was refused / was not
#   conn_errors             wrk's connect/read/write/timeout errors
# Failures the module caused = normal_bad + listed_bad in the module run,
# plus conn_errors above the control's. After each run the API must still
# list all 200 entries (entries lost must be 0), and the error log is
# searched for [alert], [emerg], [crit], panics and signals.
#
# Runtime files under target/stress/ (kept for inspection); every nginx this
# script starts is stopped through its pid file on exit. Needs wrk, curl, jq
# (ci/deps.sh) and a debug build (`cargo build`, done here); set
# STRESS_PROFILE=release for the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
OUT="$REPO/target/stress"
SECS=${1:-10}
shift || true
SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=(reload kill profiles state zone lists)
PROFILE=${STRESS_PROFILE:-debug}
if [ -z "${STRESS_CLIENTS:-}" ]; then
    if [ "$SECS" -ge 60 ]; then STRESS_CLIENTS=5000000; else STRESS_CLIENTS=200000; fi
fi
LISTED=200

say() { printf '%s\n' "$*" >&2; }
die() { say "stress: $*"; exit 1; }
for t in wrk curl jq; do command -v $t >/dev/null || die "needs $t (ci/deps.sh)"; done

flag=""
[ "$PROFILE" = release ] && flag="--release"
NGINX=$(cargo build $flag --message-format=json 2>/dev/null |
    grep -o '"out_dir":"[^"]*nginx-sys-[^"]*"' | tail -n1 | sed 's/"out_dir":"//; s/"$//')
NGINX="${NGINX:+$NGINX/objs/nginx}"
[ -x "${NGINX:-}" ] || NGINX=$(ls -t "$REPO"/target/$PROFILE/build/nginx-sys-*/out/objs/nginx 2>/dev/null | head -n1)
[ -x "${NGINX:-}" ] || die "nginx binary not found (cargo build $flag)"
MODULE="$REPO/target/$PROFILE/libngx_http_api_abuse_module.so"
[ -f "$MODULE" ] || die "module not built: $MODULE"

mkdir -p "$OUT"
chmod 0777 "$OUT" "$REPO/target" 2>/dev/null || true
RESULTS="$OUT/results.tsv"
printf 'scenario\tvariant\tseconds\trequests\tnormal_ok\tnormal_bad\tlisted_403\tlisted_bad\tconn_errors\tentries_lost\talerts\tnotes\n' >"$RESULTS"

PREFIXES=()
stop_all() {
    for p in "${PREFIXES[@]}"; do
        [ -f "$p/logs/nginx.pid" ] || continue
        pid=$(cat "$p/logs/nginx.pid" 2>/dev/null || true)
        [ -n "$pid" ] || continue
        kill -QUIT "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    # Workers left by a master that was killed: by the pids this script saw.
    for p in "${PREFIXES[@]}"; do
        [ -f "$p/workers.seen" ] || continue
        while read -r w; do
            # Only if it is still this nginx binary, orphaned (its master gone).
            if [ "$(readlink "/proc/$w/exe" 2>/dev/null)" = "$NGINX" ] &&
                [ "$(awk '{print $4}' "/proc/$w/stat" 2>/dev/null)" = 1 ]; then
                kill -KILL "$w" 2>/dev/null || true
            fi
        done <"$p/workers.seen"
    done
}
trap stop_all EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The load generator: wrk's lua hooks. Arguments: mode (pool|distinct|bot),
# pool size or first index, listed entries, threads.
cat >"$OUT/load.lua" <<'EOF'
local threads = {}
local tid = 0
function setup(thread)
    thread:set("tid", #threads)
    table.insert(threads, thread)
end

function init(args)
    mode = args[1] or "pool"
    base = tonumber(args[2] or "50000")
    listed = tonumber(args[3] or "0")
    nthreads = tonumber(args[4] or "1")
    n = 0
    normal_ok, normal_bad, listed_403, listed_bad, bot_404, bot_403, bot_other, unknown = 0, 0, 0, 0, 0, 0, 0, 0
    bad_status = ""
    math.randomseed(os.time() * 1000 + tid * 7919)
end

local function v4(i, first)
    return string.format("%d.%d.%d.%d", first + math.floor(i / 16777216) % 256,
        math.floor(i / 65536) % 256, math.floor(i / 256) % 256, i % 256)
end

local browser = {
    ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    ["Accept"] = "text/html,application/xhtml+xml",
    ["Accept-Language"] = "en-US,en;q=0.5",
    ["Accept-Encoding"] = "gzip, deflate",
}
local probes = { "/.env", "/.git/config", "/wp-login.php", "/phpinfo.php", "/server-status", "/admin/config.php" }

function request()
    n = n + 1
    local h = {}
    for k, v in pairs(browser) do h[k] = v end
    local path
    if listed > 0 and n % 10 == 0 then
        local k = math.random(0, listed - 1)
        h["X-Forwarded-For"] = "198.18." .. math.floor(k / 256) .. "." .. (k % 256)
        path = "/l.html"
    elseif mode == "distinct" then
        -- each request a new client: 10.0.0.0 + index
        h["X-Forwarded-For"] = v4(base + (n - 1) * nthreads + tid, 10)
        path = "/p" .. math.random(0, 99) .. ".html"
    elseif mode == "bot" then
        -- a pool of scanners cycling through probe paths with a scanner UA
        h["X-Forwarded-For"] = v4(n % base, 100)
        h["User-Agent"] = "sqlmap/1.7.2#stable (https://sqlmap.org)"
        path = probes[math.floor(n / base) % #probes + 1]
    else
        h["X-Forwarded-For"] = v4(math.random(0, base - 1), 10)
        path = "/p" .. math.random(0, 99) .. ".html"
    end
    return wrk.format("GET", path, h)
end

function response(status, headers, body)
    local uri = headers["X-Uri"]
    if uri == nil then
        unknown = unknown + 1
    elseif uri == "/l.html" then
        if status == 403 then listed_403 = listed_403 + 1 else listed_bad = listed_bad + 1 end
    elseif string.match(uri, "^/p%d") then
        if status == 200 then
            normal_ok = normal_ok + 1
        else
            normal_bad = normal_bad + 1
            if #bad_status < 200 then bad_status = bad_status .. status .. "," end
        end
    else
        if status == 404 then bot_404 = bot_404 + 1
        elseif status == 403 then bot_403 = bot_403 + 1
        else bot_other = bot_other + 1 end
    end
end

function done(summary, latency, requests)
    local t = { normal_ok = 0, normal_bad = 0, listed_403 = 0, listed_bad = 0, bot_404 = 0,
        bot_403 = 0, bot_other = 0, unknown = 0 }
    local bad = ""
    for _, th in ipairs(threads) do
        for k, _ in pairs(t) do t[k] = t[k] + (th:get(k) or 0) end
        bad = bad .. (th:get("bad_status") or "")
    end
    local e = summary.errors
    io.write(string.format("RESULT requests=%d normal_ok=%d normal_bad=%d listed_403=%d listed_bad=%d bot_404=%d bot_403=%d bot_other=%d unknown=%d conn_errors=%d connect=%d read=%d write=%d timeout=%d bad_status=%s\n",
        summary.requests, t.normal_ok, t.normal_bad, t.listed_403, t.listed_bad, t.bot_404, t.bot_403,
        t.bot_other, t.unknown, e.connect + e.read + e.write + e.timeout, e.connect, e.read, e.write,
        e.timeout, bad == "" and "-" or bad))
end
EOF

# Detection runs in full (every detector, campaigns, events) but the load's
# own clients are only reported (reaction monitor): one wrk speaking as
# 10,000s of addresses with one fingerprint IS a distributed bot, and the
# campaign detector says so. What must hold is enforcement of the operator
# entries and no failure of the module; the lists scenario switches the
# reaction to denylist to fill the table with detections.
PROFILES_GOOD='[lists]
deny = ["198.51.100.0/24"]

[[profile]]
name = "stress"
tolerance = "normal"
reaction = "monitor"
duration = "1h"
  [[profile.sensitive]]
  method = "POST"
  path = "/login"
  kind = "auth"
'

# make_prefix NAME VARIANT(module|control) ZONE_SIZE: sets $P to the prefix
make_prefix() {
    local name=$1 variant=$2 zone=$3 p port
    p="$OUT/$name-$variant"
    rm -rf "$p"
    mkdir -p "$p"/{conf,logs,html,state}
    chmod 0777 "$p" "$p"/{conf,logs,html,state}
    for i in $(seq 0 99); do echo "<html>page $i</html>" >"$p/html/p$i.html"; done
    echo "<html>listed client served</html>" >"$p/html/l.html"
    printf '%s' "$PROFILES_GOOD" >"$p/conf/profiles.toml"
    port=$(free_port)
    echo "$port" >"$p/port"
    {
        [ "$variant" = module ] && echo "load_module $MODULE;"
        cat <<EOF
worker_processes 2;
error_log logs/error.log notice;
pid logs/nginx.pid;
worker_rlimit_nofile 8192;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path logs/body;
    proxy_temp_path logs/proxy;
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;
    real_ip_recursive on;
EOF
        if [ "$variant" = module ]; then
            cat <<EOF
    api_abuse_zone abuse:$zone state=state/api_abuse.state;
    api_abuse_profiles conf/profiles.toml;
    api_abuse_events logs/events.jsonl;
EOF
        fi
        cat <<EOF
    server {
        listen 127.0.0.1:$port;
        add_header X-Uri \$uri always;
        $([ "$variant" = module ] && echo "api_abuse on; api_abuse_app stress;")
        location / { root html; }
        location /api-abuse/ {
            $([ "$variant" = module ] && echo "api_abuse_api write;")
            allow 127.0.0.1; deny all;
        }
    }
}
EOF
    } >"$p/conf/nginx.conf"
    PREFIXES+=("$p")
    P=$p
}

ngx() { "$NGINX" -p "$1" -c conf/nginx.conf "${@:2}"; }
master() { cat "$1/logs/nginx.pid" 2>/dev/null; }
workers() { pgrep -P "$(master "$1")" 2>/dev/null | tee -a "$1/workers.seen" || true; }
url() { echo "http://127.0.0.1:$(cat "$1/port")"; }

start() {
    ngx "$1" || die "nginx did not start in $1 (see $1/logs/error.log)"
    for _ in $(seq 50); do curl -s -o /dev/null "$(url "$1")/p0.html" && return 0; sleep 0.1; done
    die "nginx in $1 does not answer"
}

stop() {
    local pid
    pid=$(master "$1") || return 0
    [ -n "$pid" ] || return 0
    ngx "$1" -s quit 2>/dev/null || kill -QUIT "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    say "stress: $1 did not stop in 10 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
}

# Adds the LISTED operator entries (198.18.0.0/24 ...), forever.
add_listed() {
    local p=$1 i
    for i in $(seq 0 $((LISTED - 1))); do
        curl -s -o /dev/null -X POST "$(url "$p")/api-abuse/?addr=198.18.$((i / 256)).$((i % 256))&list=deny"
    done
}

# How many of the LISTED operator entries the API lists.
count_listed() {
    curl -s "$(url "$1")/api-abuse/lists?origin=operator&addr=198.18.0.0/16&limit=1" | jq '.matched // 0' 2>/dev/null || echo 0
}

alerts() { grep -cE '\[(alert|emerg|crit)\]|panicked|exited on signal' "$1/logs/error.log" 2>/dev/null || true; }

# run_load PREFIX SECONDS MODE BASE -> the RESULT line of wrk
run_load() {
    local p=$1 secs=$2 mode=$3 base=$4 listed=$LISTED
    nice -n 10 wrk -t2 -c32 -d"${secs}s" --timeout 5s -s "$OUT/load.lua" "$(url "$p")" -- \
        "$mode" "$base" "$listed" 2 2>&1 | tee -a "$p/wrk.out" | grep '^RESULT' || echo "RESULT requests=0"
}

field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }

record() {
    local scen=$1 variant=$2 res=$3 lost=$4 al=$5 notes=$6
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scen" "$variant" "$SECS" \
        "$(field "$res" requests)" "$(field "$res" normal_ok)" "$(field "$res" normal_bad)" \
        "$(field "$res" listed_403)" "$(field "$res" listed_bad)" "$(field "$res" conn_errors)" \
        "$lost" "$al" "$notes" | tee -a "$RESULTS" >&2
}

# A disturbance running next to the load until the load ends.
disturb_reload() {
    local p=$1 end=$(($(date +%s) + SECS)) n=0 failed=0
    while [ "$(date +%s)" -lt "$end" ]; do
        ngx "$p" -s reload 2>>"$p/signal.err" || failed=$((failed + 1))
        n=$((n + 1))
        workers "$p" >/dev/null
        sleep 0.1
    done
    echo "reloads=$n failed=$failed"
}

disturb_kill() {
    local p=$1 end=$(($(date +%s) + SECS)) n=0 w
    while [ "$(date +%s)" -lt "$end" ]; do
        sleep 1
        mapfile -t ws < <(workers "$p")
        [ ${#ws[@]} -gt 0 ] || continue
        w=${ws[$((RANDOM % ${#ws[@]}))]}
        kill -KILL "$w" 2>/dev/null && n=$((n + 1))
    done
    echo "kills=$n"
}

disturb_profiles() {
    local p=$1 end=$(($(date +%s) + SECS)) n=0 reopen_failed=0 f="$1/conf/profiles.toml"
    while [ "$(date +%s)" -lt "$end" ]; do
        printf '%s\n[[profile]]\nname = "extra%s"\nenabled = false\n' "$PROFILES_GOOD" "$n" >"$f.new"
        mv "$f.new" "$f" # replaced (new inode)
        sleep 1.2
        : >"$f" # truncated: an empty, valid file
        sleep 1.2
        chmod 000 "$f" # unreadable for the workers (nobody)
        sleep 1.2
        chmod 644 "$f"
        echo 'this is [not toml' >"$f" # broken: refused, last good kept
        sleep 0.6
        ngx "$p" -s reopen 2>>"$p/signal.err" || reopen_failed=$((reopen_failed + 1))
        sleep 0.6
        printf '%s' "$PROFILES_GOOD" >"$f" # restored
        sleep 1.2
        n=$((n + 1))
    done
    echo "cycles=$n reopen_failed=$reopen_failed"
}

# scenario_timed NAME DISTURBANCE: module and control runs side by side.
scenario_timed() {
    local name=$1 dist=$2 variant p res lost al notes
    for variant in module control; do
        make_prefix "$name" "$variant" 32m
        p=$P
        start "$p"
        workers "$p" >/dev/null
        [ "$variant" = module ] && add_listed "$p"
        "$dist" "$p" >"$p/disturb.out" &
        local dpid=$!
        res=$(run_load "$p" "$SECS" pool 50000)
        wait "$dpid" || true
        notes=$(cat "$p/disturb.out")
        sleep 1.5 # profiles: the last restore is picked up within a second
        if [ "$variant" = module ]; then
            lost=$((LISTED - $(count_listed "$p")))
        else
            lost=-
        fi
        al=$(alerts "$p")
        notes="$notes bad_status=$(field "$res" bad_status)"
        record "$name" "$variant" "$res" "$lost" "$al" "$notes"
        stop "$p"
    done
}

scenario_state() {
    local p res lost al total_lost=0 kinds=0 started=0 k notes=""
    make_prefix state module 32m
    p=$P
    start "$p"
    add_listed "$p"
    stop "$p"
    local st="$p/state/api_abuse.state"
    [ -s "$st" ] || die "no state file written at exit"
    cp "$st" "$OUT/state.good"
    for k in garbage truncated empty flipped huge symlink fifo good; do
        case $k in
            garbage) head -c 4096 /dev/urandom >"$st" ;;
            truncated) head -c $(($(stat -c %s "$OUT/state.good") / 2)) "$OUT/state.good" >"$st" ;;
            empty) : >"$st" ;;
            flipped) cp "$OUT/state.good" "$st"; printf '\xff\xff\xff\x7f' | dd of="$st" bs=1 seek=32 conv=notrunc status=none ;;
            huge) cp "$OUT/state.good" "$st"; truncate -s 300M "$st" ;;
            symlink) ln -sf /etc/passwd "$st" ;;
            fifo) rm -f "$st"; mkfifo "$st"; chmod 666 "$st" ;;
            good) rm -f "$st"; cp "$OUT/state.good" "$st"; chmod 666 "$st" ;;
        esac
        kinds=$((kinds + 1))
        if timeout 20 "$NGINX" -p "$p" -c conf/nginx.conf 2>>"$p/start.err"; then
            started=$((started + 1))
            sleep 0.3
            res=$(run_load "$p" "$(( SECS < 10 ? SECS : 10 ))" pool 50000)
            local have
            have=$(count_listed "$p")
            notes="$notes $k:starts,listed=$have,normal_bad=$(field "$res" normal_bad)"
            if [ "$k" = good ]; then total_lost=$((LISTED - have)); fi
            # put the good file back in place for the next round's "restart"
            stop "$p"
        else
            notes="$notes $k:NOT-STARTED"
        fi
        rm -f "$st"
    done
    al=$(alerts "$p")
    res="RESULT requests=- normal_ok=- normal_bad=- listed_403=- listed_bad=- conn_errors=-"
    record state module "$res" "$total_lost" "$al" "started $started/$kinds;$notes; aside: $(ls "$p/state" | tr '\n' ' ')"
}

scenario_zone() {
    local p res lost al sent=0 base=0 run=0 notes
    make_prefix zone module 8m
    p=$P
    start "$p"
    add_listed "$p"
    local clients_before
    while [ "$sent" -lt "$STRESS_CLIENTS" ]; do
        # each run sends distinct addresses from `base` on
        res=$(run_load "$p" 30 distinct "$base")
        local r
        r=$(field "$res" requests)
        sent=$((sent + r * 9 / 10))
        base=$((base + 2 * r))
        run=$((run + 1))
        [ "$r" -gt 0 ] || break
        echo "$res" >>"$p/zone.runs"
    done
    lost=$((LISTED - $(count_listed "$p")))
    al=$(alerts "$p")
    local z
    z=$(curl -s "$(url "$p")/api-abuse/" | jq -c '.zone' 2>/dev/null)
    notes="distinct_clients_sent=$sent runs=$run zone=$z full_note=$(grep -c 'zone' "$p/logs/error.log" || true)"
    # totals over the runs
    local tot
    tot=$(awk '{for(i=2;i<=NF;i++){split($i,a,"="); if (a[2] ~ /^[0-9]+$/) s[a[1]]+=a[2]}} END {printf "RESULT"; for (k in s) printf " %s=%d", k, s[k]; print ""}' "$p/zone.runs")
    record zone module "$tot" "$lost" "$al" "$notes"
    stop "$p"
}

scenario_lists() {
    local p res lost al cap notes added=0 refused=0 i
    make_prefix lists module 1m
    p=$P
    sed -i 's/^reaction = "monitor"/reaction = "denylist"/' "$p/conf/profiles.toml"
    start "$p"
    add_listed "$p"
    cap=$(curl -s "$(url "$p")/api-abuse/" | jq '.zone.list_capacity')
    # Detections: a pool of scanners twice the table's capacity.
    res=$(run_load "$p" "$SECS" bot $((cap * 2)))
    local detected events_full
    detected=$(curl -s "$(url "$p")/api-abuse/lists?origin=detection&limit=1" | jq '.matched // 0')
    events_full=$(grep -c 'table full' "$p/logs/events.jsonl" 2>/dev/null || true)
    # Operator entries until the table refuses them.
    for i in $(seq 0 $((cap + 100))); do
        code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$(url "$p")/api-abuse/?addr=198.19.$((i / 256)).$((i % 256))&list=gray")
        if [ "$code" = 200 ]; then added=$((added + 1)); else refused=$((refused + 1)); fi
        [ "$refused" -lt 20 ] || break
    done
    lost=$((LISTED - $(count_listed "$p")))
    al=$(alerts "$p")
    notes="capacity=$cap detections_listed=$detected events_table_full=$events_full bot_404=$(field "$res" bot_404) bot_403=$(field "$res" bot_403) operator_added=$added operator_refused=$refused"
    record lists module "$res" "$lost" "$al" "$notes"
    stop "$p"
}

for s in "${SCENARIOS[@]}"; do
    say "== $s ($SECS s)"
    case $s in
        reload) scenario_timed reload disturb_reload ;;
        kill) scenario_timed kill disturb_kill ;;
        profiles) scenario_timed profiles disturb_profiles ;;
        state) scenario_state ;;
        zone) scenario_zone ;;
        lists) scenario_lists ;;
        *) die "unknown scenario $s" ;;
    esac
done
say "results: $RESULTS"
column -t -s $'\t' "$RESULTS" >&2 || cat "$RESULTS" >&2
