"""Typed reads of the contract's views: the one place that knows their tuple layout.

`getChannelBalances`, `getChannelDetails` and `getThread` return bare tuples (interfaces/
IChannelManager.sol); callers here get named fields instead of `[6]`. The records are
NamedTuples, so positional use and tuple comparison keep working. `manager` is anything with
the contract's view methods (a brownie `Contract`, a test double); this module never imports
brownie.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol


class ChannelStatus(enum.IntEnum):
    """The contract's `Status` enum, in declaration order."""

    OPEN = 0
    CHANNEL_DISPUTE = 1
    THREAD_DISPUTE = 2


def status_name(status: int) -> str:
    """The enum member's name as the contract spells it (`ChannelDispute`), for messages."""
    return "".join(word.title() for word in ChannelStatus(status).name.split("_"))


class ChannelViews(Protocol):
    """The view methods this module reads (brownie returns loosely typed tuples)."""

    def getChannelBalances(self, user: str, /) -> Sequence[Any]: ...

    def getChannelDetails(self, user: str, /) -> Sequence[Any]: ...

    def getThread(self, sender: str, receiver: str, thread_id: int, /) -> Sequence[Any]: ...


class ChannelBalances(NamedTuple):
    """`getChannelBalances(user)`: each asset's hub side, user side and total."""

    wei_hub: int
    wei_user: int
    wei_total: int
    token_hub: int
    token_user: int
    token_total: int

    @classmethod
    def decode(cls, raw: Sequence[Any]) -> ChannelBalances:
        return cls(*(int(value) for value in raw))


class ChannelDetails(NamedTuple):
    """`getChannelDetails(user)`: counters, open threads and the running dispute, if any."""

    tx_count_global: int
    tx_count_chain: int
    thread_root: bytes
    thread_count: int
    exit_initiator: str
    closing_time: int
    status: ChannelStatus

    @classmethod
    def decode(cls, raw: Sequence[Any]) -> ChannelDetails:
        tx_global, tx_chain, root, count, initiator, closing, status = raw
        return cls(
            tx_count_global=int(tx_global),
            tx_count_chain=int(tx_chain),
            thread_root=_bytes32(root),
            thread_count=int(count),
            exit_initiator=str(initiator),
            closing_time=int(closing),
            status=ChannelStatus(int(status)),
        )


class ThreadRecord(NamedTuple):
    """`getThread(sender, receiver, id)`: the dispute record, `[sender, receiver]` per pair."""

    wei: tuple[int, int]
    token: tuple[int, int]
    tx_count: int
    closing_time: int
    emptied: tuple[bool, bool]

    @classmethod
    def decode(cls, raw: Sequence[Any]) -> ThreadRecord:
        wei, token, tx_count, closing, emptied = raw
        return cls(
            wei=(int(wei[0]), int(wei[1])),
            token=(int(token[0]), int(token[1])),
            tx_count=int(tx_count),
            closing_time=int(closing),
            emptied=(bool(emptied[0]), bool(emptied[1])),
        )


def _bytes32(value: Any) -> bytes:
    """brownie returns `bytes32` as bytes (HexBytes); JSON-decoded records as 0x-hex text."""
    return bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) else bytes(value)


def channel_balances(manager: ChannelViews, user: str) -> ChannelBalances:
    return ChannelBalances.decode(manager.getChannelBalances(user))


def channel_details(manager: ChannelViews, user: str) -> ChannelDetails:
    return ChannelDetails.decode(manager.getChannelDetails(user))


def thread_record(
    manager: ChannelViews, sender: str, receiver: str, thread_id: int
) -> ThreadRecord:
    return ThreadRecord.decode(manager.getThread(sender, receiver, thread_id))
