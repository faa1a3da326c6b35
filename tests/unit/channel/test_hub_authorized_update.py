"""hubAuthorizedUpdate (docs/protocol.md §4, §5): the hub executes a user-signed state's pending updates;
both deposits come from the hub reserve, user withdrawals go to the state's recipient and hub
withdrawals return to the reserve."""

from __future__ import annotations

import pytest
from brownie import accounts
from brownie import reverts as brownie_reverts

from channel_manager import transitions
from channel_manager.contract_views import ChannelStatus, channel_details
from channel_manager.states import ChannelState
from tests.fixtures.authorized_updates import (
    HUB_TOKEN,
    HUB_WEI,
    USER_TOKEN,
    USER_WEI,
    WEI_UNIT,
    submit_by_hub,
)
from tests.fixtures.channels import assert_update_event, tx_counts
from tests.helpers import ETHER, TOKEN, fee_of, reverts

# ---------------------------------------------------------------------------- success paths


def test_hubAuthorizedUpdate_state(funded, hub, alice, carol, submit_mixed_update):
    state, tx, before, after = submit_mixed_update(submit_by_hub, bytes.fromhex("ab" * 32), 2)

    # Both deposits leave the reserve, the hub's withdrawal returns to it.
    assert after.reserve_wei == before.reserve_wei - 5 * WEI_UNIT - 1 * WEI_UNIT + 2 * WEI_UNIT
    assert after.reserve_token == before.reserve_token - 10 * TOKEN - 50 * TOKEN + 30 * TOKEN
    # Only the user's withdrawals leave the contract, to the recipient (not the user).
    assert after.eth[str(funded)] == before.eth[str(funded)] - 4 * WEI_UNIT
    assert after.tokens[str(funded)] == before.tokens[str(funded)] - 20 * TOKEN
    assert after.eth[str(carol)] == before.eth[str(carol)] + 4 * WEI_UNIT
    assert after.tokens[str(carol)] == before.tokens[str(carol)] + 20 * TOKEN
    assert after.eth[str(alice)] == before.eth[str(alice)]
    assert after.tokens[str(alice)] == before.tokens[str(alice)]
    assert after.eth[str(hub)] == before.eth[str(hub)] - fee_of(tx)
    assert after.tokens[str(hub)] == before.tokens[str(hub)]
    assert_update_event(tx, state, hub)


def test_hubAuthorizedUpdate_accepts_a_state_without_pending_at_the_same_onchain_count(
    funded, token, signer, alice, opened, observe
):
    state = transitions.pay(opened, to_hub=True, wei=WEI_UNIT, token=5 * TOKEN)  # txCount [3, 1]
    before = observe(funded, token, alice)

    submit_by_hub(funded, signer, state)

    after = observe(funded, token, alice)
    assert after.balances == (
        HUB_WEI + WEI_UNIT,
        USER_WEI - WEI_UNIT,
        3 * ETHER,
        HUB_TOKEN + 5 * TOKEN,
        USER_TOKEN - 5 * TOKEN,
        300 * TOKEN,
    )
    assert (after.details.tx_count_global, after.details.tx_count_chain) == (3, 1)
    assert (after.total_wei, after.total_token, after.reserve_wei, after.reserve_token) == (
        before.total_wei,
        before.total_token,
        before.reserve_wei,
        before.reserve_token,
    )


def test_hubAuthorizedUpdate_accepts_deposits_equal_to_the_reserve(funded, signer, bob, new_state):
    reserve_wei, reserve_token = funded.getHubReserveWei(), funded.getHubReserveTokens()
    state = new_state(
        bob,
        pending_wei_updates=(reserve_wei - 1, 0, 1, 0),
        pending_token_updates=(0, 0, reserve_token, 0),
        tx_count=(1, 1),
    )

    submit_by_hub(funded, signer, state)

    assert (funded.getHubReserveWei(), funded.getHubReserveTokens()) == (0, 0)
    assert tuple(funded.getChannelBalances(bob)) == (
        reserve_wei - 1,
        1,
        reserve_wei,
        0,
        reserve_token,
        reserve_token,
    )


