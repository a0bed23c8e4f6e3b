# Sourced by the other scripts: make .venv with the locked dependencies and launchdeck itself,
# saying what it does as it goes. uv (installed into .venv with pip, pinned) does the install:
# about 5 s from a warm cache against pip's 55 s here.
UV_VERSION=0.13.9
PYTHON=${PYTHON:-python3}
SCRIPT_START=${SCRIPT_START:-$(date +%s)}
# Let Python keep the bytecode it compiles (some shells set PYTHONDONTWRITEBYTECODE=1): without
# it every process (each test's worker, API and Prefect server) compiled Prefect, SQLAlchemy and
# launchdeck from source again, 1-2 s of CPU per process start, and pytest re-rewrote every test
# module in both of its workers (24 s of CPU each to collect, 11 s with the caches).
unset PYTHONDONTWRITEBYTECODE
step() { printf '\033[1m==> [%3ss] %s\033[0m\n' "$(($(date +%s) - SCRIPT_START))" "$*"; }
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "launchdeck needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  step "creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv .venv
fi
if [ "$(.venv/bin/python -m uv --version 2>/dev/null)" != "uv $UV_VERSION" ]; then
  step "installing the installer (uv $UV_VERSION) into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check "uv==$UV_VERSION" 2> >(grep -v "^WARNING: Location" >&2)
fi
step "installing the locked dependencies (requirements.lock) and launchdeck into .venv"
.venv/bin/python -m uv pip install --quiet --python .venv/bin/python -r requirements.lock
.venv/bin/python -m uv pip install --quiet --python .venv/bin/python --no-deps -e .
