"""Fixtures for channel disputes, credits and the attacks on them (docs/protocol.md §6, §7, §10.4–8).

Catalogue (one line each):
- `read_channel(user, manager=None)` → dict of every stored field of a channel, by view name.
- `read_globals(manager=None, asset=None)` → totals, reserves, contract ETH and token balances.
- `event_args(tx, name)` (function) → the one `name` event as plain values; `plain(value)`.
- `key_signer` → the suite's signer plus contract users' owner key.
- `sign_both(state, by=None)` → (sigHub, sigUser), for key users and contract users alike.
- `put_in_thread_dispute(user)` → empties `user`'s opened channel into ThreadDispute.
- `contract_user(Kind)` → a deployed ContractUser subclass, holding 1,000 TST approved to
  the manager, whose ERC-1271 signatures the signers can make (key OWNER_KEY).
- `open_contract_channel(wallet, …, signer=None)` → opens a contract user's channel like
  `open_channel` (on the wallet's manager; pass that deployment's signer).
- `blacklist_env` → a second deployment whose token is a BlacklistingToken (manager, token,
  signer, open(user, …)); alice holds approved tokens there.

The default channel (`open_channel(user)` from tests/conftest.py) holds, after its deposit:
ETH hub 0, user 1; TST hub 50, user 100; stored txCount (1, 1). `OPENED` names these numbers.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Callable

import pytest
from brownie import BlacklistingToken, ChannelManager, chain
from eth_account import Account
from eth_utils import keccak

from channel_manager import transitions
from channel_manager.eip712 import Domain
from channel_manager.states import ChannelState
from tests.helpers import CHALLENGE_PERIOD, ETHER, TOKEN, Signer

# A local test key owning every contract user: ContractUser accepts its ECDSA signatures.
OWNER_KEY = keccak(text="channel-manager tests: contract user owner")
OWNER = Account.from_key(OWNER_KEY).address

# The default channel opened by `open_channel(user)`.
OPENED = SimpleNamespace(
    wei_hub=0,
    wei_user=ETHER,
    wei_total=ETHER,
    token_hub=50 * TOKEN,
    token_user=100 * TOKEN,
    token_total=150 * TOKEN,
    tx_count=(1, 1),
)

ZERO_ROOT = "0x" + "00" * 32
SOME_ROOT = "0x" + keccak(text="some thread root").hex().removeprefix("0x")

OPEN, CHANNEL_DISPUTE, THREAD_DISPUTE = 0, 1, 2


# ---------------------------------------------------------------------------------- readers


def channel_fields(manager: Any, user: Any) -> dict[str, Any]:
    """Every stored field of `user`'s channel, named like the views' return values."""
    wei_hub, wei_user, wei_total, token_hub, token_user, token_total = manager.getChannelBalances(user)
    g, c, root, count, initiator, closing, status = manager.getChannelDetails(user)
    return plain_dict({
        "weiHub": wei_hub,
        "weiUser": wei_user,
        "weiTotal": wei_total,
        "tokenHub": token_hub,
        "tokenUser": token_user,
        "tokenTotal": token_total,
        "txCountGlobal": g,
        "txCountChain": c,
        "threadRoot": root,
        "threadCount": count,
        "exitInitiator": str(initiator),
        "channelClosingTime": closing,
        "status": status,
    })


def plain_dict(values: dict[str, Any]) -> dict[str, Any]:
    return {key: plain(value) for key, value in values.items()}


def global_fields(manager: Any, token: Any) -> dict[str, int]:
    """Global totals, reserves and the contract's actual holdings."""
    return plain_dict({
        "totalChannelWei": manager.totalChannelWei(),
        "totalChannelToken": manager.totalChannelToken(),
        "reserveWei": manager.getHubReserveWei(),
        "reserveTokens": manager.getHubReserveTokens(),
        "contractWei": manager.balance(),
        "contractTokens": token.balanceOf(manager),
    })


