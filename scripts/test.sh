#!/usr/bin/env bash
# Install launchdeck and its locked dependencies into .venv, then run lint, type checks and the
# whole suite on SQLite and PostgreSQL in three processes, and print how long it all took.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -k rollout -x`).
set -euo pipefail
cd "$(dirname "$0")/.."
SCRIPT_START=$(date +%s)
source scripts/_venv.sh
export SCRIPT_START  # so scripts/unleash.sh times its steps from the same start

# What the machine needs besides .venv installs in the background while the checks and the
# bytecode warm-up below run: on a new machine Chromium (apt-get, about 16 s) and Unleash (npm,
# 26-100 s) took 42 s or more one after the other, before anything else started. Each writes its
# progress to a log that is printed, with its own timestamps, once it has finished.
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
installs=()
# The browser tests drive Debian's chromium through Playwright (which cannot download browsers of
# its own here). Install it when missing and we may; otherwise say how.
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "installing chromium (apt-get) for the browser tests, in the background"
    (
      started=$(date +%s)
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
      step "chromium installed in $(($(date +%s) - started)) s"
    ) >"$logs/chromium" 2>&1 &
    installs+=("chromium:$!")
  else
    echo "the browser tests need chromium: run 'sudo apt-get install -y chromium' (or put one on PATH)" >&2
    exit 1
  fi
fi
# The Unleash tests run a real Unleash server (npm: unleash-server and the Node 22 it needs).
bash scripts/unleash.sh >"$logs/unleash" 2>&1 &
installs+=("unleash:$!")

# Wait for the background installs, print their logs, and stop at the first that failed.
finish_installs() {
  local install name
  for install in "${installs[@]}"; do
    name=${install%%:*}
    if ! wait "${install##*:}"; then
      cat "$logs/$name" >&2
      echo "installing $name failed (its log is above)" >&2
      exit 1
    fi
    cat "$logs/$name"
  done
}

# Import and collect everything once in the background while lint and type checks run, so the
# pytest workers below start from compiled bytecode and rewritten test modules instead of each
# compiling them at once.
.venv/bin/python -m pytest --collect-only -q -p no:cacheprovider >/dev/null 2>&1 &
warm_up=$!

step "ruff (lint and format)"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
step "mypy --strict"
# Its cache lives beside uv's, outside the checkout, so a fresh clone checks in seconds, not 25 s
# (mypy trusts a cached module only while the module's source hashes the same).
MYPY_CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/launchdeck/mypy" .venv/bin/mypy
wait "$warm_up" || true  # only a warm-up: a collection error shows again in the run itself
finish_installs
# Three test processes on two cores: the slow tests spend much of their time waiting on the
# processes and servers they start, and a third process fills that time (pytest 285 s against
# 301 s for two, same code and host; README has the figures).
processes="${LAUNCHDECK_TEST_PROCESSES:-3}"
step "pytest on SQLite and PostgreSQL, $processes processes"
status=0
.venv/bin/python -m pytest -n "$processes" --dist worksteal "$@" || status=$?
step "done in $(($(date +%s) - SCRIPT_START)) s (exit $status)"
exit $status
