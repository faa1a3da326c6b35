"""Fixtures of the chain-backend tests: `chain` runs each test on both backends (revm in
process, anvil through the brownie network the run is connected to), `deployed` gives a token,
a ChannelManager and a funded reserve on it. brownie's function isolation reverts the anvil
after every test; a RevmChain is new for every test."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from channel_manager.devkeys import anvil_key
from channel_manager.eip712 import Domain
from fuzzing.artifacts import load_build_artifact
from fuzzing.chain.anvil_chain import AnvilChain
from fuzzing.chain.base import Chain, Contract
from fuzzing.chain.revm_chain import RevmChain
from tests.helpers import CHALLENGE_PERIOD, ETHER, TOKEN


@pytest.fixture(params=["revm", "anvil"])
def chain(request) -> Chain:
    if request.param == "revm":
        return RevmChain()
    return AnvilChain.from_brownie()


@pytest.fixture(scope="session")
def artifacts():
    return {
        name: load_build_artifact(name)
        for name in ("ChannelManager", "TestToken", "RejectingRecipient", "ERC1271Wallet")
    }


@dataclass
class Deployed:
    chain: Chain
    manager: Contract
    token: Contract
    domain: Domain
    hub: str
    alice: str
    bob: str
    stranger: str

    def key(self, address: str) -> bytes:
        return anvil_key(self.chain.accounts.index(address))


@pytest.fixture
def deployed(chain, artifacts) -> Deployed:
    """Token and manager deployed by the hub from nonce 7; reserve 10 ETH + 1,000 TST; alice
    and bob hold 100 TST approved to the manager."""
    hub, alice, bob = chain.accounts[:3]
    for account in chain.accounts:
        chain.set_balance(account, 10_000 * ETHER)
    chain.set_nonce(hub, 7)
    token = chain.deploy(artifacts["TestToken"], "Test Token", "TST", sender=hub)
    manager = chain.deploy(artifacts["ChannelManager"], hub, CHALLENGE_PERIOD, token, sender=hub)
    for result in (
        chain.send(hub, manager, 10 * ETHER),
        chain.transact(token, "mint", manager, 1_000 * TOKEN, sender=hub),
        *(chain.transact(token, "mint", user, 100 * TOKEN, sender=hub) for user in (alice, bob)),
        *(
            chain.transact(token, "approve", manager, 2**256 - 1, sender=user)
            for user in (alice, bob)
        ),
    ):
        assert result.success, result.revert_text()
    return Deployed(
        chain,
        manager,
        token,
        Domain(chain.chain_id, manager.address),
        hub,
        alice,
        bob,
        chain.accounts[9],
    )
