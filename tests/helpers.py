"""Shared test helpers: keys of the local chain's accounts, signing, revert matching, time.

Test files import from here rather than from brownie's compiled submodules (brownie hashes the
source of every module a test file imports from inside the project, and cannot read a .so).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import brownie
from channel_manager.devkeys import ANVIL_MNEMONIC, anvil_key  # noqa: F401 (re-exported)
from channel_manager.eip712 import Domain
from channel_manager.errors import ERRORS
from channel_manager.signing import sign_channel_state, sign_thread_state
from channel_manager.states import ChannelState, ThreadState

ETHER = 10**18
TOKEN = 10**18  # the test token has 18 decimals
CHALLENGE_PERIOD = 3600


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
