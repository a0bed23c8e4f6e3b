#!/usr/bin/env bash
# Install launchdeck and its locked dependencies into .venv, then run lint, type checks and tests.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -k rollout -x`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh

# The dashboard's browser tests drive Debian's chromium through Playwright (which cannot download
# browsers of its own here). Install it when missing and we may; otherwise say how.
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "the browser tests need chromium: run 'sudo apt-get install -y chromium' (or put one on PATH)" >&2
    exit 1
  fi
fi

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
