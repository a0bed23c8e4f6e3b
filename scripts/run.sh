#!/usr/bin/env bash
# Install launchdeck into .venv and start it on the embedded defaults (SQLite in this directory).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh

.venv/bin/launchdeck init
.venv/bin/launchdeck launch list
