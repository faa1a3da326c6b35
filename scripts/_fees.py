"""Transaction fees of the deploy and operate scripts: EIP-1559 (max fee and priority fee) from
the config or CM_MAX_FEE / CM_PRIORITY_FEE, else from the node; a legacy gas price
(CM_GAS_PRICE) on nodes without a base fee. The dry run prints the same `Fees` the real run
sends with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from brownie import web3

from channel_manager.ops import OpsError
from channel_manager.ops.settings import Settings

GWEI = 10**9
# A replacement must pay more than the stuck transaction: geth's pool wants +10 % on both fees.
REPLACEMENT_BUMP = (9, 8)  # × 1.125


@dataclass(frozen=True)
class Fees:
    """What each transaction offers per gas. EIP-1559: `max_fee` and `priority_fee`; legacy:
    `max_fee` is the gas price and `priority_fee` is 0."""

    eip1559: bool
    max_fee: int
    priority_fee: int
    base_fee: int | None
    sources: dict[str, str] = field(default_factory=dict)

    def tx_fields(self) -> dict[str, int]:
        if self.eip1559:
            return {"maxFeePerGas": self.max_fee, "maxPriorityFeePerGas": self.priority_fee}
        return {"gasPrice": self.max_fee}

    def likely_price(self) -> int:
        """What a gas unit costs if mined now (the max fee is only an upper bound)."""
        if self.eip1559 and self.base_fee is not None:
            return min(self.max_fee, self.base_fee + self.priority_fee)
        return self.max_fee

    def describe(self) -> str:
        src = self.sources
        if self.eip1559:
            return (
                f"EIP-1559: max fee {gwei(self.max_fee)} [{src.get('max_fee', 'node')}],"
                f" priority fee {gwei(self.priority_fee)} [{src.get('priority_fee', 'node')}],"
                f" base fee now {gwei(self.base_fee or 0)}"
            )
        return f"legacy gas price {gwei(self.max_fee)} [{src.get('gas_price', 'node')}]"

    def to_json(self) -> dict[str, Any]:
        return {"eip1559": self.eip1559, "max_fee": self.max_fee, "priority_fee": self.priority_fee}

    def raised_over(self, stuck: Mapping[str, Any]) -> Fees:
        """These fees, raised where needed to replace a stuck transaction that offered `stuck`."""
        num, den = REPLACEMENT_BUMP
        max_fee = max(self.max_fee, -(-int(stuck.get("max_fee", 0)) * num // den))
        priority = self.priority_fee
        if self.eip1559:
            priority = max(priority, -(-int(stuck.get("priority_fee", 0)) * num // den))
        return Fees(
            self.eip1559,
            max_fee,
            priority,
            self.base_fee,
            {**self.sources, "max_fee": "raised to replace"},
        )


def gwei(wei: int) -> str:
    value = int(wei) / GWEI
    return f"{value:,.9f}".rstrip("0").rstrip(".") + " gwei"


def current_fees(settings: Settings) -> Fees:
    """The fee model both the dry run and the real run use (checked: the max fee covers the
    priority fee, and it is not below the current base fee, or nothing would be mined)."""
    latest = web3.eth.get_block("latest")
    base_fee = latest.get("baseFeePerGas")
    sources = {
        k: s for k, s in settings.sources.items() if k in ("max_fee", "priority_fee", "gas_price")
    }
    if base_fee is None or settings.gas_price is not None:
        price = settings.gas_price if settings.gas_price is not None else int(web3.eth.gas_price)
        return Fees(False, price, 0, None if base_fee is None else int(base_fee), sources)
    base_fee = int(base_fee)
    if settings.priority_fee is not None:
        priority = settings.priority_fee
    elif settings.development:
        priority, sources["priority_fee"] = 0, "local chain"  # free, as brownie's own default
    else:
        try:
            priority = int(web3.eth.max_priority_fee)
        except Exception:  # older nodes have no eth_maxPriorityFeePerGas
            priority, sources["priority_fee"] = GWEI, "default 1 gwei"
    max_fee = settings.max_fee if settings.max_fee is not None else 2 * base_fee + priority
    if max_fee < priority:
        raise OpsError(f"max fee {gwei(max_fee)} is below the priority fee {gwei(priority)}")
    if max_fee < base_fee:
        raise OpsError(
            f"max fee {gwei(max_fee)} is below the current base fee {gwei(base_fee)}:"
            " nothing would be mined now (raise CM_MAX_FEE)"
        )
    return Fees(True, max_fee, priority, base_fee, sources)
