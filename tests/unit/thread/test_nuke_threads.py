"""nukeThreads (docs/protocol.md §8): anyone, once
`block.timestamp >= channelClosingTime + 10 × challengePeriod`, pays whatever a ThreadDispute
channel still holds to its user and reopens it with no threads; thread records stay, so the other
party's channel can still settle its side."""

from __future__ import annotations

import pytest

from channel_manager.contract_views import ChannelStatus, channel_details
from tests.fixtures.channels import dispute_fields, tx_counts
from tests.fixtures.threads import RECEIVER_DEPOSIT, SENDER_DEPOSIT, THREAD_TOKEN, THREAD_WEI
from tests.helpers import (
    CHALLENGE_PERIOD,
    ZERO_ADDRESS,
    ZERO_ROOT,
    event_args,
    fee_of,
    plain,
    reverts,
    set_next_timestamp,
)

NUKE_DELAY = 10 * CHALLENGE_PERIOD


def test_nukeThreads_state(sender_disputed, alice, bob, stranger):
    w = sender_disputed.world
    nuke_time = sender_disputed.sender_closing + NUKE_DELAY
    before = w.snapshot(alice, bob)
    set_next_timestamp(nuke_time)

    tx = w.manager.nukeThreads(alice, {"from": stranger})

    after = w.snapshot(alice, bob)
    assert tx.timestamp == nuke_time
    assert after.eth[str(alice)] == before.eth[str(alice)] + THREAD_WEI
    assert after.tokens[str(alice)] == before.tokens[str(alice)] + THREAD_TOKEN
    assert after.manager_eth == before.manager_eth - THREAD_WEI
    assert after.manager_token == before.manager_token - THREAD_TOKEN
    assert before.balances[str(alice)] == (0, 0, THREAD_WEI, 0, 0, THREAD_TOKEN)
    assert after.balances[str(alice)] == (0, 0, 0, 0, 0, 0)
    assert after.total_wei == before.total_wei - THREAD_WEI
    assert after.total_token == before.total_token - THREAD_TOKEN
    assert (after.reserve_wei, after.reserve_token) == (before.reserve_wei, before.reserve_token)
    assert tx_counts(after.details[str(alice)]) == tx_counts(before.details[str(alice)])
    assert dispute_fields(after.details[str(alice)]) == (
        ZERO_ROOT,
        0,
        ZERO_ADDRESS,
        0,
        ChannelStatus.OPEN,
    )
    assert after.balances[str(bob)] == before.balances[str(bob)]
    assert event_args(tx, "DidNukeThreads") == plain(
        {
            "user": alice,
            "caller": stranger,
            "weiAmount": THREAD_WEI,
            "tokenAmount": THREAD_TOKEN,
        }
    )


def test_nukeThreads_reverts_when_one_second_early(sender_disputed, alice, stranger):
    w = sender_disputed.world
    nuke_time = sender_disputed.sender_closing + NUKE_DELAY
    set_next_timestamp(nuke_time - 1)
    with reverts("NukeTooEarly", nuke_time, nuke_time - 1):
        w.manager.nukeThreads(alice, {"from": stranger})


def test_nukeThreads_accepts_one_second_late(sender_disputed, alice, hub):
    w = sender_disputed.world
    set_next_timestamp(sender_disputed.sender_closing + NUKE_DELAY + 1)

    tx = w.manager.nukeThreads(alice, {"from": hub})

    assert channel_details(w.manager, str(alice)).status == ChannelStatus.OPEN
    assert event_args(tx, "DidNukeThreads")["caller"] == plain(hub)


def test_nukeThreads_pays_receiver_the_hub_collateral(both_disputed, bob, stranger):
    """In a receiver's channel the locked amount is the hub's collateral: a hub that does not
    settle within 10 periods loses it to the receiver."""
    w = both_disputed.world
    before = w.snapshot(bob)
    set_next_timestamp(both_disputed.receiver_closing + NUKE_DELAY)

    w.manager.nukeThreads(bob, {"from": stranger})

    after = w.snapshot(bob)
    assert after.eth[str(bob)] == before.eth[str(bob)] + THREAD_WEI
    assert after.tokens[str(bob)] == before.tokens[str(bob)] + THREAD_TOKEN
    assert after.balances[str(bob)] == (0, 0, 0, 0, 0, 0)


