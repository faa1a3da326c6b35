"""Replays (docs/protocol.md §4, §10.3, §10.7): executed pending updates never execute again, whatever the
global nonce; a state signed for another contract or another chain is refused everywhere.

alice's default channel is opened by the deposit proposal P (txCount (1, 1): user 1 ETH and
100 TST, hub 50 TST)."""

import pytest
from brownie import ChannelManager, RejectingRecipient, chain

from channel_manager import transitions
from channel_manager.eip712 import Domain
from channel_manager.states import ChannelState
from tests.helpers import CHALLENGE_PERIOD, ETHER, TOKEN, Signer, reverts


@pytest.fixture
def deposit_proposal(alice):
    """The proposal `open_channel(alice)` executes (the same function builds it)."""
    return transitions.propose_deposit(
        ChannelState(alice.address, alice.address),
        user_wei=ETHER,
        user_token=100 * TOKEN,
        hub_token=50 * TOKEN,
    )


@pytest.fixture
def second_manager(funded, hub, alice, token):
    """A second deployment with the same hub, token and challenge period, with a reserve;
    alice approves it too."""
    other = ChannelManager.deploy(hub, CHALLENGE_PERIOD, token, {"from": hub})
    hub.transfer(other, 10 * ETHER)
    token.transfer(other, 1_000 * TOKEN, {"from": hub})
    token.approve(other, 2**256 - 1, {"from": alice})
    return other


@pytest.fixture
def other_chain_signer(key_signer):
    return Signer(Domain(chain.id + 1, key_signer.domain.verifying_contract), key_signer.keys)


def snapshot(manager, read_channel, read_globals, user):
    return read_channel(user, manager), read_globals(manager)


# ------------------------------------------------------------------------------------ pending replay


@pytest.mark.parametrize("path", ["user_authorized", "hub_authorized"])
@pytest.mark.parametrize("global_count", [2, 3, 100])
def test_executed_deposit_replayed_at_higher_global_nonce_is_refused(
    funded,
    open_channel,
    deposit_proposal,
    key_signer,
    read_channel,
    read_globals,
    hub,
    alice,
    path,
    global_count,
):
    acknowledged = open_channel(alice)
    assert transitions.acknowledge(deposit_proposal) == acknowledged
    # the same pending deposit, re-signed with a higher global count and the same onchain count
    replay = deposit_proposal.evolve(tx_count=(global_count, 1))
    before = snapshot(funded, read_channel, read_globals, alice)

    with reverts("PendingAlreadyExecuted", 1, 1):
        if path == "user_authorized":
            funded.userAuthorizedUpdate(
                replay.to_tuple(), key_signer.channel(replay, hub), {"from": alice, "value": ETHER}
            )
        else:
            funded.hubAuthorizedUpdate(
                replay.to_tuple(), key_signer.channel(replay, alice), {"from": hub}
            )

    assert snapshot(funded, read_channel, read_globals, alice) == before


def test_executed_withdrawal_replayed_at_higher_global_nonce_is_refused(
    funded, open_channel, key_signer, read_channel, read_globals, hub, alice, bob
):
    acknowledged = open_channel(alice)
    withdrawal = transitions.propose_withdrawal(
        acknowledged, user_wei=ETHER // 2, recipient=bob.address
    )
    funded.hubAuthorizedUpdate(
        withdrawal.to_tuple(), key_signer.channel(withdrawal, alice), {"from": hub}
    )
    replay = withdrawal.evolve(tx_count=(withdrawal.tx_count[0] + 1, withdrawal.tx_count[1]))
    before, bob_eth = snapshot(funded, read_channel, read_globals, alice), bob.balance()

    with reverts("PendingAlreadyExecuted", 2, 2):
        funded.hubAuthorizedUpdate(
            replay.to_tuple(), key_signer.channel(replay, alice), {"from": hub}
        )

    assert snapshot(funded, read_channel, read_globals, alice) == before
    assert bob.balance() == bob_eth


def test_executed_state_replayed_unchanged_is_refused(
    funded, open_channel, deposit_proposal, key_signer, hub, alice
):
    open_channel(alice)

    with reverts("StaleTxCount", 1, 1):
        funded.userAuthorizedUpdate(
            deposit_proposal.to_tuple(),
            key_signer.channel(deposit_proposal, hub),
            {"from": alice, "value": ETHER},
        )


