"""The hot path of the engine: building states, hashing them and signing them, fast.

`channel_manager` is the reference for all of this, but it is written for clarity: a
`ChannelState` validates and checksums every field when it is built (about 180 µs) and
`signing.sign_channel_state` goes through eth-account's typed-data encoder (about 3 ms). A
campaign builds and signs thousands of states a second, so this module

- builds `channel_manager.states` objects without re-validating fields that are already in
  canonical form (checksummed addresses, tuples of ints): `channel_state`, `evolve`;
- hashes them with the same EIP-712 layout as `channel_manager.eip712`, directly over bytes;
- signs digests with coincurve (libsecp256k1 always returns low-s signatures).

tests/fuzzing/engine/test_fast.py checks every function here against `channel_manager`
(equal states, equal digests and leaves, signatures that `signing.recover` attributes to the key).
"""

from __future__ import annotations

from dataclasses import fields
from functools import lru_cache
from typing import Any

import coincurve
from Crypto.Hash import keccak as _keccak_mod
from eth_utils import to_checksum_address

from channel_manager.eip712 import CHANNEL_STATE_TYPEHASH, THREAD_STATE_TYPEHASH, Domain
from channel_manager.states import ChannelState, ThreadState

_CHANNEL_FIELDS = tuple(f.name for f in fields(ChannelState))
_THREAD_FIELDS = tuple(f.name for f in fields(ThreadState))
_set = object.__setattr__


def keccak(data: bytes) -> bytes:
    return _keccak_mod.new(digest_bits=256, data=data).digest()


def word(value: int) -> bytes:
    return value.to_bytes(32, "big")


@lru_cache(maxsize=65536)
def array_hash(values: tuple[int, ...]) -> bytes:
    """EIP-712 hash of a fixed uint256 array (most arrays recur: zeros, the same balances)."""
    return keccak(b"".join(v.to_bytes(32, "big") for v in values))


@lru_cache(maxsize=4096)
def address_word(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])


# ------------------------------------------------------------------ states without re-validation


def channel_state(
    user: str,
    recipient: str,
    wei: tuple[int, int],
    token: tuple[int, int],
    pending_wei: tuple[int, int, int, int],
    pending_token: tuple[int, int, int, int],
    tx_count: tuple[int, int],
    root: bytes,
    count: int,
    timeout: int,
) -> ChannelState:
    """A ChannelState from fields already in canonical form (the caller guarantees it)."""
    state = object.__new__(ChannelState)
    for name, value in zip(
        _CHANNEL_FIELDS,
        (user, recipient, wei, token, pending_wei, pending_token, tx_count, root, count, timeout),
        strict=False,
    ):
        _set(state, name, value)
    return state


def evolve(state: Any, **changes: Any) -> Any:
    """`state.evolve(**changes)` for a ChannelState or ThreadState, without re-validation."""
    cls = type(state)
    names = _CHANNEL_FIELDS if cls is ChannelState else _THREAD_FIELDS
    new = object.__new__(cls)
    for name in names:
        _set(new, name, changes[name] if name in changes else getattr(state, name))
    return new


def thread_state(
    sender: str,
    receiver: str,
    thread_id: int,
    wei: tuple[int, int],
    token: tuple[int, int],
    tx_count: int,
) -> ThreadState:
    state = object.__new__(ThreadState)
    for name, value in zip(
        _THREAD_FIELDS, (sender, receiver, thread_id, wei, token, tx_count), strict=False
    ):
        _set(state, name, value)
    return state


# ------------------------------------------------------------------ EIP-712


class Hasher:
    """Digests for one deployment's domain (docs/protocol.md §3.2)."""

    def __init__(self, domain: Domain) -> None:
        self.prefix = b"\x19\x01" + domain.separator
        self._leaves: dict[ThreadState, bytes] = {}

    def channel_struct_hash(self, s: ChannelState) -> bytes:
        return keccak(
            b"".join(
                (
                    CHANNEL_STATE_TYPEHASH,
                    address_word(s.user),
                    address_word(s.recipient),
                    array_hash(s.wei_balances),
                    array_hash(s.token_balances),
                    array_hash(s.pending_wei_updates),
                    array_hash(s.pending_token_updates),
                    array_hash(s.tx_count),
                    bytes(s.thread_root),
                    word(s.thread_count),
                    word(s.timeout),
                )
            )
        )

    def thread_struct_hash(self, s: ThreadState) -> bytes:
        """Of an initial state, the thread's merkle leaf (cached: leaves are asked for often)."""
        leaf = self._leaves.get(s)
        if leaf is None:
            leaf = keccak(
                b"".join(
                    (
                        THREAD_STATE_TYPEHASH,
                        address_word(s.sender),
                        address_word(s.receiver),
                        word(s.thread_id),
                        array_hash(s.wei_balances),
                        array_hash(s.token_balances),
                        word(s.tx_count),
                    )
                )
            )
            if len(self._leaves) > 50_000:
                self._leaves.clear()
            self._leaves[s] = leaf
        return leaf

    def channel_digest(self, s: ChannelState) -> bytes:
        return keccak(self.prefix + self.channel_struct_hash(s))

    def thread_digest(self, s: ThreadState) -> bytes:
        return keccak(self.prefix + self.thread_struct_hash(s))


# ------------------------------------------------------------------ keys


class Key:
    """A secp256k1 key and its address."""

    __slots__ = ("_key", "address", "private")

    def __init__(self, private: bytes) -> None:
        self.private = private
        self._key = coincurve.PrivateKey(private)
        public = self._key.public_key.format(compressed=False)[1:]
        self.address = to_checksum_address(keccak(public)[12:])

    def sign(self, digest: bytes) -> bytes:
        """65 bytes r ‖ s ‖ v, v ∈ {27, 28}, low s: the only key form the contract accepts."""
        raw = self._key.sign_recoverable(digest, hasher=None)
        return raw[:64] + bytes((raw[64] + 27,))


def derived_key(label: str) -> Key:
    """A deterministic key for a fuzzing party (never a real account)."""
    return Key(keccak(b"channel-manager fuzzing engine key: " + label.encode()))
