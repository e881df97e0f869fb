#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ (cargo fuzz, libFuzzer, AddressSanitizer)
# for SECONDS each (default 20), one after the other, niced, starting from
# the seeds in fuzz/corpus/<target>/. A crash stops the run and leaves the
# input in fuzz/artifacts/<target>/; reproduce it with
#   cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>
#
#   ci/fuzz.sh [SECONDS] [TARGET...]
#
# Needs the nightly toolchain (for libFuzzer's instrumentation only; the
# module itself builds and tests on stable) and cargo-fuzz
# (`cargo install cargo-fuzz`). What the fuzzers add to the corpora stays
# out of git (fuzz/.gitignore); seeds are fuzz/corpus/*/seed-*
# (fuzz/make_seeds.py). Prints executions and CPU seconds per target.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-20}
shift || true
command -v rustup >/dev/null && rustup toolchain list | grep -q '^nightly' || {
    echo "ci/fuzz.sh: needs the nightly toolchain: rustup toolchain install nightly" >&2
    exit 1
}
cargo +nightly fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked

cd fuzz
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
nice -n 10 cargo +nightly fuzz build >/dev/null 2>&1 || nice -n 10 cargo +nightly fuzz build

log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
printf '%-14s %12s %9s %8s %s\n' target executions cpu_s corpus result
status=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    set +e
    /usr/bin/time -f '%U %S' -o "$log/$t.time" \
        nice -n 10 cargo +nightly fuzz run "$t" "corpus/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 >"$log/$t.out" 2>&1
    rc=$?
    set -e
    cpu=$(awk '{printf "%.0f", $1 + $2}' "$log/$t.time" 2>/dev/null || echo '?')
    execs=$(awk '/stat::number_of_executed_units/ {print $NF}' "$log/$t.out" | tail -1)
    size=$(find "corpus/$t" -type f | wc -l)
    if [ $rc -eq 0 ]; then
        result=ok
    else
        result="FAILED (rc $rc): $(grep -m1 -E 'panicked|ERROR: (AddressSanitizer|libFuzzer)|deadly signal|timeout' "$log/$t.out" || true)"
        status=1
        tail -40 "$log/$t.out" >&2
        ls -t "artifacts/$t" | head -1 | sed "s|^|  input: fuzz/artifacts/$t/|" >&2
    fi
    printf '%-14s %12s %9s %8s %s\n' "$t" "${execs:-?}" "$cpu" "$size" "$result"
done
exit $status
