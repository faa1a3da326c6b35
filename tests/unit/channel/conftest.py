"""Fixtures for the ChannelManager unit tests (reserve, authorized updates, views, digests).

Adds to tests/conftest.py: managers deployed with unusual tokens (no-return, fee-on-transfer,
reverting balanceOf), an ERC-1271 contract-wallet user, a second manager for cross-contract
replay, an `observe` snapshot of everything an authorized update may change, the docs/protocol.md §4
apply rule written independently of the package, and the signature mutations the signature
rules of docs/protocol.md §3 refuse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from brownie import (
    ChannelManager,
    ERC1271Wallet,
    FeeOnTransferToken,
    NoReturnToken,
    RevertingBalanceToken,
    accounts,
    chain,
)

from channel_manager.eip712 import Domain
from tests.helpers import CHALLENGE_PERIOD, ETHER, TOKEN, Signer, anvil_key

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
FEE_BASIS_POINTS = 100  # the fee-on-transfer token keeps 1 %


def signer_for(manager: Any) -> Signer:
    """A Signer bound to `manager`'s EIP-712 domain with the keys of the local accounts."""
    return Signer(Domain(chain.id, manager.address), {str(accounts[i]): anvil_key(i) for i in range(10)})


# ---------------------------------------------------------------------------- deployments


@pytest.fixture(scope="module")
def deploy_manager(hub) -> Callable[..., Any]:
    """`deploy_manager(token, period=3600)`: a fresh ChannelManager for `token`."""

    def deploy(token: Any, period: int = CHALLENGE_PERIOD) -> Any:
        return ChannelManager.deploy(hub, period, token, {"from": hub})

    return deploy


@pytest.fixture(scope="module")
def other_manager(deploy_manager, token):
    """A second deployment with the same hub and token: its signatures must not work on `manager`."""
    return deploy_manager(token)


@pytest.fixture(scope="module")
def empty_manager(deploy_manager, token):
    """A manager with no reserve at all (the shared `manager` is funded once any test of the
    module asked for `funded`)."""
    return deploy_manager(token)


@pytest.fixture(scope="module")
def empty_signer(empty_manager) -> Signer:
    return signer_for(empty_manager)


@pytest.fixture(scope="module")
def wallet(alice):
    """A contract-wallet user whose ERC-1271 signatures are made by alice's key."""
    return ERC1271Wallet.deploy(alice, {"from": alice})


@pytest.fixture(scope="module")
def rejecting_wallet(bob):
    """A contract that refuses ETH (a recipient whose payout fails)."""
    w = ERC1271Wallet.deploy(bob, {"from": bob})
    w.setRejectEth(True, {"from": bob})
    return w


def _fund(manager: Any, token: Any, hub: Any, users: tuple[Any, ...], wei: int, tokens: int) -> None:
    hub.transfer(manager, wei)
    token.mint(manager, tokens, {"from": hub})
    for user in users:
        token.mint(user, 1_000 * TOKEN, {"from": user})
        token.approve(manager, 2**256 - 1, {"from": user})


@pytest.fixture(scope="module")
def no_return_env(deploy_manager, hub, alice, bob):
    """A manager for a token whose transfers return nothing; reserve 10 ETH + 10,000 NRT,
    alice and bob hold 1,000 NRT approved."""
    token = NoReturnToken.deploy({"from": hub})
    manager = deploy_manager(token)
    _fund(manager, token, hub, (alice, bob), 10 * ETHER, 10_000 * TOKEN)
    return SimpleNamespace(manager=manager, token=token, signer=signer_for(manager))


@pytest.fixture(scope="module")
def fee_env(deploy_manager, hub, alice):
    """A manager for a 1 %-fee-on-transfer token; reserve 10 ETH + 10,000 FEE (minted straight
    to the manager, no fee), alice holds 1,000 FEE approved."""
    token = FeeOnTransferToken.deploy(FEE_BASIS_POINTS, {"from": hub})
    manager = deploy_manager(token)
    _fund(manager, token, hub, (alice,), 10 * ETHER, 10_000 * TOKEN)
    return SimpleNamespace(manager=manager, token=token, signer=signer_for(manager))


@pytest.fixture(scope="module")
def reverting_env(deploy_manager, hub):
    """A manager whose token's balanceOf can be made to revert; reserve 1 ETH + 500 RBT."""
    token = RevertingBalanceToken.deploy({"from": hub})
    manager = deploy_manager(token)
    hub.transfer(manager, ETHER)
    token.mint(manager, 500 * TOKEN, {"from": hub})
    return SimpleNamespace(manager=manager, token=token, signer=signer_for(manager))