def test_hubAuthorizedUpdate_accepts_the_largest_storable_tx_count(funded, signer, alice, opened):
    state = opened.evolve(tx_count=(2**64 - 1, 1))

    submit_by_hub(funded, signer, state)

    assert tx_counts(channel_details(funded, str(alice))) == (2**64 - 1, 1)


def test_hubAuthorizedUpdate_pays_recipient_in_a_token_that_returns_nothing(
    no_return_env, hub, alice, carol
):
    manager, token, signer = no_return_env.manager, no_return_env.token, no_return_env.signer
    deposit = ChannelState(
        str(alice), str(alice), pending_token_updates=(0, 0, 100 * TOKEN, 0), tx_count=(1, 1)
    )
    manager.hubAuthorizedUpdate(deposit.to_tuple(), signer.channel(deposit, alice), {"from": hub})
    withdrawal = transitions.propose_withdrawal(
        transitions.acknowledge(deposit), user_token=40 * TOKEN, recipient=str(carol)
    )

    manager.hubAuthorizedUpdate(
        withdrawal.to_tuple(), signer.channel(withdrawal, alice), {"from": hub}
    )

    assert token.balanceOf(carol) == 40 * TOKEN
    assert tuple(manager.getChannelBalances(alice)) == (0, 0, 0, 0, 60 * TOKEN, 60 * TOKEN)
    assert manager.getHubReserveTokens() == 10_000 * TOKEN - 100 * TOKEN


# ---------------------------------------------------------------------------- caller and user


@pytest.mark.parametrize("caller_index", [1, 9], ids=["user", "stranger"])
def test_hubAuthorizedUpdate_reverts_when_caller_is_not_hub(funded, signer, proposal, caller_index):
    caller = accounts[caller_index]
    with reverts("NotHub", caller):
        funded.hubAuthorizedUpdate(
            proposal.to_tuple(), signer.channel(proposal, proposal.user), {"from": caller}
        )


def test_hubAuthorizedUpdate_reverts_when_user_is_invalid(funded, hub, invalid_user):
    state = ChannelState(
        invalid_user, invalid_user, pending_wei_updates=(1, 0, 0, 0), tx_count=(1, 1)
    )
    with reverts("InvalidUser", invalid_user):
        funded.hubAuthorizedUpdate(state.to_tuple(), b"\x01" * 65, {"from": hub})


def test_hubAuthorizedUpdate_reverts_when_value_is_sent(funded, signer, hub, proposal):
    with brownie_reverts():
        funded.hubAuthorizedUpdate(
            proposal.to_tuple(), signer.channel(proposal, proposal.user), {"from": hub, "value": 1}
        )


# ---------------------------------------------------------------------------- status and time


def test_hubAuthorizedUpdate_reverts_when_channel_is_in_thread_dispute(
    funded, signer, hub, alice, opened
):
    with_thread = opened.evolve(tx_count=(3, 1), thread_root=b"\x11" * 32, thread_count=1)
    submit_by_hub(funded, signer, with_thread)
    funded.startExit(alice, {"from": alice})
    funded.emptyChannel(alice, {"from": hub})
    assert channel_details(funded, str(alice)).status == ChannelStatus.THREAD_DISPUTE
    later = with_thread.evolve(tx_count=(4, 1))

    with reverts("WrongChannelStatus", alice, ChannelStatus.THREAD_DISPUTE):
        submit_by_hub(funded, signer, later)


# ---------------------------------------------------------------------------- txCount rules


def test_hubAuthorizedUpdate_reverts_when_executed_pending_is_replayed_at_higher_nonce(
    funded, signer, alice, proposal
):
    """The v1 double-deposit: a later state legitimately carries the same pending fields and
    txCount[1] until acknowledged (docs/protocol.md §4); submitting it after execution must not re-execute."""
    submit_by_hub(funded, signer, proposal)
    balances, reserve = tuple(funded.getChannelBalances(alice)), funded.getHubReserveWei()
    carried = transitions.pay(proposal, to_hub=True, wei=1)  # txCount [4, 2], same pending

    with reverts("PendingAlreadyExecuted", 2, 2):
        submit_by_hub(funded, signer, carried)
    assert tuple(funded.getChannelBalances(alice)) == balances
    assert funded.getHubReserveWei() == reserve


