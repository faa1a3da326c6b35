"""BENCHMARK.md's fixed gas scenario (operations #0–#14) played through the `Chain` interface.

The scenario itself (states, signatures, order, timestamps) is fuzzing/gas_scenario_script.py,
which research/benchmark_scenario.py (the brownie version behind `make gas`) plays too; this
module only says how to reach a fuzzing chain backend. `play()` is a generator that yields a
`Step` after every transaction, so a test can compare two chains after each one; the
cross-backend test checks that this replay measures the same gas as the brownie script.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from channel_manager.contract_views import ChannelDetails
from fuzzing.artifacts import Artifact
from fuzzing.chain.base import DEV_BALANCE, Chain, Contract, TxResult
from fuzzing.gas_scenario_script import (
    HUB_NONCE,
    TX_GAS_LIMIT,
    GasScenarioScript,
    ScenarioError,
)

__all__ = ["GasScenario", "ScenarioError", "ScenarioRecord", "Step"]


@dataclass(frozen=True)
class Step:
    """One transaction of the scenario: its BENCHMARK.md number (None for set-up), a label and
    its result."""

    op: int | None
    label: str
    result: TxResult


@dataclass
class ScenarioRecord:
    gas: dict[int, int] = field(default_factory=dict)
    runtime_code_size: int = 0


class GasScenario(GasScenarioScript):
    """One play on `chain` of the scenario with the given manager and token artifacts."""

    manager: Contract | None
    token: Contract | None

    def __init__(self, chain: Chain, manager: Artifact, token: Artifact) -> None:
        super().__init__(chain.accounts[:4], chain.chain_id)
        self.chain = chain
        self.artifacts = {"ChannelManager": manager, "TestToken": token}
        self.record = ScenarioRecord()

    # -- the backend ---------------------------------------------------------------------
    def prepare_accounts(self) -> None:
        for party in (self.hub, self.user_a, self.user_b, self.user_c):
            self.chain.set_balance(party, DEV_BALANCE)
        self.chain.set_nonce(self.hub, HUB_NONCE)

    def set_next_timestamp(self, timestamp: int) -> None:
        self.chain.set_time(timestamp)

    def transact(
        self, contract: Any, function: str, args: tuple[Any, ...], sender: Any, value: int
    ) -> TxResult:
        return self.chain.transact(
            contract, function, *args, sender=sender, value=value, gas=TX_GAS_LIMIT
        )

    def create(
        self, contract_name: str, args: tuple[Any, ...], sender: Any
    ) -> tuple[Contract, TxResult]:
        artifact = self.artifacts[contract_name]
        contract = self.chain.deploy(artifact, *args, sender=sender, gas=TX_GAS_LIMIT)
        return contract, contract.deployment  # type: ignore[return-value]

    def pay(self, sender: Any, to: Any, wei: int) -> TxResult:
        return self.chain.send(sender, to, wei, gas=TX_GAS_LIMIT)

    def checked(self, label: str, op: int | None, tx: TxResult) -> Step:
        if not tx.success:
            raise ScenarioError(f"{label} failed: {tx.revert_text()}")
        if op is not None:
            self.record.gas[op] = tx.gas_used
        return Step(op, label, tx)

    def record_deployment(self) -> None:
        self.record.runtime_code_size = len(self.chain.code(self.manager))

    def closing_time(self, user: Any) -> int:
        details = self.chain.call(self.manager, "getChannelDetails", user)
        return ChannelDetails.decode(details).closing_time