# ---------------------------------------------------------------------------- observation


@dataclass(frozen=True)
class Observation:
    """Everything an authorized update or a reserve withdrawal may change."""

    balances: tuple[int, ...]  # getChannelBalances(user)
    details: tuple[Any, ...]  # getChannelDetails(user)
    total_wei: int
    total_token: int
    reserve_wei: int
    reserve_token: int
    eth: dict[str, int]  # ETH balance of the manager and each watched account
    tokens: dict[str, int]  # token balance of the same


@pytest.fixture
def observe() -> Callable[..., Observation]:
    """`observe(manager, token, user, *watched)`: read the channel of `user`, the totals, the
    reserve, and the ETH and token balances of the manager and of every watched account."""

    def read(manager: Any, token: Any, user: Any, *watched: Any) -> Observation:
        holders = [manager, *watched]
        return Observation(
            balances=tuple(manager.getChannelBalances(user)),
            details=tuple(manager.getChannelDetails(user)),
            total_wei=manager.totalChannelWei(),
            total_token=manager.totalChannelToken(),
            reserve_wei=manager.getHubReserveWei(),
            reserve_token=manager.getHubReserveTokens(),
            eth={str(a): chain_balance(a) for a in holders},
            tokens={str(a): token.balanceOf(a) for a in holders},
        )

    return read


def chain_balance(account: Any) -> int:
    from brownie import web3

    return web3.eth.get_balance(str(account))


def fee_of(tx: Any) -> int:
    """ETH the sender paid for gas (zero on a zero-base-fee anvil, but never assumed)."""
    return tx.gas_used * tx.gas_price


@pytest.fixture
def gas_fee() -> Callable[[Any], int]:
    return fee_of


def applied_side(balance: int, deposit: int, withdrawal: int) -> int:
    """docs/protocol.md §4 'apply' for one side: a net deposit is added, a net withdrawal was already
    deducted off-chain."""
    return balance + deposit - withdrawal if deposit > withdrawal else balance


@pytest.fixture
def apply_rule() -> Callable[[int, int, int], int]:
    return applied_side


# ---------------------------------------------------------------------------- signatures


def high_s(sig: bytes) -> bytes:
    """The malleable twin (n − s, flipped v): same signer for raw ecrecover, refused by docs/protocol.md §3."""
    r, s, v = sig[:32], int.from_bytes(sig[32:64], "big"), sig[64]
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])


def compact(sig: bytes) -> bytes:
    """EIP-2098 64-byte form r ‖ (v−27)<<255 | s."""
    r, s, v = sig[:32], int.from_bytes(sig[32:64], "big"), sig[64]
    return r + (s | ((v - 27) << 255)).to_bytes(32, "big")


SIGNATURE_MUTATIONS: dict[str, Callable[[bytes], bytes]] = {
    "high_s": high_s,
    "compact_64_bytes": compact,
    "v_0": lambda sig: sig[:64] + bytes([sig[64] - 27]),
    "v_29": lambda sig: sig[:64] + bytes([29]),
    "v_flipped": lambda sig: sig[:64] + bytes([55 - sig[64]]),
    "zero_recovering": lambda sig: bytes(32) + (1).to_bytes(32, "big") + bytes([27]),
    "empty": lambda sig: b"",
    "66_bytes": lambda sig: sig + b"\x00",
    "r_changed": lambda sig: bytes([sig[0] ^ 1]) + sig[1:],
}


@pytest.fixture
def mutate_signature() -> Callable[[str, bytes], bytes]:
    """`mutate_signature(name, sig)`: a broken form of a valid signature (names in
    SIGNATURE_MUTATIONS, used as parametrize ids)."""
    return lambda name, sig: SIGNATURE_MUTATIONS[name](bytes(sig))


# ---------------------------------------------------------------------------- events


def assert_update_event(tx: Any, state: Any, caller: Any) -> None:
    """DidUpdateChannel carries the submitted state's fields (IChannelManager) and the caller."""
    event = tx.events["DidUpdateChannel"]
    assert event["user"] == state.user
    assert event["caller"] == caller
    assert list(event["weiBalances"]) == list(state.wei_balances)
    assert list(event["tokenBalances"]) == list(state.token_balances)
    assert list(event["pendingWeiUpdates"]) == list(state.pending_wei_updates)
    assert list(event["pendingTokenUpdates"]) == list(state.pending_token_updates)
    assert list(event["txCount"]) == list(state.tx_count)
    assert bytes(event["threadRoot"]) == bytes(state.thread_root)
    assert event["threadCount"] == state.thread_count
    assert tx.events.count("DidUpdateChannel") == 1
