#!/usr/bin/env bash
# Attack signatures against public labelled corpora (docs/signatures.md).
#
#   ci/corpora.sh MIRRORS [OUT]
#
# MIRRORS holds git snapshots of the public repositories, one directory per
# repository named owner+name with a bare git dir `repo` inside (how the
# search tool's `fetch` brings them). Attack corpora: client9+libinjection,
# wallarm+gotestwaf, coreruleset+coreruleset, swisskyrepo+PayloadsAllTheThings.
# Benign OpenAPI specs (SPECS in ci/corpora/extract.py): twilio+twilio-oai,
# box+box-openapi, slackapi+slack-api-specs, PagerDuty+api-schema,
# hellosign+hellosign-openapi, Asana+openapi, openai+openai-openapi,
# discord+discord-api-spec, plaid+plaid-openapi, Adyen+adyen-openapi,
# sendgrid+sendgrid-oai, netlify+open-api, docusign+OpenAPI-Specifications,
# webex+webex-openapi-specs, okta+okta-management-openapi-spec,
# digitalocean+openapi, apideck-libraries+openapi-specs, intercom+Intercom-OpenAPI. Any that is missing is skipped. OUT
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
    "$OUT/venv/bin/python" -m pip install -q pyyaml libinjection-python || true
fi
# rstr fills simple `pattern`s of the specs (optional: without it they are ignored).
"$OUT/venv/bin/python" -c 'import rstr' 2>/dev/null || "$OUT/venv/bin/python" -m pip install -q rstr || true
"$OUT/venv/bin/python" ci/corpora/extract.py "$MIRRORS" "$OUT" >"$OUT/counts.txt"
cargo run --release --no-default-features --features standalone --example signature_eval -- "$OUT" >"$OUT/table.md"
"$OUT/venv/bin/python" ci/corpora/report.py "$OUT" | tee "$OUT/report.md"
