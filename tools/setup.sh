#!/usr/bin/env bash
# Idempotent project set-up: project-local venv with pinned Python packages, pinned npm
# packages, and the offline compiler shim where py-solc-x looks for `solc-v<version>`.
# A second run only compares stamps and costs about a second.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STAMPS=.setup-stamps
mkdir -p "$STAMPS"

die() { echo "setup: $*" >&2; exit 1; }

# --- required tools --------------------------------------------------------------------
PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null || die "python3 not found: install Python >= 3.10 (e.g. apt-get install python3 python3-venv)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
  || die "Python >= 3.10 is required, found $("$PYTHON" --version 2>&1)"
"$PYTHON" -c 'import venv, ensurepip' 2>/dev/null \
  || die "the Python venv module is missing: install python3-venv"
command -v node >/dev/null || die "node not found: install Node.js >= 18 (e.g. apt-get install nodejs npm)"
command -v npm >/dev/null || die "npm not found: install npm (e.g. apt-get install npm)"
node -e 'process.exit(parseInt(process.versions.node) >= 18 ? 0 : 1)' \
  || die "Node.js >= 18 is required, found $(node --version)"

# The local chain is npm's native anvil build for Linux x86-64 (package.json).
[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] \
  || die "the pinned anvil binary is for Linux x86-64; this machine is $(uname -s)-$(uname -m)"

changed() { # changed <stamp-name> <files...>: true when the files' hash differs from the stamp
  local name=$1; shift
  local sum; sum=$(cat "$@" | sha256sum | cut -d' ' -f1)
  [ "$(cat "$STAMPS/$name" 2>/dev/null)" != "$sum" ] && echo "$sum" > "$STAMPS/$name.new"
}
stamp() { mv "$STAMPS/$1.new" "$STAMPS/$1"; }

# --- Python ----------------------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
  rm -f "$STAMPS/python"
fi
if changed python requirements.lock; then
  echo "setup: installing pinned Python packages (about a minute the first time)"
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.lock > "$STAMPS/pip.log" 2>&1 \
    || { grep -v "is ignored" "$STAMPS/pip.log" >&2; die "pip install failed (log above)"; }
  .venv/bin/pip check >/dev/null || die "pip check failed after install"
  stamp python
fi

# --- npm -------------------------------------------------------------------------------
[ -d node_modules ] || rm -f "$STAMPS/npm"
if changed npm package-lock.json; then
  echo "setup: npm ci (solc-js, anvil, OpenZeppelin)"
  npm ci --no-audit --no-fund --loglevel=error > "$STAMPS/npm.log" 2>&1 \
    || { grep -v nodedir "$STAMPS/npm.log" >&2; die "npm ci failed (log above)"; }
  [ -x node_modules/.bin/anvil ] || die "npm ci did not install anvil"
  stamp npm
fi

# --- compiler shim ---------------------------------------------------------------------
SOLC_VERSION=$(node -p 'require("./node_modules/solc/package.json").version')
CONFIG_VERSION=$(sed -n 's/^ *version: *\([0-9.]*\) *$/\1/p' brownie-config.yaml | head -1)
[ "$SOLC_VERSION" = "$CONFIG_VERSION" ] \
  || die "solc $SOLC_VERSION from npm differs from brownie-config.yaml's $CONFIG_VERSION"
mkdir -p .solcx
ln -sf ../tools/solc-shim.js ".solcx/solc-v$SOLC_VERSION"
chmod +x tools/solc-shim.js

# --- environment for the activated venv (`source .venv/bin/activate`) ----------------------
if ! grep -q "channel-manager env" .venv/bin/activate; then
  cat >> .venv/bin/activate <<ACT
# channel-manager env: offline compiler shim and the local chain binary
export SOLCX_BINARY_PATH="$ROOT/.solcx"
export PATH="$ROOT/node_modules/.bin:\$PATH"
export PYTHONWARNINGS="ignore::FutureWarning"
ACT
fi
echo "setup: ready (python $(.venv/bin/python -c 'import platform; print(platform.python_version())'), solc $SOLC_VERSION, $(node_modules/.bin/anvil --version | head -1))"
