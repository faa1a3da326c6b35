"""BENCHMARK.md's fixed gas scenario (operations #0–#14) played through the `Chain` interface.

The scenario itself (states, signatures, order, timestamps) is fuzzing/gas_scenario_script.py,
which research/benchmark_scenario.py (the brownie version behind `make gas`) plays too; this
module only says how to reach a fuzzing chain backend. `play()` is a generator that yields a
`Step` after every transaction, so a test can compare two chains after each one; the
cross-backend test checks that this replay measures the same gas as the brownie script.
"""

from __future__ import annotations

from collections.abc import Iterator
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

    def _check(self, step: Step) -> Step:
        if not step.result.success:
            raise ScenarioError(f"{step.label} failed: {step.result.revert_text()}")
        if step.op is not None:
            self.record.gas[step.op] = step.result.gas_used
        return step

    # -- the backend ---------------------------------------------------------------------
    def prepare_accounts(self) -> None:
        for party in (self.hub, self.user_a, self.user_b, self.user_c):
            self.chain.set_balance(party, DEV_BALANCE)
        self.chain.set_nonce(self.hub, HUB_NONCE)

    def set_next_timestamp(self, timestamp: int) -> None:
        self.chain.set_time(timestamp)

    def send(
        self,
        label: str,
        contract: Any,
        function: str,
        *args: Any,
        sender: Any,
        value: int = 0,
        op: int | None = None,
        at: int | None = None,
    ) -> Iterator[Step]:
        self.advance(at)
        result = self.chain.transact(
            contract, function, *args, sender=sender, value=value, gas=TX_GAS_LIMIT
        )
        yield self._check(Step(op, label, result))

    def deploy(
        self, label: str, contract_name: str, *args: Any, sender: Any, op: int | None = None
    ) -> Iterator[Step]:
        self.advance()
        contract = self.chain.deploy(
            self.artifacts[contract_name], *args, sender=sender, gas=TX_GAS_LIMIT
        )
        yield self._check(Step(op, label, contract.deployment))  # type: ignore[arg-type]
        return contract

    def transfer_ether(self, label: str, sender: Any, to: Any, wei: int) -> Iterator[Step]:
        self.advance()
        yield self._check(Step(None, label, self.chain.send(sender, to, wei, gas=TX_GAS_LIMIT)))

    def record_deployment(self) -> None:
        self.record.runtime_code_size = len(self.chain.code(self.manager))

    def closing_time(self, user: Any) -> int:
        details = self.chain.call(self.manager, "getChannelDetails", user)
        return ChannelDetails.decode(details).closing_time
