#!/usr/bin/env bash
# Install launchdeck into .venv and start the embedded stack on this machine: a local Prefect
# server (SQLite), a worker, and the sample launch walked forward by simulated GTM owners.
# Everything lives in this directory (launchdeck.db, .launchdeck/). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh

.venv/bin/launchdeck init
exec .venv/bin/launchdeck up --demo
