#!/usr/bin/env bash
# The test command: system packages, format check, clippy, unit and
# integration tests (the real nginx with the module, two workers), for the
# module and for the demo tools.
set -euo pipefail
cd "$(dirname "$0")/.."
. ci/target-dir.sh
ci/deps.sh

echo "== format"
cargo fmt --all --check
cargo fmt --manifest-path tools/Cargo.toml --all --check

echo "== clippy"
cargo clippy --all-targets -- -D warnings
cargo clippy --manifest-path tools/Cargo.toml --all-targets -- -D warnings
# Benches and examples run without nginx (`standalone`, see Cargo.toml):
# lint them and link them, so they cannot rot.
cargo clippy --benches --examples --no-default-features --features standalone -- -D warnings
echo "== ci/code_footprint.py (the callgrind footprint parser) self-test"
python3 ci/code_footprint.py --self-test
echo "== benches and examples build (without nginx)"
cargo build --benches --examples --no-default-features --features standalone

log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "== unit and integration tests (module)"
cargo test --lib --tests -- --test-threads 2 2>&1 | tee -a "$log"

echo "== dashboard in headless Chromium"
ci/browser-test.sh 2>&1 | tee -a "$log"

echo "== tests (demo shop and simulator)"
cargo test --manifest-path tools/Cargo.toml --lib --bins --tests 2>&1 | tee -a "$log"

# One closing line for everything above.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "all: %d passed, %d failed\n", p, f }' "$log"
