"""The fixed gas scenario of BENCHMARK.md (operations #0–#14), importable by the benchmark
script and by the gas-snapshot test. A plain module: no brownie `main`.

Everything that could make two runs differ is pinned, so one run is a measurement:
- the chain is snapshotted before and reverted after, so nothing leaks into or out of a run;
- block timestamps: the clock is set back to the genesis time 1,700,000,000 (`evm_setTime`)
  and every transaction is mined at exactly the previous time + 15 s, or at the named instant
  where the scenario waits (`evm_setNextBlockTimestamp`); receipts are checked for it;
- addresses: the hub's nonce is set to a fixed value (`anvil_setNonce`) before it deploys the
  token and the manager, so both addresses, the EIP-712 domain and every signature (and so
  every calldata byte) are the same whatever ran on the chain before;
- keys: anvil's default mnemonic; ECDSA signing is deterministic (RFC 6979).
The scenario itself (states, signatures, order, timestamps) is fuzzing/gas_scenario_script.py,
which fuzzing/gas_scenario.py plays on the fuzzing chain backends too; this module says how to
reach the chain through brownie.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from brownie import accounts, chain, web3

from channel_manager.contract_views import channel_details
from fuzzing.gas_scenario_script import (
    GENESIS_TIMESTAMP,
    HUB_NONCE,
    TX_GAS_LIMIT,
    GasScenarioScript,
)
from research import gas_trace

CHAIN_ID = 31337

#: (#, operation, caller) in the order BENCHMARK.md lists them.
OPERATIONS: list[tuple[int, str, str]] = [
    (0, "deploy ChannelManager", "hub"),
    (1, "hubContractWithdraw", "hub"),
    (2, "userAuthorizedUpdate, first deposit", "userA"),
    (3, "hubAuthorizedUpdate, hub deposit", "hub"),
    (4, "userAuthorizedUpdate, withdrawal with exchange", "userA"),
    (5, "startExit", "hub"),
    (6, "emptyChannel", "hub"),
    (7, "userAuthorizedUpdate, first deposit of a second user", "userB"),
    (8, "startExitWithUpdate", "userB"),
    (9, "emptyChannelWithChallenge", "hub"),
    (10, "startExitThread", "userA"),
    (11, "challengeThread", "userB"),
    (12, "emptyThread, sender side", "userA"),
    (13, "emptyThread, receiver side", "userB"),
    (14, "nukeThreads", "hub"),
]

#: Connext v1 (solc 0.4.25, optimizer 200 runs, anvil 1.7.1 prague), from BENCHMARK.md.
V1_GAS: dict[int, int] = {
    0: 5_503_702, 1: 63_863, 2: 653_586, 3: 508_616, 4: 513_029, 5: 118_478, 6: 116_791,
    7: 662_184, 8: 909_292, 9: 827_450, 10: 482_364, 11: 494_994, 12: 489_381, 13: 462_624,
    14: 109_604,
}  # fmt: skip

#: "Straightforward OpenZeppelin implementation" figures; the goal is ≤ 0.70× each.
TARGET_GAS: dict[int, int] = {
    0: 3_814_661, 1: 56_129, 2: 284_045, 3: 121_356, 4: 116_543, 5: 115_785, 6: 92_421,
    7: 284_021, 8: 167_562, 9: 111_404, 10: 115_402, 11: 118_590, 12: 105_570, 13: 94_143,
    14: 72_197,
}  # fmt: skip
TARGET_RATIO_GOAL = 0.70

V1_RUNTIME_CODE_SIZE = 24_962
EIP170_LIMIT = 24_576


@dataclass
class ScenarioResult:
    """gasUsed per operation number, and the manager's runtime code size in bytes."""

    gas: dict[int, int] = field(default_factory=dict)
    runtime_code_size: int = 0
    manager_address: str = ""
    token_address: str = ""
    timestamps: dict[int, int] = field(default_factory=dict)
    txids: dict[int, str] = field(default_factory=dict)
    #: Per operation, gasUsed split into cost classes (`run_scenario(trace=True)` only).
    breakdowns: dict[int, dict[str, int]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        names = {n: name for n, name, _ in OPERATIONS}
        return {
            "scenario": "BENCHMARK.md #0-#14",
            "runtime_code_size": self.runtime_code_size,
            "operations": [
                {"id": n, "operation": names[n], "gas_used": self.gas[n]} for n in sorted(self.gas)
            ],
        }


def _rpc(method: str, params: list[Any]) -> Any:
    response = web3.provider.make_request(method, params)
    if "error" in response:
        raise RuntimeError(f"{method}{params}: {response['error']}")
    return response.get("result")


class _Scenario(GasScenarioScript):
    """One play of the scenario on the connected chain (state is reverted by the caller)."""

    def __init__(self, manager_container: Any, token_container: Any) -> None:
        super().__init__([accounts[i] for i in range(4)], CHAIN_ID)
        self.containers = {"ChannelManager": manager_container, "TestToken": token_container}
        self.result = ScenarioResult()

    # -- the backend ---------------------------------------------------------------------
    def prepare_accounts(self) -> None:
        _rpc("anvil_setNonce", [str(self.hub), hex(HUB_NONCE)])

    def set_next_timestamp(self, timestamp: int) -> None:
        _rpc("evm_setNextBlockTimestamp", [timestamp])

    def transact(
        self, contract: Any, function: str, args: tuple[Any, ...], sender: Any, value: int
    ) -> Any:
        options = {"from": sender, "value": value, "gas_limit": TX_GAS_LIMIT}
        return getattr(contract, function)(*args, options, silent=True)

    def create(self, contract_name: str, args: tuple[Any, ...], sender: Any) -> tuple[Any, Any]:
        options = {"from": sender, "gas_limit": TX_GAS_LIMIT}
        contract = self.containers[contract_name].deploy(*args, options, silent=True)
        return contract, contract.tx

    def pay(self, sender: Any, to: Any, wei: int) -> Any:
        return sender.transfer(to, wei, gas_limit=TX_GAS_LIMIT, silent=True)

    def checked(self, label: str, op: int | None, tx: Any) -> Any:
        if tx.status != 1:
            raise RuntimeError(f"scenario transaction failed: {tx.fn_name} ({tx.revert_msg})")
        if tx.timestamp != self.now:
            raise RuntimeError(f"{tx.fn_name} mined at {tx.timestamp}, expected {self.now}")
        if op is not None:
            self.result.gas[op] = tx.gas_used
            self.result.timestamps[op] = self.now
            self.result.txids[op] = tx.txid
        return tx

    def record_deployment(self) -> None:
        self.result.token_address = self.token.address
        self.result.manager_address = self.manager.address
        self.result.runtime_code_size = len(web3.eth.get_code(self.manager.address))

    def closing_time(self, user: Any) -> int:
        return channel_details(self.manager, user).closing_time


def _trace_breakdowns(result: ScenarioResult) -> None:
    """Split each operation's gasUsed into cost classes (research/gas_trace.py); must run
    before the chain snapshot is reverted, while the transactions still exist. Leaves
    `breakdowns` empty when the chain records no opcode steps (anvil without --steps-tracing)."""
    options = {"disableStorage": True, "enableMemory": False, "enableReturnData": False}
    for n in sorted(result.gas):
        trace = _rpc("debug_traceTransaction", [result.txids[n], options])
        if not trace["structLogs"]:
            result.breakdowns.clear()
            return
        deposit = 200 * result.runtime_code_size if n == 0 else 0
        result.breakdowns[n] = gas_trace.breakdown(
            trace["structLogs"],
            gas_limit=TX_GAS_LIMIT,
            gas_used=result.gas[n],
            token=result.token_address,
            code_deposit=deposit,
        )


def run_scenario(
    manager_container: Any = None, token_container: Any = None, *, trace: bool = False
) -> ScenarioResult:
    """Play operations #0–#14 inside a chain snapshot and revert afterwards.

    The containers default to the loaded project's `ChannelManager` and `TestToken`. With
    `trace`, each operation's gas is also split into cost classes (`result.breakdowns`).
    """
    if manager_container is None or token_container is None:
        from brownie import ChannelManager, TestToken  # the project is loaded by now

        manager_container = manager_container or ChannelManager
        token_container = token_container or TestToken
    if chain.id != CHAIN_ID:
        raise RuntimeError(f"the scenario needs chain id {CHAIN_ID} (anvil), got {chain.id}")
    chain.snapshot()
    try:
        _rpc("evm_setTime", [GENESIS_TIMESTAMP])
        scenario = _Scenario(manager_container, token_container)
        for _ in scenario.play():
            pass
        result = scenario.result
        if trace:
            _trace_breakdowns(result)
    finally:
        chain.revert()
    missing = {n for n, _, _ in OPERATIONS} - set(result.gas)
    if missing:
        raise RuntimeError(f"operations not measured: {sorted(missing)}")
    return result


def format_table(result: ScenarioResult) -> str:
    """Per operation: gasUsed, v1, ratio to v1, target, ratio to target; then code size."""
    header = (
        f"{'#':>2}  {'operation':<52} {'caller':<6} {'gasUsed':>10} {'v1':>10} "
        f"{'/v1':>6} {'target':>10} {'/target':>8}"
    )
    lines = [header, "-" * len(header)]
    for n, name, caller in OPERATIONS:
        ours, v1, target = result.gas[n], V1_GAS[n], TARGET_GAS[n]
        flag = "" if ours / target <= TARGET_RATIO_GOAL else "  > goal"
        lines.append(
            f"{n:>2}  {name:<52} {caller:<6} {ours:>10,} {v1:>10,} {ours / v1:>6.3f} "
            f"{target:>10,} {ours / target:>8.3f}{flag}"
        )
    lines.append("-" * len(header))
    size = result.runtime_code_size
    lines.append(
        f"runtime code size of ChannelManager: {size:,} bytes "
        f"(EIP-170 limit {EIP170_LIMIT:,}; v1 {V1_RUNTIME_CODE_SIZE:,})"
    )
    return "\n".join(lines)
