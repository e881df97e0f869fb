#!/usr/bin/env bash
# The integration tests (t/, the real nginx with the module, two workers)
# against an AddressSanitizer build of both nginx and the module.
#
#   ci/sanitize.sh [TEST FILTER...]
#
# nginx 1.28 from the nginx-src crate configured with
#   --with-cc-opt=-fsanitize=address (NGX_CFLAGS/NGX_LDFLAGS, read by
#   nginx-src's build), the module and the test binary built by nightly rustc
#   with -Zsanitizer=address, in their own target directory (target/asan),
#   so the normal debug build is untouched. nginx redirects its stderr to the
#   error log, so an ASan report lands there and fails the test (the harness
#   rejects "AddressSanitizer" and "exited on signal" lines); abort_on_error
#   turns a report into SIGABRT of the worker. Leak checking is off: nginx
#   frees pools at exit in its own order and the master's cycle is never
#   freed, which LeakSanitizer reports as leaks that are not.
# Takes ~10 minutes the first time (nginx, every crate), then the tests
# themselves (~3 minutes with ASan). Needs the nightly toolchain for
# -Zsanitizer (the module itself builds on stable).
set -euo pipefail
cd "$(dirname "$0")/.."
target=$(rustc -vV | sed -n 's/^host: //p')

rustup toolchain list | grep -q '^nightly' || {
    echo "ci/sanitize.sh: needs the nightly toolchain: rustup toolchain install nightly" >&2
    exit 1
}
export CARGO_TARGET_DIR="$PWD/target/asan"
export NGX_CFLAGS="-fsanitize=address -fno-omit-frame-pointer -g -O1"
export NGX_LDFLAGS="-fsanitize=address"
# --target keeps the flags off build scripts and proc macros.
export RUSTFLAGS="-Zsanitizer=address -Cforce-frame-pointers=yes"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:detect_odr_violation=0:check_initialization_order=1:strict_string_checks=1"
nice -n 10 cargo +nightly build --target "$target" --tests
nice -n 10 cargo +nightly test --target "$target" --test nginx -- --test-threads 2 "$@"
