#!/usr/bin/env bash
# Adds a brownie development network NAME: anvil with --steps-tracing on PORT, unless it exists.
# Opcode traces (coverage, the gas breakdown) are empty without steps tracing, and brownie only
# launches anvil with it when the network asks for it (TOOLCHAIN.md).
#   tools/ensure_network.sh anvil-cov 8547
set -euo pipefail
name=${1:?usage: tools/ensure_network.sh NAME PORT} port=${2:?usage: tools/ensure_network.sh NAME PORT}
[[ $port =~ ^[0-9]+$ ]] || { echo "ensure_network: port must be a number, got '$port'" >&2; exit 2; }
# `brownie networks list` prints "name: id" per network, coloured.
if ! brownie networks list 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g' | grep -qE ": $name\$"; then
  echo "adding development network $name (anvil --steps-tracing on port $port)"
  brownie networks add development "$name" cmd=anvil host=http://127.0.0.1 port="$port" \
    accounts=10 gas_limit=30000000 base_fee=0 chain_id=31337 steps_tracing=true >/dev/null
fi