# ------------------------------------------------------------------------------------ other contract


def test_state_signed_for_another_contract_is_refused_by_authorized_updates(
    funded, second_manager, deposit_proposal, key_signer, read_channel, hub, alice
):
    """Signatures made for `funded` do not work on a second deployment of the same code, hub
    and token (and the same proposal signed for the second one does: only the domain differs)."""
    state = deposit_proposal
    with reverts("InvalidHubSignature"):
        second_manager.userAuthorizedUpdate(
            state.to_tuple(), key_signer.channel(state, hub), {"from": alice, "value": ETHER}
        )
    with reverts("InvalidUserSignature", alice):
        second_manager.hubAuthorizedUpdate(
            state.to_tuple(), key_signer.channel(state, alice), {"from": hub}
        )

    own = Signer(Domain(chain.id, second_manager.address), key_signer.keys)
    second_manager.userAuthorizedUpdate(
        state.to_tuple(), own.channel(state, hub), {"from": alice, "value": ETHER}
    )
    assert read_channel(alice, second_manager)["weiUser"] == ETHER


def test_state_signed_for_another_contract_is_refused_in_disputes(
    funded, second_manager, deposit_proposal, open_channel, key_signer, hub, alice
):
    acknowledged = open_channel(alice)  # on `funded`
    own = Signer(Domain(chain.id, second_manager.address), key_signer.keys)
    second_manager.userAuthorizedUpdate(
        deposit_proposal.to_tuple(),
        own.channel(deposit_proposal, hub),
        {"from": alice, "value": ETHER},
    )
    # the acknowledged state is valid for both channels, but signed for `funded` only
    sig_hub, sig_user = key_signer.both(acknowledged, hub)

    with reverts("InvalidHubSignature"):
        second_manager.startExitWithUpdate(
            acknowledged.to_tuple(), sig_hub, sig_user, {"from": alice}
        )
    with reverts("InvalidUserSignature", alice):
        second_manager.startExitWithUpdate(
            acknowledged.to_tuple(), own.channel(acknowledged, hub), sig_user, {"from": hub}
        )

    second_manager.startExit(alice, {"from": hub})
    with reverts("InvalidHubSignature"):
        second_manager.emptyChannelWithChallenge(
            acknowledged.to_tuple(), sig_hub, sig_user, {"from": alice}
        )


def test_contract_user_signature_for_another_contract_is_refused(
    funded, second_manager, contract_user, key_signer, hub, alice
):
    """ERC-1271 users too: their signature covers the domain."""
    wallet = contract_user(RejectingRecipient, manager=second_manager)
    state = transitions.propose_deposit(ChannelState(wallet.address, wallet.address), hub_wei=ETHER)

    with reverts("InvalidUserSignature", wallet):
        second_manager.hubAuthorizedUpdate(
            state.to_tuple(), key_signer.channel(state, wallet), {"from": hub}
        )


# ------------------------------------------------------------------------------------ other chain


def test_state_signed_for_another_chain_is_refused_by_authorized_updates(
    funded, deposit_proposal, other_chain_signer, hub, alice
):
    state = deposit_proposal

    with reverts("InvalidHubSignature"):
        funded.userAuthorizedUpdate(
            state.to_tuple(),
            other_chain_signer.channel(state, hub),
            {"from": alice, "value": ETHER},
        )
    with reverts("InvalidUserSignature", alice):
        funded.hubAuthorizedUpdate(
            state.to_tuple(), other_chain_signer.channel(state, alice), {"from": hub}
        )


def test_state_signed_for_another_chain_is_refused_in_disputes(
    funded, open_channel, key_signer, other_chain_signer, hub, alice
):
    acknowledged = open_channel(alice)

    with reverts("InvalidHubSignature"):
        funded.startExitWithUpdate(
            acknowledged.to_tuple(), *other_chain_signer.both(acknowledged, hub), {"from": alice}
        )
    with reverts("InvalidUserSignature", alice):
        funded.startExitWithUpdate(
            acknowledged.to_tuple(),
            key_signer.channel(acknowledged, hub),
            other_chain_signer.channel(acknowledged, alice),
            {"from": hub},
        )

    funded.startExit(alice, {"from": hub})
    with reverts("InvalidHubSignature"):
        funded.emptyChannelWithChallenge(
            acknowledged.to_tuple(), *other_chain_signer.both(acknowledged, hub), {"from": alice}
        )
