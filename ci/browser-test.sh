#!/usr/bin/env bash
# The dashboard and the challenge in a real browser: installs playwright-core
# (npm ci, into the gitignored tests/browser/node_modules) and runs the
# ignored integration tests that start nginx with the module and drive
# Debian's headless Chromium: tests/browser/dashboard.mjs (lists a scanner;
# renders, shows the client, explains the detection, Unblock, Denylist, add
# form, filters; every change checked through the API) and
# tests/browser/challenge.mjs (a challenged person passes without any
# action, lands on the page asked for, is not challenged on the next one).
#
#   ci/browser-test.sh          screenshots to target/browser/
#   ci/browser-test.sh --docs   screenshots to docs/ (the ones the README shows)
set -euo pipefail
cd "$(dirname "$0")/.."
. ci/target-dir.sh
command -v node >/dev/null || { echo "node is needed (apt-get install nodejs npm)" >&2; exit 1; }
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "chromium is needed (apt-get install chromium)" >&2; exit 1; }
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
shots="$PWD/target/browser"
[ "${1:-}" = "--docs" ] && shots="$PWD/docs"
mkdir -p "$shots"
API_ABUSE_SHOTS="$shots" cargo test --test nginx browser -- --ignored --nocapture 2>&1 \
  | grep -E '^(PASS|FAIL|test |test result)|panicked'
# grep hides cargo's noise; the test's own status decides
test "${PIPESTATUS[0]}" -eq 0
echo "screenshots: $shots/dashboard.png, $shots/dashboard-detection.png, $shots/challenge-landed.png"
