"""Gas drift gate: the BENCHMARK.md scenario must cost exactly what `gas-snapshot.json` says.

Gas is deterministic for a given build and scenario, so any difference is a real change: a
deliberate one is recorded with
`UPDATE_GAS_SNAPSHOT=1 python tools/run_script.py research/gas_benchmark.py --network <network>` (docs/gas.md).
The scenario runs in its own chain snapshot with pinned timestamps and addresses, so the result
does not depend on which tests ran before.
"""

from __future__ import annotations

import json
from pathlib import Path

from brownie import TestToken, accounts, chain

from research.benchmark_scenario import OPERATIONS, ScenarioResult, format_table, run_scenario

SNAPSHOT = Path(__file__).resolve().parents[2] / "gas-snapshot.json"


def _differences(result: ScenarioResult) -> list[str]:
    """One line per operation (and code size) whose figure differs from the snapshot."""
    expected = json.loads(SNAPSHOT.read_text())
    recorded = {entry["id"]: entry["gas_used"] for entry in expected["operations"]}
    lines = []
    for n, name, _ in OPERATIONS:
        before, now = recorded.get(n), result.gas[n]
        if before != now:
            was = "none" if before is None else f"{before:,}"
            delta = "new" if before is None else f"{now - before:+,}"
            lines.append(f"#{n:<2} {name:<52} snapshot {was} -> now {now:,} ({delta})")
    extra = set(recorded) - {n for n, _, _ in OPERATIONS}
    lines += [f"#{n} is in the snapshot but not in the scenario" for n in sorted(extra)]
    if expected["runtime_code_size"] != result.runtime_code_size:
        lines.append(
            f"runtime code size: snapshot {expected['runtime_code_size']:,} -> now "
            f"{result.runtime_code_size:,} bytes"
        )
    return lines


def _assert_matches_snapshot(result: ScenarioResult) -> None:
    print("\n" + format_table(result))
    diffs = _differences(result)
    assert not diffs, (
        "gas differs from gas-snapshot.json (if intended: UPDATE_GAS_SNAPSHOT=1 python "
        "tools/run_script.py research/gas_benchmark.py --network <network>):\n" + "\n".join(diffs)
    )


def test_gas_of_benchmark_scenario_matches_snapshot():
    _assert_matches_snapshot(run_scenario())


def test_gas_of_benchmark_scenario_ignores_earlier_chain_activity():
    """Nonces, time and deployments made before the scenario must not change a figure."""
    hub = accounts[0]
    for _ in range(3):
        TestToken.deploy("Other", "OTH", {"from": hub})
    accounts[1].transfer(accounts[2], 10**18)
    chain.sleep(86_400)
    chain.mine()
    _assert_matches_snapshot(run_scenario())
