#!/usr/bin/env bash
# Branch and statement coverage of contracts/ChannelManager.sol.
#
#   tools/coverage.sh                      # the contract tests: tests/unit tests/integration
#   tools/coverage.sh tests/unit -x        # any `brownie test` arguments instead
# The default leaves out tests/stateful (hours under coverage: every step's trace is expanded
# in Python) and the script/off-chain tests (they add nothing to ChannelManager's figure).
#   NETWORK=anvil-cov PORT=8547 tools/coverage.sh
#
# Brownie 1.22.2 needs these for coverage here (TOOLCHAIN.md, tests/coverage_plugin.py): anvil
# launched with --steps-tracing (a development network with `steps_tracing: true`, created by
# tools/ensure_network.sh if missing); and, done by the plugin loaded with
# `-p tests.coverage_plugin`: brownie's
# pure-Python coverage/output modules instead of the compiled ones, acceptance of
# ChannelManager's immutables when brownie matches deployed code to the build, view calls kept
# as eth_call, and a fix for a confirmation race. Expect several times a plain run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$ROOT/node_modules/.bin:$ROOT/.venv/bin:$PATH"
export SOLCX_BINARY_PATH="$ROOT/.solcx"
export PYTHONWARNINGS="ignore::FutureWarning"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
NETWORK=${NETWORK:-anvil-cov}
PORT=${PORT:-8547}

tools/ensure_network.sh "$NETWORK" "$PORT"

start=$(date +%s)
status=0
if [ $# -eq 0 ]; then set -- tests/unit tests/integration; fi
brownie test "$@" --coverage --network "$NETWORK" -p tests.coverage_plugin || status=$?
elapsed=$(( $(date +%s) - start ))

python - "$elapsed" <<'PY'
"""Summarise reports/coverage.json for the functions declared in ChannelManager.sol."""
import json
import sys
from pathlib import Path

report = json.loads(Path("reports/coverage.json").read_text())["coverage"].get("ChannelManager")
if not report:
    sys.exit("coverage: no ChannelManager coverage recorded (steps tracing off? plugin not loaded?)")
abi = json.loads(Path("build/contracts/ChannelManager.json").read_text())["abi"]
views = {f"ChannelManager.{f['name']}" for f in abi
         if f.get("type") == "function" and f.get("stateMutability") in ("view", "pure")}


def figures(keep):
    st = {k: v for k, v in report["statements"].items() if keep(k)}
    br = {k: v for k, v in report["branches"].items() if keep(k)}
    hit, total = sum(v[0] for v in st.values()), sum(v[1] for v in st.values())
    b_true, b_false = sum(v[0] for v in br.values()), sum(v[1] for v in br.values())
    b_total = sum(v[2] for v in br.values())
    return st, br, hit, total, b_true, b_false, b_total


def show(title, keep):
    st, br, hit, total, b_true, b_false, b_total = figures(keep)
    print(f"  {title}:")
    print(f"    statements {hit}/{total} = {hit / max(total, 1):.1%}")
    print(f"    branches   {b_true + b_false}/{2 * b_total} outcomes = "
          f"{(b_true + b_false) / max(2 * b_total, 1):.1%} "
          f"({b_total} branches: {b_true} seen true, {b_false} seen false)")
    return br


own = lambda k: k.startswith("ChannelManager.")
print(f"\nChannelManager.sol coverage ({sys.argv[1]} s):")
show("all functions", own)
branches = show("without external views (called as eth_call, not traced)",
                lambda k: own(k) and k not in views)
missing = sorted(
    (k, 2 * v[2] - v[0] - v[1]) for k, v in branches.items() if v[0] + v[1] < 2 * v[2]
)
if missing:
    print("  branch outcomes never taken, by function:")
    for name, count in missing:
        print(f"    {name}: {count}")
PY
exit $status