def test_nukeThreads_frees_what_remains_after_partial_settlement(
    world, alice, bob, carol, stranger
):
    """alice's channel holds threads to bob and carol; the thread to bob is settled, the one to
    carol never disputed: the nuke pays alice exactly carol's thread amount."""
    world.open_channel(alice, **SENDER_DEPOSIT)
    world.open_channel(bob, **RECEIVER_DEPOSIT)
    world.open_channel(carol, **RECEIVER_DEPOSIT)
    to_bob = world.open_thread(alice, bob, 1)
    world.open_thread(alice, carol, 1, wei=2 * THREAD_WEI, token=THREAD_TOKEN // 2)
    channel_closing = world.dispute(alice)
    world.exit_thread(alice, to_bob)
    world.empty(alice, to_bob, at=world.thread_closing(to_bob))
    before = world.snapshot(alice)
    set_next_timestamp(channel_closing + NUKE_DELAY)

    tx = world.manager.nukeThreads(alice, {"from": stranger})

    after = world.snapshot(alice)
    assert before.balances[str(alice)] == (0, 0, 2 * THREAD_WEI, 0, 0, THREAD_TOKEN // 2)
    assert after.eth[str(alice)] == before.eth[str(alice)] + 2 * THREAD_WEI
    assert after.tokens[str(alice)] == before.tokens[str(alice)] + THREAD_TOKEN // 2
    assert after.balances[str(alice)] == (0, 0, 0, 0, 0, 0)
    assert dispute_fields(after.details[str(alice)]) == (
        ZERO_ROOT,
        0,
        ZERO_ADDRESS,
        0,
        ChannelStatus.OPEN,
    )
    assert event_args(tx, "DidNukeThreads")["weiAmount"] == 2 * THREAD_WEI


def test_nukeThreads_keeps_thread_records_for_the_other_channel(
    thread_exited, alice, bob, stranger
):
    """After alice's channel is nuked, bob still settles his side of the disputed thread."""
    w, initial = thread_exited.world, thread_exited.initial
    w.challenge(w.pay(initial, times=2), bob)
    record = w.thread(initial)
    set_next_timestamp(thread_exited.sender_closing + NUKE_DELAY)
    w.manager.nukeThreads(alice, {"from": stranger})
    assert w.thread(initial) == record
    before = w.snapshot(bob)

    tx = w.empty(bob, initial)

    after = w.snapshot(bob)
    assert after.eth[str(bob)] == before.eth[str(bob)] + record["weiBalances"][1] - fee_of(tx)
    assert w.thread(initial)["emptied"] == [False, True]


def test_nukeThreads_reverts_when_channel_open(opened, alice, stranger):
    with reverts("WrongChannelStatus", alice, ChannelStatus.OPEN):
        opened.world.manager.nukeThreads(alice, {"from": stranger})


def test_nukeThreads_reverts_when_channel_in_channel_dispute(opened, alice, hub, stranger):
    w = opened.world
    state = w.channel(alice).state
    tx = w.manager.startExitWithUpdate(
        state.to_tuple(), *w.signer.both(state, hub), {"from": alice}
    )
    set_next_timestamp(int(tx.events["DidStartExitChannel"]["channelClosingTime"]) + NUKE_DELAY)
    with reverts("WrongChannelStatus", alice, ChannelStatus.CHANNEL_DISPUTE):
        w.manager.nukeThreads(alice, {"from": stranger})


def test_nukeThreads_reverts_when_last_thread_emptied(thread_exited, alice, stranger):
    """Settling the last thread reopened the channel: nothing is left to nuke."""
    w, initial = thread_exited.world, thread_exited.initial
    w.empty(alice, initial, at=thread_exited.thread_closing)
    set_next_timestamp(thread_exited.sender_closing + NUKE_DELAY)
    with reverts("WrongChannelStatus", alice, ChannelStatus.OPEN):
        w.manager.nukeThreads(alice, {"from": stranger})


def test_nukeThreads_reverts_when_already_nuked(sender_disputed, alice, stranger):
    w = sender_disputed.world
    set_next_timestamp(sender_disputed.sender_closing + NUKE_DELAY)
    w.manager.nukeThreads(alice, {"from": stranger})
    with reverts("WrongChannelStatus", alice, ChannelStatus.OPEN):
        w.manager.nukeThreads(alice, {"from": stranger})


@pytest.mark.parametrize("who", ["hub", "zero", "manager"])
def test_nukeThreads_reverts_when_user_is_invalid(sender_disputed, hub, stranger, who):
    w = sender_disputed.world
    user = {"hub": str(hub), "zero": ZERO_ADDRESS, "manager": w.manager.address}[who]
    with reverts("InvalidUser", user):
        w.manager.nukeThreads(user, {"from": stranger})