# ---------------------------------------------------------------------------- balances and funds


@pytest.mark.parametrize("asset", ["eth", "token"])
def test_hubAuthorizedUpdate_reverts_when_deposits_exceed_reserve(
    funded, signer, bob, new_state, asset
):
    reserve = 100 * ETHER if asset == "eth" else 10_000 * TOKEN
    pending = (reserve // 2, 0, reserve // 2 + 1, 0)  # each alone fits; together they do not
    field = "pending_wei_updates" if asset == "eth" else "pending_token_updates"
    state = new_state(bob, tx_count=(1, 1), **{field: pending})

    with reverts("InsufficientReserve", reserve + 1, reserve):
        submit_by_hub(funded, signer, state)


@pytest.mark.parametrize("asset", ["eth", "token"])
def test_hubAuthorizedUpdate_reverts_when_reserve_is_counted_net_of_hub_withdrawal(
    funded, signer, hub, opened, asset
):
    """Gross: a hub deposit must be covered by the reserve even if the hub withdraws as much."""
    funded.hubContractWithdraw(
        funded.getHubReserveWei(), funded.getHubReserveTokens(), {"from": hub}
    )
    amount = HUB_WEI if asset == "eth" else HUB_TOKEN
    field = "pending_wei_updates" if asset == "eth" else "pending_token_updates"
    state = opened.evolve(tx_count=(3, 2), **{field: (amount, amount, 0, 0)})

    with reverts("InsufficientReserve", amount, 0):
        submit_by_hub(funded, signer, state)


# ---------------------------------------------------------------------------- signatures


# ---------------------------------------------------------------------------- contract-wallet user


@pytest.fixture
def wallet_deposit(wallet) -> ChannelState:
    return ChannelState(
        wallet.address,
        wallet.address,
        pending_wei_updates=(0, 0, ETHER, 0),
        pending_token_updates=(5 * TOKEN, 0, 0, 0),
        tx_count=(1, 1),
    )


def test_hubAuthorizedUpdate_accepts_erc1271_signature_of_contract_user(
    funded, signer, hub, alice, wallet, wallet_deposit
):
    tx = funded.hubAuthorizedUpdate(
        wallet_deposit.to_tuple(), signer.channel(wallet_deposit, alice), {"from": hub}
    )

    assert tuple(funded.getChannelBalances(wallet)) == (0, ETHER, ETHER, 5 * TOKEN, 0, 5 * TOKEN)
    assert_update_event(tx, wallet_deposit, hub)


@pytest.mark.parametrize("length", [0, 3, 64, 100])
def test_hubAuthorizedUpdate_passes_contract_user_signature_of_any_length(
    funded, hub, alice, wallet, wallet_deposit, length
):
    sig = bytes(range(length))
    wallet.approveSignature(
        funded.channelStateDigest(wallet_deposit.to_tuple()), sig, {"from": alice}
    )

    funded.hubAuthorizedUpdate(wallet_deposit.to_tuple(), sig, {"from": hub})

    assert tx_counts(channel_details(funded, str(wallet))) == (1, 1)


def test_hubAuthorizedUpdate_reverts_when_contract_user_rejects_signature(
    funded, signer, hub, alice, wallet, wallet_deposit
):
    wallet.setRejectSignatures(True, {"from": alice})
    with reverts("InvalidUserSignature", wallet):
        funded.hubAuthorizedUpdate(
            wallet_deposit.to_tuple(), signer.channel(wallet_deposit, alice), {"from": hub}
        )


def test_hubAuthorizedUpdate_reverts_when_contract_user_signature_is_by_another_key(
    funded, signer, hub, bob, wallet, wallet_deposit
):
    with reverts("InvalidUserSignature", wallet):
        funded.hubAuthorizedUpdate(
            wallet_deposit.to_tuple(), signer.channel(wallet_deposit, bob), {"from": hub}
        )


def test_hubAuthorizedUpdate_reverts_when_unapproved_odd_length_signature_for_contract_user(
    funded, hub, wallet, wallet_deposit
):
    with reverts("InvalidUserSignature", wallet):
        funded.hubAuthorizedUpdate(wallet_deposit.to_tuple(), bytes(range(100)), {"from": hub})
