#!/usr/bin/env bash
# Attack signatures against public labelled corpora (docs/signatures.md).
#
#   ci/corpora.sh MIRRORS [OUT]
#
# MIRRORS holds git snapshots of the public repositories, one directory per
# repository named owner+name with a bare git dir `repo` inside (how the
# search tool's `fetch` brings them): client9+libinjection,
# wallarm+gotestwaf, coreruleset+coreruleset, swisskyrepo+PayloadsAllTheThings,
# twilio+twilio-oai, box+box-openapi. Any that is missing is skipped. OUT
# (default /tmp/api-abuse-corpora, outside the repository) receives the
# requests, the verdicts and the tuning half's misses; nothing from the
# corpora is written into the repository.
#
# libinjection (PyPI `libinjection-python`, built from source by pip) is the
# oracle when importable; the script installs it in OUT/venv.
set -euo pipefail
cd "$(dirname "$0")/.."
MIRRORS=${1:?usage: ci/corpora.sh MIRRORS [OUT]}
OUT=${2:-/tmp/api-abuse-corpora}
mkdir -p "$OUT"
if [ ! -x "$OUT/venv/bin/python" ]; then
    python3 -m venv "$OUT/venv"
    "$OUT/venv/bin/pip" install -q pyyaml libinjection-python || true
fi
"$OUT/venv/bin/python" ci/corpora/extract.py "$MIRRORS" "$OUT" >"$OUT/counts.txt"
cargo run --release --no-default-features --features standalone --example signature_eval -- "$OUT" >"$OUT/table.md"
"$OUT/venv/bin/python" ci/corpora/report.py "$OUT" | tee "$OUT/report.md"
