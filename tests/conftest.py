"""Fixtures for the whole suite. Roles: hub = accounts[0], alice/bob/carol = users,
stranger = an address with no role. Deployments are module-scoped; every test runs in
brownie's function isolation (a snapshot reverted after the test)."""

from __future__ import annotations

import pytest
from brownie import ChannelManager, TestToken, accounts, chain

from channel_manager.eip712 import Domain
from channel_manager.states import ChannelState
from channel_manager import transitions
from tests.helpers import CHALLENGE_PERIOD, ETHER, TOKEN, Signer, anvil_key


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    pass


@pytest.fixture(scope="session")
def hub():
    return accounts[0]


@pytest.fixture(scope="session")
def alice():
    return accounts[1]


@pytest.fixture(scope="session")
def bob():
    return accounts[2]


@pytest.fixture(scope="session")
def carol():
    return accounts[3]


@pytest.fixture(scope="session")
def stranger():
    return accounts[9]


@pytest.fixture(scope="module")
def token(hub):
    return TestToken.deploy("Test Token", "TST", {"from": hub})


@pytest.fixture(scope="module")
def manager(hub, token):
    return ChannelManager.deploy(hub, CHALLENGE_PERIOD, token, {"from": hub})


@pytest.fixture(scope="module")
def funded(manager, token, hub, alice, bob, carol):
    """Reserve of 100 ETH + 10,000 TST; each user holds 1,000 TST approved to the manager."""
    hub.transfer(manager, 100 * ETHER)
    token.mint(hub, 1_000_000 * TOKEN, {"from": hub})
    token.transfer(manager, 10_000 * TOKEN, {"from": hub})
    for user in (alice, bob, carol):
        token.mint(user, 1_000 * TOKEN, {"from": user})
        token.approve(manager, 2**256 - 1, {"from": user})
    return manager


@pytest.fixture(scope="module")
def domain(manager):
    return Domain(chain.id, manager.address)


@pytest.fixture(scope="module")
def signer(domain):
    return Signer(domain, {str(accounts[i]): anvil_key(i) for i in range(10)})


@pytest.fixture
def new_state():
    """`new_state(user, **fields)`: a ChannelState with the user as recipient by default."""

    def make(user, **fields) -> ChannelState:
        fields.setdefault("recipient", user)
        return ChannelState(user=str(user), **fields)

    return make


@pytest.fixture
def open_channel(funded, signer, hub):
    """`open_channel(user, user_wei, user_token, hub_wei, hub_token)` deposits through
    userAuthorizedUpdate (hub-signed) and returns the acknowledged state (txCount [2, 1])."""

    def make(user, user_wei=ETHER, user_token=100 * TOKEN, hub_wei=0, hub_token=50 * TOKEN):
        proposal = transitions.propose_deposit(
            ChannelState(str(user), str(user)),
            user_wei=user_wei,
            user_token=user_token,
            hub_wei=hub_wei,
            hub_token=hub_token,
        )
        funded.userAuthorizedUpdate(
            proposal.to_tuple(), signer.channel(proposal, hub), {"from": user, "value": user_wei}
        )
        return transitions.acknowledge(proposal)

    return make
