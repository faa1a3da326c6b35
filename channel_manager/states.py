"""Immutable channel and thread states, with the contract's tuple form and JSON.

Field order and meaning mirror `IChannelManager.ChannelState` / `ThreadState`:
channel balances are `(hub, user)`, thread balances `(sender, receiver)`, pending updates
`(hubDeposit, hubWithdrawal, userDeposit, userWithdrawal)`, txCount `(global, onchain)`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from eth_utils.address import to_checksum_address

from channel_manager.aliases import ZERO_BYTES32, Address, Bytes32

Pair = tuple[int, int]
Quad = tuple[int, int, int, int]

HUB, USER = 0, 1
SENDER, RECEIVER = 0, 1
HUB_DEPOSIT, HUB_WITHDRAWAL, USER_DEPOSIT, USER_WITHDRAWAL = 0, 1, 2, 3
GLOBAL, ONCHAIN = 0, 1


def _address(value: Any) -> Address:
    return Address(to_checksum_address(str(value)))


def _bytes32(value: Any) -> Bytes32:
    if isinstance(value, str):
        raw = bytes.fromhex(value.removeprefix("0x"))
    else:
        raw = bytes(value)
    if len(raw) != 32:
        raise ValueError(f"expected 32 bytes, got {len(raw)}")
    return Bytes32(raw)


def _ints(values: Any, length: int) -> tuple[int, ...]:
    out = tuple(int(v) for v in values)
    if len(out) != length:
        raise ValueError(f"expected {length} integers, got {len(out)}")
    if any(v < 0 for v in out):
        raise ValueError(f"negative amount in {out}")
    return out


def _json_safe(fields: dict[str, Any]) -> dict[str, Any]:
    """A state's fields for JSON: numbers (alone or in arrays) as decimal strings, bytes as
    0x-hex, addresses as they are."""
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if isinstance(value, tuple):
            out[key] = [str(v) for v in value]
        elif isinstance(value, bytes):
            out[key] = "0x" + value.hex()
        elif isinstance(value, int):
            out[key] = str(value)
        else:
            out[key] = value
    return out


def _require_fields(kind: str, data: dict[str, Any], known: set[str], required: set[str]) -> None:
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown {kind} fields: {sorted(unknown)}")
    missing = required - set(data)
    if missing:
        raise ValueError(f"missing {kind} fields: {sorted(missing)}")


@dataclass(frozen=True, slots=True)
class ChannelState:
    """A channel state as hub and user sign it (docs/protocol.md §3)."""

    user: Address
    recipient: Address
    wei_balances: Pair = (0, 0)
    token_balances: Pair = (0, 0)
    pending_wei_updates: Quad = (0, 0, 0, 0)
    pending_token_updates: Quad = (0, 0, 0, 0)
    tx_count: Pair = (0, 0)
    thread_root: Bytes32 = field(default=ZERO_BYTES32)
    thread_count: int = 0
    timeout: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "user", _address(self.user))
        object.__setattr__(self, "recipient", _address(self.recipient))
        object.__setattr__(self, "wei_balances", _ints(self.wei_balances, 2))
        object.__setattr__(self, "token_balances", _ints(self.token_balances, 2))
        object.__setattr__(self, "pending_wei_updates", _ints(self.pending_wei_updates, 4))
        object.__setattr__(self, "pending_token_updates", _ints(self.pending_token_updates, 4))
        object.__setattr__(self, "tx_count", _ints(self.tx_count, 2))
        object.__setattr__(self, "thread_root", _bytes32(self.thread_root))
        for name in ("thread_count", "timeout"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"{name} must not be negative")
            object.__setattr__(self, name, int(getattr(self, name)))

    # -- derived views -------------------------------------------------------------------
    @property
    def has_pending(self) -> bool:
        return any(self.pending_wei_updates) or any(self.pending_token_updates)

    def evolve(self, **changes: Any) -> ChannelState:
        """A copy with some fields changed (the dataclass stays immutable)."""
        return replace(self, **changes)

    # -- conversions ---------------------------------------------------------------------
    def to_tuple(self) -> tuple[Any, ...]:
        """The ABI tuple the contract takes (`ChannelState calldata`)."""
        return (
            self.user,
            self.recipient,
            list(self.wei_balances),
            list(self.token_balances),
            list(self.pending_wei_updates),
            list(self.pending_token_updates),
            list(self.tx_count),
            "0x" + self.thread_root.hex(),
            self.thread_count,
            self.timeout,
        )

    @classmethod
    def from_tuple(cls, values: Any) -> ChannelState:
        (user, recipient, wei, token, pwei, ptoken, txc, root, count, timeout) = values
        return cls(user, recipient, wei, token, pwei, ptoken, txc, _bytes32(root), count, timeout)

    def to_json_dict(self) -> dict[str, Any]:
        """JSON-safe dict; amounts are decimal strings (they exceed JavaScript's 2^53)."""
        return _json_safe(asdict(self))

    def to_json(self) -> str:
        return json.dumps(self.to_json_dict(), indent=2)

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> ChannelState:
        _require_fields(cls.__name__, data, set(cls.__dataclass_fields__), {"user", "recipient"})
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> ChannelState:
        return cls.from_json_dict(json.loads(text))


@dataclass(frozen=True, slots=True)
class ThreadState:
    """A thread state as its sender signs it (docs/protocol.md §3, §8)."""

    sender: Address
    receiver: Address
    thread_id: int
    wei_balances: Pair = (0, 0)
    token_balances: Pair = (0, 0)
    tx_count: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "sender", _address(self.sender))
        object.__setattr__(self, "receiver", _address(self.receiver))
        object.__setattr__(self, "wei_balances", _ints(self.wei_balances, 2))
        object.__setattr__(self, "token_balances", _ints(self.token_balances, 2))
        for name in ("thread_id", "tx_count"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"{name} must not be negative")
            object.__setattr__(self, name, int(getattr(self, name)))

    @property
    def key(self) -> tuple[Address, Address, int]:
        return (self.sender, self.receiver, self.thread_id)

    @property
    def wei_sum(self) -> int:
        return self.wei_balances[0] + self.wei_balances[1]

    @property
    def token_sum(self) -> int:
        return self.token_balances[0] + self.token_balances[1]

    def evolve(self, **changes: Any) -> ThreadState:
        return replace(self, **changes)

    def to_tuple(self) -> tuple[Any, ...]:
        return (
            self.sender,
            self.receiver,
            self.thread_id,
            list(self.wei_balances),
            list(self.token_balances),
            self.tx_count,
        )

    @classmethod
    def from_tuple(cls, values: Any) -> ThreadState:
        sender, receiver, thread_id, wei, token, tx_count = values
        return cls(sender, receiver, thread_id, wei, token, tx_count)

    def to_json_dict(self) -> dict[str, Any]:
        return _json_safe(asdict(self))

    def to_json(self) -> str:
        return json.dumps(self.to_json_dict(), indent=2)

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> ThreadState:
        _require_fields(cls.__name__, data, set(cls.__dataclass_fields__), set())
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> ThreadState:
        return cls.from_json_dict(json.loads(text))
