#!/usr/bin/env bash
# Installs the system packages the build needs (Debian/Ubuntu), only if missing.
set -euo pipefail
pkgs=(build-essential libssl-dev libpcre2-dev zlib1g-dev libclang-dev pkg-config curl
      redis-server redis-tools) # redis: t/sync.rs and ci/sync-bench.sh
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# The dashboard's browser test (headless Chromium, playwright-core from npm),
# the logrotate test and the README's jq one-liners. node/npm may come from
# elsewhere than Debian (NodeSource ships npm inside nodejs): ask for the
# Debian packages only when the commands are missing.
for p in chromium logrotate jq; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# ci/code_footprint.py (its self-test runs in ci/test.sh).
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
for c in rustfmt clippy; do
  if ! cargo "${c/rustfmt/fmt}" --version >/dev/null 2>&1; then
    rustup component add "$c"
  fi
done
