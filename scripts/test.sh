#!/usr/bin/env bash
# Install launchdeck and its locked dependencies into .venv, then run lint, type checks and tests.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -k rollout -x`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
