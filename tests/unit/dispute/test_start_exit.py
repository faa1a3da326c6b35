"""startExit(user) — docs/protocol.md §6: by hub or user, on an Open channel of a valid user; starts a
dispute on the stored state. Nothing but exitInitiator, channelClosingTime and status changes."""

import pytest

from channel_manager.contract_views import ChannelStatus
from tests.fixtures.channels import OPENED, assert_only_exit_event, stored_channel
from tests.helpers import CHALLENGE_PERIOD, ZERO_ROOT, event_args, reverts


@pytest.mark.parametrize("initiator", ["hub", "user"])
def test_startExit_state(funded, open_channel, read_channel, watch_money, hub, alice, initiator):
    open_channel(alice)
    caller = hub if initiator == "hub" else alice
    before = read_channel(alice)
    only_gas_spent = watch_money(hub, alice)

    tx = funded.startExit(alice, {"from": caller})

    closing = tx.timestamp + CHALLENGE_PERIOD
    after = read_channel(alice)
    assert after == {
        **before,
        "exitInitiator": str(caller),
        "channelClosingTime": closing,
        "status": ChannelStatus.CHANNEL_DISPUTE,
    }
    # the balances and counts are the stored ones, untouched
    assert after["weiHub"] == OPENED.wei_hub and after["weiUser"] == OPENED.wei_user
    assert after["weiTotal"] == OPENED.wei_total and after["tokenTotal"] == OPENED.token_total
    assert after["tokenHub"] == OPENED.token_hub and after["tokenUser"] == OPENED.token_user
    assert (after["txCountGlobal"], after["txCountChain"]) == OPENED.tx_count
    # no money moves: totals, reserve, contract holdings and the parties' balances unchanged
    only_gas_spent(tx, caller)

    assert_only_exit_event(
        tx,
        alice,
        caller,
        {
            "weiBalances": (OPENED.wei_hub, OPENED.wei_user),
            "tokenBalances": (OPENED.token_hub, OPENED.token_user),
            "txCount": OPENED.tx_count,
            "threadRoot": ZERO_ROOT,
            "threadCount": 0,
            "channelClosingTime": closing,
        },
    )


def test_startExit_on_unused_channel_runs_on_zero_state(funded, read_channel, hub, bob):
    """Every channel is open from deployment (docs/protocol.md §1): a never-used one can be disputed."""
    tx = funded.startExit(bob, {"from": bob})

    assert read_channel(bob) == stored_channel(
        exitInitiator=str(bob),
        channelClosingTime=tx.timestamp + CHALLENGE_PERIOD,
        status=ChannelStatus.CHANNEL_DISPUTE,
    )
    assert event_args(tx, "DidStartExitChannel")["caller"] == bob.address


def test_startExit_leaves_other_channels_alone(funded, open_channel, read_channel, hub, alice, bob):
    open_channel(alice)
    open_channel(bob)
    bob_before = read_channel(bob)

    funded.startExit(alice, {"from": hub})

    assert read_channel(bob) == bob_before
    assert bob_before["status"] == ChannelStatus.OPEN


@pytest.mark.parametrize("caller_name", ["stranger", "bob"], ids=["stranger", "other_user"])
def test_startExit_reverts_when_caller_is_not_hub_or_user(
    funded, open_channel, alice, bob, stranger, caller_name
):
    open_channel(alice)
    caller = {"stranger": stranger, "bob": bob}[caller_name]

    with reverts("NotHubOrUser", caller, alice):
        funded.startExit(alice, {"from": caller})


def test_startExit_reverts_when_user_is_invalid(funded, hub, invalid_user):
    with reverts("InvalidUser", invalid_user):
        funded.startExit(invalid_user, {"from": hub})


def test_startExit_reverts_when_channel_in_channel_dispute(funded, open_channel, hub, alice):
    open_channel(alice)
    funded.startExit(alice, {"from": hub})

    with reverts("WrongChannelStatus", alice, ChannelStatus.CHANNEL_DISPUTE):
        funded.startExit(alice, {"from": alice})


def test_startExit_reverts_when_channel_in_thread_dispute(
    funded, open_channel, put_in_thread_dispute, read_channel, hub, alice
):
    open_channel(alice)
    put_in_thread_dispute(alice)
    assert read_channel(alice)["status"] == ChannelStatus.THREAD_DISPUTE

    with reverts("WrongChannelStatus", alice, ChannelStatus.THREAD_DISPUTE):
        funded.startExit(alice, {"from": hub})