def plain(value: Any) -> Any:
    """Brownie's return and event values as plain Python (ints, checksummed or hex strings,
    tuples), so they compare with literals (brownie's compiled Wei refuses some comparisons)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (list, tuple)):
        return tuple(plain(v) for v in value)
    return value


def event_args(tx: Any, name: str) -> dict[str, Any]:
    """The one `name` event of `tx`, as a plain dict (asserts there is exactly one)."""
    assert tx.events.count(name) == 1, f"{name} emitted {tx.events.count(name)} times"
    return {key: plain(value) for key, value in tx.events[name].items()}


@pytest.fixture
def read_channel(funded: Any) -> Callable[..., dict[str, Any]]:
    def read(user: Any, manager: Any = None) -> dict[str, Any]:
        return channel_fields(manager or funded, user)

    return read


@pytest.fixture
def read_globals(funded: Any, token: Any) -> Callable[..., dict[str, int]]:
    def read(manager: Any = None, asset: Any = None) -> dict[str, int]:
        return global_fields(manager or funded, asset or token)

    return read


# ---------------------------------------------------------------------------------- signing


@pytest.fixture(scope="module")
def key_signer(signer: Signer) -> Signer:
    """The suite's signer plus the contract users' owner key (registered per deployment)."""
    return Signer(signer.domain, dict(signer.keys))


@pytest.fixture
def sign_both(key_signer: Signer, hub: Any) -> Callable[..., tuple[bytes, bytes]]:
    def sign(state: ChannelState, by: Signer | None = None) -> tuple[bytes, bytes]:
        return (by or key_signer).both(state, hub)

    return sign


# ---------------------------------------------------------------------------------- disputes


@pytest.fixture
def put_in_thread_dispute(funded: Any, sign_both: Callable, hub: Any, new_state: Callable) -> Callable:
    """Exit with a state whose thread lock (0.25 ETH, 10 TST of the default channel) stays in
    the channel, and empty it: the channel ends in ThreadDispute with one open thread."""

    def put(user: Any) -> None:
        state = new_state(
            user,
            wei_balances=(0, 3 * ETHER // 4),
            token_balances=(40 * TOKEN, 100 * TOKEN),
            tx_count=(2, 1),
            thread_root=SOME_ROOT,
            thread_count=1,
        )
        funded.startExitWithUpdate(state.to_tuple(), *sign_both(state), {"from": hub})
        funded.emptyChannel(user, {"from": user})

    return put


# ---------------------------------------------------------------------------------- contract users


@pytest.fixture
def contract_user(funded: Any, token: Any, key_signer: Signer, alice: Any) -> Callable[[Any], Any]:
    """`contract_user(Kind)`: deploys a ContractUser subclass for `funded`, gives it 1,000 TST
    approved to the manager and registers its owner key with the signers."""

    def deploy(kind: Any, manager: Any = None, asset: Any = None, signer: Signer | None = None) -> Any:
        manager = manager or funded
        asset = asset or token
        wallet = kind.deploy(manager, OWNER, {"from": alice})
        asset.mint(wallet, 1_000 * TOKEN, {"from": alice})
        wallet.approve(asset, manager, 2**256 - 1, {"from": alice})
        (signer or key_signer).keys[str(wallet)] = OWNER_KEY
        return wallet

    return deploy


@pytest.fixture
def open_contract_channel(funded: Any, key_signer: Signer, hub: Any, alice: Any) -> Callable:
    """Like `open_channel`, for a contract user: the deposit goes through the wallet (the
    operator `alice` pays its ETH) to the wallet's manager, signed by `signer` (default: the
    suite's deployment); returns the acknowledged state (txCount (2, 1))."""

    def make(wallet: Any, user_wei: int = ETHER, user_token: int = 100 * TOKEN,
             hub_wei: int = 0, hub_token: int = 50 * TOKEN, signer: Signer | None = None) -> ChannelState:
        proposal = transitions.propose_deposit(
            ChannelState(str(wallet), str(wallet)),
            user_wei=user_wei,
            user_token=user_token,
            hub_wei=hub_wei,
            hub_token=hub_token,
        )
        wallet.userAuthorizedUpdate(
            proposal.to_tuple(), (signer or key_signer).channel(proposal, hub), {"from": alice, "value": user_wei}
        )
        return transitions.acknowledge(proposal)

    return make


# ---------------------------------------------------------------------------------- blacklisting token


@pytest.fixture(scope="module")
def blacklist_env(hub: Any, alice: Any, signer: Signer) -> SimpleNamespace:
    """A second ChannelManager whose token blacklists (reserve 10 ETH + 10,000 BLT; alice
    holds 1,000 BLT approved to it). `open(user)` opens the default channel there."""
    token = BlacklistingToken.deploy("Blacklisting Token", "BLT", {"from": hub})
    manager = ChannelManager.deploy(hub, CHALLENGE_PERIOD, token, {"from": hub})
    hub.transfer(manager, 10 * ETHER)
    token.mint(manager, 10_000 * TOKEN, {"from": hub})
    token.mint(alice, 1_000 * TOKEN, {"from": alice})
    token.approve(manager, 2**256 - 1, {"from": alice})
    env_signer = Signer(Domain(chain.id, manager.address), dict(signer.keys))

    def open_(user: Any, user_wei: int = ETHER, user_token: int = 100 * TOKEN,
              hub_wei: int = 0, hub_token: int = 50 * TOKEN) -> ChannelState:
        proposal = transitions.propose_deposit(
            ChannelState(str(user), str(user)),
            user_wei=user_wei, user_token=user_token, hub_wei=hub_wei, hub_token=hub_token,
        )
        manager.userAuthorizedUpdate(
            proposal.to_tuple(), env_signer.channel(proposal, hub), {"from": user, "value": user_wei}
        )
        return transitions.acknowledge(proposal)

    return SimpleNamespace(manager=manager, token=token, signer=env_signer, open=open_)
