#!/usr/bin/env bash
# Install launchdeck into .venv and start the embedded stack on this machine: a local Prefect
# server (SQLite), the API, a worker, and the sample launch walked forward by simulated GTM owners.
# Everything lives in this directory (launchdeck.db, .launchdeck/). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRIPT_START=$(date +%s)
source scripts/_venv.sh

step "database: create or upgrade launchdeck.db, load teams and regions"
.venv/bin/launchdeck init
step "starting Prefect, the API, a worker and the sample launch (Ctrl-C stops everything)"
exec .venv/bin/launchdeck up --demo
