#!/usr/bin/env bash
# The test command: system packages, format check, clippy, unit and
# integration tests (the real nginx with the module, two workers), for the
# module and for the demo tools.
set -euo pipefail
cd "$(dirname "$0")/.."
ci/deps.sh

echo "== format"
cargo fmt --all --check
cargo fmt --manifest-path tools/Cargo.toml --all --check

echo "== clippy"
cargo clippy --all-targets -- -D warnings
cargo clippy --manifest-path tools/Cargo.toml --all-targets -- -D warnings

echo "== unit and integration tests (module)"
cargo test -- --test-threads 2

echo "== tests (demo shop and simulator)"
cargo test --manifest-path tools/Cargo.toml
