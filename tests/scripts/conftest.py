"""Fixtures of the script tests: a deployment made by scripts/deploy.py into a temporary records
folder, the environment the scripts read (always passed explicitly, so a developer's own CM_*
variables never leak in), envelope files, and a helper asserting a one-line refusal with
nothing sent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from brownie import ChannelManager, TestToken, accounts, chain

from channel_manager import transitions
from channel_manager.devkeys import anvil_key
from channel_manager.eip712 import Domain
from channel_manager.ops.envelopes import channel_envelope, thread_envelope, write_envelope
from channel_manager.signing import sign_channel_state, sign_thread_state
from channel_manager.states import ChannelState, ThreadState
from scripts import deploy
from tests.scripts.helpers import ETHER, key_of, refused


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("deployments")


@pytest.fixture(scope="module")
def base_env(records: Path) -> dict[str, str]:
    """What every script call gets: the repository's config, records in a temporary folder."""
    return {"CM_DEPLOYMENTS_DIR": str(records)}


@pytest.fixture(scope="module")
def deployed(base_env: dict[str, str]) -> dict[str, Any]:
    """The record of a deployment by scripts/deploy.py (test token, funded reserve)."""
    record = deploy.run(env=dict(base_env))
    assert record is not None
    return record


@pytest.fixture(scope="module")
def cm(deployed: dict[str, Any]) -> Any:
    return ChannelManager.at(deployed["address"])


@pytest.fixture(scope="module")
def tdai(deployed: dict[str, Any]) -> Any:
    return TestToken.at(deployed["test_token"]["address"])


@pytest.fixture(scope="module")
def dom(cm: Any) -> Domain:
    return Domain(chain.id, cm.address)


@pytest.fixture
def env_as(base_env: dict[str, str]) -> Callable[..., dict[str, str]]:
    """`env_as(account, **extra)`: the script environment with CM_ACCOUNT set to a local account."""

    def make(account: Any, **extra: str) -> dict[str, str]:
        return {**base_env, "CM_ACCOUNT": f"local:{list(accounts).index(account)}", **extra}

    return make


@pytest.fixture
def refused_as(
    capsys: pytest.CaptureFixture[str], env_as: Callable[..., dict[str, str]]
) -> Callable[..., str]:
    """`refused_as(account, command, *args, expect=fragment or fragments)`: `command(*args)`
    run as `account` refuses with one line holding every fragment, and `account` sends nothing."""

    def run(
        account: Any, command: Callable[..., Any], *args: Any, expect: str | tuple[str, ...]
    ) -> str:
        fragments = (expect,) if isinstance(expect, str) else expect
        return refused(
            capsys, lambda: command(*args, env=env_as(account)), *fragments, sender=account
        )

    return run


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, dict[str, Any]], str]:
    """`write(name, envelope)` → the path of a JSON envelope file."""

    def make(name: str, envelope: dict[str, Any]) -> str:
        path = tmp_path / name
        write_envelope(path, envelope)
        return str(path)

    return make


@pytest.fixture
def signed(dom: Domain) -> Callable[..., dict[str, Any]]:
    """`signed(state, hub=True, user=True)`: a channel envelope signed by anvil keys."""

    def make(state: ChannelState, hub: bool = True, user: bool = True) -> dict[str, Any]:
        sig_hub = sign_channel_state(anvil_key(0), dom, state) if hub else None
        sig_user = sign_channel_state(key_of(accounts.at(state.user)), dom, state) if user else None
        return channel_envelope(state, sig_hub, sig_user, dom)

    return make


@pytest.fixture
def thread_signed(dom: Domain) -> Callable[..., dict[str, Any]]:
    def make(state: ThreadState, proof: list[bytes] | None = None) -> dict[str, Any]:
        sig = sign_thread_state(key_of(accounts.at(state.sender)), dom, state)
        return thread_envelope(state, sig, proof or [], dom)

    return make


@pytest.fixture
def deposit(cm: Any, dom: Domain) -> Callable[..., ChannelState]:
    """`deposit(user, wei)`: the user deposits through userAuthorizedUpdate (hub-signed);
    returns the double-signable acknowledgement (txCount [2, 1])."""

    def make(user: Any, wei: int = ETHER) -> ChannelState:
        proposal = transitions.propose_deposit(
            ChannelState(user.address, user.address), user_wei=wei
        )
        cm.userAuthorizedUpdate(
            proposal.to_tuple(),
            sign_channel_state(anvil_key(0), dom, proposal),
            {"from": user, "value": wei},
        )
        return transitions.acknowledge(proposal)

    return make


@pytest.fixture
def thread_in_dispute(cm: Any, dom: Domain, deposit: Callable[..., ChannelState]) -> dict[str, Any]:
    """Alice (1 ETH deposited) opens a 0.4 ETH thread to bob, pays 0.3 in it (txCount 1), then
    exits with the channel state locking the thread; the hub empties the channel at once, so
    it is in ThreadDispute with the thread's 0.4 ETH still inside. Nothing disputes the thread
    yet. Returns the states and signatures."""
    from channel_manager.merkle import MerkleTree

    alice, bob = accounts[1], accounts[2]
    acked = deposit(alice)
    initial = ThreadState(alice.address, bob.address, 1, (4 * ETHER // 10, 0), (0, 0), 0)
    update = initial.evolve(wei_balances=(ETHER // 10, 3 * ETHER // 10), tx_count=1)
    tree = MerkleTree.of_threads([initial])
    locked = acked.evolve(
        tx_count=(3, 1), wei_balances=(0, 6 * ETHER // 10), thread_root=tree.root, thread_count=1
    )
    sig_hub = sign_channel_state(anvil_key(0), dom, locked)
    sig_user = sign_channel_state(anvil_key(1), dom, locked)
    cm.startExitWithUpdate(locked.to_tuple(), sig_hub, sig_user, {"from": alice})
    cm.emptyChannel(alice, {"from": accounts[0]})
    return {
        "alice": alice,
        "bob": bob,
        "initial": initial,
        "initial_sig": sign_thread_state(anvil_key(1), dom, initial),
        "proof": tree.thread_proof(initial),
        "update": update,
        "update_sig": sign_thread_state(anvil_key(1), dom, update),
    }
