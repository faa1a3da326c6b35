"""Cheap reads of the contract's public views (docs/protocol.md §9), the only way the oracle
looks at the contract: any ChannelManager variant with the same ABI can be judged."""

from __future__ import annotations

from typing import Any, NamedTuple

from channel_manager.contract_views import ChannelBalances, ChannelStatus, ThreadRecord
from fuzzing.chain.base import CallReverted, Chain, Contract
from fuzzing.engine.failure import PropertyFailure

#: The contract's statuses, as the engine's modules name them (channel_manager.contract_views).
OPEN, CHANNEL_DISPUTE, THREAD_DISPUTE = (
    ChannelStatus.OPEN,
    ChannelStatus.CHANNEL_DISPUTE,
    ChannelStatus.THREAD_DISPUTE,
)


#: One channel as the oracle keeps it, flat for speed: the package's `ChannelBalances` fields
#: (wei_hub … token_total), then the details under short names, then the two credits.
ChannelView = NamedTuple(
    "ChannelView",
    [
        *((name, int) for name in ChannelBalances._fields),
        ("tx_global", int),
        ("tx_chain", int),
        ("root", bytes),
        ("count", int),
        ("initiator", str),
        ("closing", int),
        ("status", int),
        ("credit_wei", int),
        ("credit_token", int),
    ],
)


class ThreadView(ThreadRecord):
    """The package's typed thread record, with the engine's shorthands."""

    @property
    def closing(self) -> int:
        return self.closing_time

    @property
    def sums(self) -> tuple[int, int]:
        return self.wei[0] + self.wei[1], self.token[0] + self.token[1]


EMPTY_THREAD = ThreadView((0, 0), (0, 0), 0, 0, (False, False))


class Globals(NamedTuple):
    eth: int  # the contract's ETH balance
    token: int  # the contract's token balance
    total_wei: int
    total_token: int


class Reader:
    def __init__(self, chain: Chain, manager: Contract, token: Contract) -> None:
        self.chain = chain
        self.manager = manager
        self.token = token
        self._call_chain = chain.call

    def _view(self, contract: Contract, name: str, *args: Any) -> Any:
        """A view's value; a view that reverts is itself a failure (the oracle cannot judge a
        contract it cannot read, and docs/protocol.md §9 has every view answer)."""
        try:
            return self._call_chain(contract, name, *args)
        except CallReverted as exc:
            raise PropertyFailure("view-reverted", f"{name}{args} reverted: {exc}") from None

    def channel(self, user: str, credits: tuple[int, int] | None = None) -> ChannelView:
        """The channel's views; `credits`, when given, stands for the two credit views."""
        m = self.manager
        call = self._view
        balances = call(m, "getChannelBalances", user)
        txg, txc, root, count, initiator, closing, status = call(m, "getChannelDetails", user)
        if credits is None:
            credits = (call(m, "creditWei", user), call(m, "creditToken", user))
        return ChannelView(
            *balances, txg, txc, bytes(root), count, initiator, closing, int(status), *credits
        )

    def totals(self) -> tuple[int, int]:
        call = self._view
        return call(self.manager, "totalChannelWei"), call(self.manager, "totalChannelToken")

    def thread(self, key: tuple[str, str, int]) -> ThreadView:
        wei, token, tx_count, closing, emptied = self._view(self.manager, "getThread", *key)
        return ThreadView(tuple(wei), tuple(token), tx_count, closing, tuple(emptied))

    def globals(self) -> Globals:
        m = self.manager
        call = self._view
        return Globals(
            self.chain.balance(m.address),
            call(self.token, "balanceOf", m.address),
            call(m, "totalChannelWei"),
            call(m, "totalChannelToken"),
        )

    def eth(self, address: str) -> int:
        return self.chain.balance(address)

    def tokens(self, address: str) -> int:
        return self._view(self.token, "balanceOf", address)
