"""Stale-state exits (docs/protocol.md §10.4): a party that holds the newest double-signed state (timeout 0)
and answers inside the challenge window leaves with at least its balance in that state,
whatever older state the counterparty exits with.

alice's channel holds ETH hub 1 / user 1 and TST hub 50 / user 100 (stored txCount (1, 1));
A is the acknowledged state (2, 1) with those balances."""

import pytest

from channel_manager import transitions
from channel_manager.contract_views import ChannelStatus
from tests.helpers import CHALLENGE_PERIOD, ETHER, TOKEN, event_args, reverts, set_next_timestamp


@pytest.fixture
def acknowledged(open_channel, alice):
    return open_channel(
        alice, user_wei=ETHER, user_token=100 * TOKEN, hub_wei=ETHER, hub_token=50 * TOKEN
    )


def _stale_exit(manager, how, stale, sign_both, cheater):
    """The cheater exits on the stored state or on an older double-signed state."""
    if how == "stored_state":
        return manager.startExit(stale.user, {"from": cheater})
    return manager.startExitWithUpdate(stale.to_tuple(), *sign_both(stale), {"from": cheater})


@pytest.mark.parametrize("how", ["stored_state", "older_signed_state"])
def test_hub_exit_on_stale_state_answered_by_user(
    funded, token, acknowledged, sign_both, read_channel, hub, alice, how
):
    # after A the hub paid alice 0.5 ETH and 20 TST in two more states
    newest = transitions.pay(
        transitions.pay(acknowledged, to_hub=False, wei=ETHER // 2), to_hub=False, token=20 * TOKEN
    )
    assert newest.wei_balances == (ETHER // 2, 3 * ETHER // 2)
    closing = _stale_exit(funded, how, acknowledged, sign_both, hub).timestamp + CHALLENGE_PERIOD
    alice_eth, alice_tokens = alice.balance(), token.balanceOf(alice)
    set_next_timestamp(closing - 1)  # the last second of the window

    tx = funded.emptyChannelWithChallenge(newest.to_tuple(), *sign_both(newest), {"from": alice})

    assert tx.timestamp == closing - 1
    assert alice.balance() == alice_eth + 3 * ETHER // 2 - tx.gas_used * tx.gas_price
    assert token.balanceOf(alice) == alice_tokens + 120 * TOKEN
    assert event_args(tx, "DidEmptyChannel")["weiBalances"] == newest.wei_balances
    channel = read_channel(alice)
    assert (channel["status"], channel["weiTotal"], channel["tokenTotal"]) == (
        ChannelStatus.OPEN,
        0,
        0,
    )
    assert channel["txCountGlobal"] == newest.tx_count[0]


@pytest.mark.parametrize("how", ["stored_state", "older_signed_state"])
def test_user_exit_on_stale_state_answered_by_hub(
    funded, acknowledged, sign_both, read_globals, hub, alice, how
):
    # after A alice paid the hub 0.4 ETH and 30 TST
    newest = transitions.pay(acknowledged, to_hub=True, wei=4 * ETHER // 10, token=30 * TOKEN)
    _stale_exit(funded, how, acknowledged, sign_both, alice)
    globals_before = read_globals()
    alice_eth = alice.balance()

    tx = funded.emptyChannelWithChallenge(newest.to_tuple(), *sign_both(newest), {"from": hub})

    # the hub's balance in the newest state returns to its reserve; alice gets only hers
    globals_after = read_globals()
    assert globals_after["reserveWei"] == globals_before["reserveWei"] + 14 * ETHER // 10
    assert globals_after["reserveTokens"] == globals_before["reserveTokens"] + 80 * TOKEN
    assert alice.balance() == alice_eth + 6 * ETHER // 10
    assert event_args(tx, "DidEmptyChannel")["weiBalances"] == (14 * ETHER // 10, 6 * ETHER // 10)


def test_stale_exit_with_unexecuted_withdrawal_answered_by_newer_state(
    funded, acknowledged, sign_both, read_channel, hub, alice
):
    """The hub exits on a withdrawal proposal it never executed (revert rule: alice's 0.5 ETH is
    restored); alice answers with the later state where the hub paid her — she gets it all."""
    proposal = transitions.propose_withdrawal(
        acknowledged, user_wei=ETHER // 2
    )  # (3, 2), never executed
    voided = transitions.void_pending(proposal)  # (4, 3): alice's 1 ETH restored
    newest = transitions.pay(voided, to_hub=False, wei=ETHER // 4)  # (5, 3)
    funded.startExitWithUpdate(proposal.to_tuple(), *sign_both(proposal), {"from": hub})
    assert read_channel(alice)["weiUser"] == ETHER  # reverted: the withdrawal was restored
    alice_eth = alice.balance()

    funded.emptyChannelWithChallenge(newest.to_tuple(), *sign_both(newest), {"from": alice})

    assert alice.balance() == alice_eth + 5 * ETHER // 4


def test_cheater_cannot_answer_back_with_an_older_state(
    funded, acknowledged, sign_both, hub, alice
):
    newest = transitions.pay(acknowledged, to_hub=False, wei=ETHER // 2)
    funded.startExit(alice, {"from": hub})
    funded.emptyChannelWithChallenge(newest.to_tuple(), *sign_both(newest), {"from": alice})

    # the channel is settled and reopened; the older state is now stale for good
    with reverts("StaleTxCount", acknowledged.tx_count[0], newest.tx_count[0]):
        funded.startExitWithUpdate(acknowledged.to_tuple(), *sign_both(acknowledged), {"from": hub})


def test_stale_exit_started_with_newer_state_cannot_be_answered_with_older(
    funded, acknowledged, sign_both, hub, alice
):
    """The honest party exits first with the newest state: the cheater's older state is refused."""
    newest = transitions.pay(acknowledged, to_hub=False, wei=ETHER // 2)
    funded.startExitWithUpdate(newest.to_tuple(), *sign_both(newest), {"from": alice})

    with reverts("StaleTxCount", acknowledged.tx_count[0], newest.tx_count[0]):
        funded.emptyChannelWithChallenge(
            acknowledged.to_tuple(), *sign_both(acknowledged), {"from": hub}
        )
