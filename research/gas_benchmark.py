"""Gas benchmark: plays the fixed scenario of BENCHMARK.md and prints gasUsed per operation
beside the Connext v1 and target figures, as a table and as JSON.

    python tools/run_script.py research/gas_benchmark.py --network anvil
    UPDATE_GAS_SNAPSHOT=1 python tools/run_script.py research/gas_benchmark.py --network anvil
        (the second form also rewrites gas-snapshot.json: do it only for a deliberate change)

A second table splits each operation's gas into cost classes from an opcode trace
(research/gas_trace.py): intrinsic, token calls, ETH transfers, signature checks, storage,
refunds, events, hashing, guard, computation; its `floor` column (intrinsic + token + ETH) is
what the operation costs before the contract checks or stores anything.

It prints numbers and never fails on a figure; `tests/gas/test_gas_snapshot.py` is the gate
that fails when any figure differs from the committed `gas-snapshot.json`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from research import gas_trace
from research.benchmark_scenario import (
    OPERATIONS,
    TARGET_GAS,
    V1_GAS,
    format_table,
    run_scenario,
)

SNAPSHOT = Path(__file__).resolve().parents[1] / "gas-snapshot.json"


def report(result) -> dict:  # type: ignore[no-untyped-def]
    """JSON form: the snapshot's figures plus v1/target and ratios per operation."""
    data = result.as_json()
    for entry in data["operations"]:
        n = entry["id"]
        entry["caller"] = next(c for i, _, c in OPERATIONS if i == n)
        entry["v1"] = V1_GAS[n]
        entry["ratio_to_v1"] = round(entry["gas_used"] / V1_GAS[n], 4)
        entry["target"] = TARGET_GAS[n]
        entry["ratio_to_target"] = round(entry["gas_used"] / TARGET_GAS[n], 4)
        if n in result.breakdowns:
            entry["breakdown"] = result.breakdowns[n]
            entry["floor"] = gas_trace.floor(result.breakdowns[n])
    return data


def main() -> None:
    result = run_scenario(trace=True)
    print()
    print(format_table(result))
    print()
    if result.breakdowns:
        print("where the gas goes (opcode trace; floor = intrinsic + token + eth):")
        names = {n: name for n, name, _ in OPERATIONS}
        print(gas_trace.format_breakdown(result.breakdowns, names, result.gas, TARGET_GAS))
    else:
        print(
            "no gas breakdown: this chain records no opcode steps (use `make gas`, which "
            "runs on anvil with --steps-tracing)"
        )
    print()
    print(json.dumps(report(result), indent=2))
    if os.environ.get("UPDATE_GAS_SNAPSHOT") == "1":
        SNAPSHOT.write_text(json.dumps(result.as_json(), indent=2) + "\n")
        print(f"\nwrote {SNAPSHOT}", file=sys.stderr)
