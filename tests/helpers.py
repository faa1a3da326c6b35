"""Shared test helpers: keys of the local chain's accounts, signing, revert matching, time.

Test files import from here rather than from brownie's compiled submodules (brownie hashes the
source of every module a test file imports from inside the project, and cannot read a .so).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

import brownie

from channel_manager.devkeys import ANVIL_MNEMONIC, anvil_key  # noqa: F401 (re-exported)
from channel_manager.eip712 import Domain
from channel_manager.errors import ERRORS
from channel_manager.signing import sign_channel_state, sign_thread_state
from channel_manager.states import ChannelState, ThreadState

ETHER = 10**18
TOKEN = 10**18  # the test token has 18 decimals
CHALLENGE_PERIOD = 3600
ZERO_ADDRESS = "0x" + "00" * 20
ZERO_ROOT = "0x" + "00" * 32


def revert_text(name: str, *args: object) -> str:
    """Brownie's decoded form of a custom error: `"StaleTxCount: 3, 5"`."""
    return ERRORS[name](*args).revert_text()


@contextlib.contextmanager
def reverts(name: str, *args: object) -> Iterator[None]:
    """Assert that the block reverts with custom error `name` (and exactly `args`, if given)."""
    if args:
        with brownie.reverts(revert_text(name, *args)):
            yield
    else:
        with brownie.reverts(revert_pattern=rf"{name}(: .*)?$"):
            yield


def set_next_timestamp(timestamp: int) -> None:
    """The next block gets exactly this timestamp (anvil's evm_setNextBlockTimestamp)."""
    response = brownie.web3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])
    assert "error" not in response, response


def latest_timestamp() -> int:
    return brownie.web3.eth.get_block("latest")["timestamp"]


class Signer:
    """Signs channel and thread states for one deployment with the keys of local accounts."""

    def __init__(self, domain: Domain, keys: dict[str, bytes]) -> None:
        self.domain = domain
        self.keys = keys  # address -> private key

    def channel(self, state: ChannelState, signer: object) -> bytes:
        return sign_channel_state(self.keys[str(signer)], self.domain, state)

    def thread(self, state: ThreadState, signer: object) -> bytes:
        return sign_thread_state(self.keys[str(signer)], self.domain, state)

    def both(self, state: ChannelState, hub: object) -> tuple[bytes, bytes]:
        """(sigHub, sigUser)."""
        return self.channel(state, hub), self.channel(state, state.user)


# ---------------------------------------------------------------------------- plain values


def plain(value: object) -> object:
    """Brownie return values and event data as plain Python — ints, bools, `0x` hex strings for
    bytes, checksummed address strings for accounts and contracts, tuples for arrays, dicts for
    events — so they compare with literals (compiled brownie's Wei refuses some comparisons)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, str):
        return str(value)
    if hasattr(value, "address"):  # a brownie Account or Contract
        return str(value.address)
    if isinstance(value, (list, tuple)):  # before dicts: brownie's ReturnValue is both
        return tuple(plain(v) for v in value)
    if hasattr(value, "items"):
        return {k: plain(v) for k, v in value.items()}
    return value


def event_args(tx: Any, name: str) -> dict[str, Any]:
    """The one `name` event of `tx`, as a plain dict (asserts there is exactly one)."""
    assert tx.events.count(name) == 1, f"{name} emitted {tx.events.count(name)} times"
    return {key: plain(value) for key, value in tx.events[name].items()}


def fee_of(tx: Any) -> int:
    """ETH the sender paid for gas (zero on the zero-base-fee chain, but never assumed)."""
    return tx.gas_used * tx.gas_price


def hexes(items: Iterable[bytes]) -> list[str]:
    """bytes32 values as the `0x` strings a contract call takes (merkle proofs)."""
    return ["0x" + bytes(x).hex() for x in items]


def b32(value: bytes) -> str:
    """A bytes32 error argument as brownie prints it in a decoded revert (Python bytes repr,
    not hex): pass this to `reverts(...)` for ThreadNotInRoot's leaf and root."""
    return repr(bytes(value))
