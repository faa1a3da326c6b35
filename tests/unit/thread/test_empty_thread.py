"""emptyThread (docs/protocol.md §8): once a thread's window closed, the hub or the user settles the user's
side of it in the user's channel: the thread's whole amount leaves that channel's total and the
global total, the user is paid its side (sender remainder or receiver share), the other side
returns to the hub reserve; at the channel's last thread the channel reopens."""

from __future__ import annotations

import pytest

from channel_manager.contract_views import ChannelStatus, channel_balances
from channel_manager.states import ThreadState
from tests.fixtures.channels import dispute_fields, tx_counts
from tests.fixtures.threads import (
    RECEIVER_DEPOSIT,
    SENDER_DEPOSIT,
    STEP_TOKEN,
    STEP_WEI,
    THREAD_TOKEN,
    THREAD_WEI,
)
from tests.helpers import (
    ZERO_ADDRESS,
    ZERO_ROOT,
    event_args,
    fee_of,
    plain,
    reverts,
    set_next_timestamp,
)

PAID_WEI, PAID_TOKEN = 3 * STEP_WEI, 3 * STEP_TOKEN  # the receiver's share after the challenge
LEFT_WEI, LEFT_TOKEN = THREAD_WEI - PAID_WEI, THREAD_TOKEN - PAID_TOKEN


@pytest.fixture
def settled(thread_exited, bob):
    """The thread dispute ran to its end with bob's newest state (txCount 3): 0.07/0.03 ETH,
    7/3 TST; the next block is at the thread closing time."""
    w = thread_exited.world
    w.challenge(w.pay(thread_exited.initial, times=3), bob)
    set_next_timestamp(thread_exited.thread_closing)
    return thread_exited


def assert_side_settled(before, after, tx, user, other, paid, returned) -> None:
    """`user`'s side of the thread was settled by `tx` (sent by `user`): it got `paid` (wei,
    token) out of the contract, `returned` went back to the reserve, the whole thread amount
    left its channel and the totals, the other channel is untouched, and the channel is
    Open again with no thread (the last one)."""
    assert after.eth[str(user)] == before.eth[str(user)] + paid[0] - fee_of(tx)
    assert after.tokens[str(user)] == before.tokens[str(user)] + paid[1]
    assert after.manager_eth == before.manager_eth - paid[0]
    assert after.manager_token == before.manager_token - paid[1]
    assert after.reserve_wei == before.reserve_wei + returned[0]
    assert after.reserve_token == before.reserve_token + returned[1]
    assert before.balances[str(user)] == (0, 0, THREAD_WEI, 0, 0, THREAD_TOKEN)
    assert after.balances[str(user)] == (0, 0, 0, 0, 0, 0)
    assert after.total_wei == before.total_wei - THREAD_WEI
    assert after.total_token == before.total_token - THREAD_TOKEN
    assert after.balances[str(other)] == before.balances[str(other)]
    assert dispute_fields(after.details[str(user)]) == (
        ZERO_ROOT,
        0,
        ZERO_ADDRESS,
        0,
        ChannelStatus.OPEN,
    )


def test_emptyThread_state_sender_side(settled, alice, bob, hub):
    w, initial = settled.world, settled.initial
    before = w.snapshot(alice, bob)

    tx = w.empty(alice, initial)

    after = w.snapshot(alice, bob)
    assert tx.timestamp == settled.thread_closing
    # the sender is paid its remainder; the receiver's share returns to the reserve
    assert_side_settled(
        before, after, tx, alice, bob, (LEFT_WEI, LEFT_TOKEN), (PAID_WEI, PAID_TOKEN)
    )
    # the last thread: root and closing time cleared, channel open, txCounts kept
    assert tx_counts(after.details[str(alice)]) == tx_counts(before.details[str(alice)])
    assert w.thread(initial)["emptied"] == [True, False]
    assert w.thread(initial)["weiBalances"] == [LEFT_WEI, PAID_WEI]  # the record stays
    assert after.credits[str(alice)] == (0, 0)
    assert event_args(tx, "DidEmptyThread") == plain(
        {
            "user": alice,
            "sender": alice,
            "receiver": bob,
            "threadId": 1,
            "caller": alice,
            "weiPaid": LEFT_WEI,
            "tokenPaid": LEFT_TOKEN,
            "threadCount": 0,
        }
    )


def test_emptyThread_state_receiver_side(settled, alice, bob):
    w, initial = settled.world, settled.initial
    before = w.snapshot(alice, bob)

    tx = w.empty(bob, initial)

    after = w.snapshot(alice, bob)
    # the receiver is paid its share out of the hub's collateral; the remainder returns
    assert_side_settled(
        before, after, tx, bob, alice, (PAID_WEI, PAID_TOKEN), (LEFT_WEI, LEFT_TOKEN)
    )
    assert w.thread(initial)["emptied"] == [False, True]
    assert event_args(tx, "DidEmptyThread") == plain(
        {
            "user": bob,
            "sender": alice,
            "receiver": bob,
            "threadId": 1,
            "caller": bob,
            "weiPaid": PAID_WEI,
            "tokenPaid": PAID_TOKEN,
            "threadCount": 0,
        }
    )


def test_emptyThread_both_sides_settle_the_thread(settled, alice, bob, hub):
    w, initial = settled.world, settled.initial
    before = w.snapshot(alice, bob)

    w.empty(alice, initial)
    w.empty(bob, initial, caller=hub)

    after = w.snapshot(alice, bob)
    assert w.thread(initial)["emptied"] == [True, True]
    # alice lost the share, bob gained it, the hub (reserve) is whole again
    assert after.tokens[str(alice)] - before.tokens[str(alice)] == LEFT_TOKEN
    assert after.tokens[str(bob)] - before.tokens[str(bob)] == PAID_TOKEN
    assert after.reserve_wei - before.reserve_wei == THREAD_WEI
    assert after.reserve_token - before.reserve_token == THREAD_TOKEN
    assert (after.total_wei, after.total_token) == (
        before.total_wei - 2 * THREAD_WEI,
        before.total_token - 2 * THREAD_TOKEN,
    )
    assert after.details[str(alice)].status == after.details[str(bob)].status == ChannelStatus.OPEN


def test_emptyThread_by_hub_pays_the_user(settled, alice, bob, hub):
    w, initial = settled.world, settled.initial
    before = w.snapshot(alice, bob)

    tx = w.empty(bob, initial, caller=hub)

    after = w.snapshot(alice, bob)
    assert after.eth[str(bob)] == before.eth[str(bob)] + PAID_WEI
    assert after.eth[str(hub)] == before.eth[str(hub)] - fee_of(tx)
    assert event_args(tx, "DidEmptyThread")["caller"] == plain(hub)


def test_emptyThread_of_receiver_with_nothing_paid(thread_exited, alice, bob):
    """No challenge: the receiver's share is zero (no transfer), all returns to the reserve."""
    w, initial = thread_exited.world, thread_exited.initial
    set_next_timestamp(thread_exited.thread_closing)
    before = w.snapshot(alice, bob)

    tx = w.empty(bob, initial)

    after = w.snapshot(alice, bob)
    assert after.eth[str(bob)] == before.eth[str(bob)] - fee_of(tx)
    assert after.tokens[str(bob)] == before.tokens[str(bob)]
    assert after.reserve_wei == before.reserve_wei + THREAD_WEI
    assert after.reserve_token == before.reserve_token + THREAD_TOKEN
    assert (
        event_args(tx, "DidEmptyThread")["weiPaid"],
        event_args(tx, "DidEmptyThread")["tokenPaid"],
    ) == (
        0,
        0,
    )


@pytest.fixture
def two_threads(world, alice, bob, carol):
    """alice has threads to bob (id 1) and to carol (id 1); alice's channel in ThreadDispute
    and the thread to bob disputed; the next block is at that thread's closing time."""
    world.open_channel(alice, **SENDER_DEPOSIT)
    world.open_channel(bob, **RECEIVER_DEPOSIT)
    world.open_channel(carol, **RECEIVER_DEPOSIT)
    to_bob = world.open_thread(alice, bob, 1)
    to_carol = world.open_thread(alice, carol, 1, wei=2 * THREAD_WEI, token=0)
    channel_closing = world.dispute(alice)
    tx = world.exit_thread(alice, to_bob)
    set_next_timestamp(int(tx.events["DidStartExitThread"]["threadClosingTime"]))
    return world, to_bob, to_carol, channel_closing


def test_emptyThread_keeps_channel_in_dispute_while_threads_remain(two_threads, alice, bob):
    world, to_bob, to_carol, channel_closing = two_threads
    before = world.snapshot(alice)

    tx = world.empty(alice, to_bob)

    after = world.snapshot(alice)
    assert after.balances[str(alice)] == (
        0,
        0,
        2 * THREAD_WEI,
        0,
        0,
        0,
    )  # carol's thread stays locked
    root = "0x" + world.channel(alice).state.thread_root.hex()
    assert dispute_fields(after.details[str(alice)]) == (
        root,
        1,
        ZERO_ADDRESS,
        channel_closing,
        ChannelStatus.THREAD_DISPUTE,
    )
    assert after.total_wei == before.total_wei - THREAD_WEI
    assert event_args(tx, "DidEmptyThread")["threadCount"] == 1
    # the remaining thread can still be disputed with the unchanged root
    world.exit_thread(alice, to_carol)


# ------------------------------------------------------------------ time


def test_emptyThread_reverts_when_window_still_open(thread_exited, alice):
    w, initial = thread_exited.world, thread_exited.initial
    closing = thread_exited.thread_closing
    set_next_timestamp(closing - 1)
    with reverts("ChallengeWindowOpen", closing, closing - 1):
        w.empty(alice, initial)


def test_emptyThread_accepts_at_closing(thread_exited, alice):
    w, initial = thread_exited.world, thread_exited.initial

    tx = w.empty(alice, initial, at=thread_exited.thread_closing)

    assert tx.timestamp == thread_exited.thread_closing
    assert w.thread(initial)["emptied"] == [True, False]


def test_emptyThread_reverts_when_thread_not_disputed(both_disputed, alice, bob):
    with reverts("ThreadNotDisputed", alice, bob, 1):
        both_disputed.world.empty(alice, both_disputed.initial)


# ------------------------------------------------------------------ once per side


def test_emptyThread_reverts_when_side_already_emptied(two_threads, alice):
    world, to_bob, _, _ = two_threads
    world.empty(alice, to_bob)
    with reverts("ThreadSideAlreadyEmptied", alice):
        world.empty(alice, to_bob)


def test_emptyThread_reverts_when_receiver_side_already_emptied(world, alice, bob, carol):
    """bob receives two threads, so his channel stays in ThreadDispute after settling one;
    settling the same receiver side again is refused by the thread's receiver flag."""
    world.open_channel(alice, **SENDER_DEPOSIT)
    world.open_channel(carol, **SENDER_DEPOSIT)
    world.open_channel(bob, hub_wei=2 * THREAD_WEI, hub_token=2 * THREAD_TOKEN)
    from_alice = world.open_thread(alice, bob, 1)
    world.open_thread(carol, bob, 1)
    world.dispute(bob)
    tx = world.exit_thread(bob, from_alice)
    set_next_timestamp(int(tx.events["DidStartExitThread"]["threadClosingTime"]))
    world.empty(bob, from_alice)
    assert world.thread(from_alice)["emptied"] == [False, True]

    with reverts("ThreadSideAlreadyEmptied", bob):
        world.empty(bob, from_alice)


def test_emptyThread_reverts_when_last_thread_emptied(settled, alice):
    """With its last thread settled the channel is Open again: no second settlement."""
    w, initial = settled.world, settled.initial
    w.empty(alice, initial)
    with reverts("WrongChannelStatus", alice, ChannelStatus.OPEN):
        w.empty(alice, initial)


# ------------------------------------------------------------------ channel funds


@pytest.mark.parametrize("asset", ["wei", "token"])
def test_emptyThread_reverts_when_channel_funds_short(world, alice, bob, asset):
    """A double-signed state that commits to a thread without locking its amount (an off-chain
    mistake `rules.validate_channel_update` refuses): emptying the channel paid the amount out,
    so the thread cannot be settled from it; nukeThreads stays the way out."""
    ack = world.open_channel(alice, **SENDER_DEPOSIT).state
    world.open_channel(bob, **RECEIVER_DEPOSIT)
    initial = world.open_thread(alice, bob, 1)
    locked = world.channel(alice).state
    wei = ack.wei_balances if asset == "wei" else locked.wei_balances
    token = ack.token_balances if asset == "token" else locked.token_balances
    world.dispute_state(locked.evolve(wei_balances=wei, token_balances=token))
    closing = int(
        world.exit_thread(alice, initial).events["DidStartExitThread"]["threadClosingTime"]
    )
    set_next_timestamp(closing)
    short = channel_balances(world.manager, str(alice))
    short_wei, short_token = short.wei_total, short.token_total
    if asset == "wei":
        assert short_wei == 0
        expected = (THREAD_WEI, 0)
    else:
        assert short_token == 0 and short_wei == THREAD_WEI
        expected = (THREAD_TOKEN, 0)
    with reverts("InsufficientChannelFunds", *expected):
        world.empty(alice, initial)


# ------------------------------------------------------------------ shared guards


def test_emptyThread_reverts_when_channel_open(world, alice, bob, hub):
    """bob disputes the thread from his channel; alice's channel is Open: nothing to settle."""
    world.open_channel(alice, **SENDER_DEPOSIT)
    world.open_channel(bob, **RECEIVER_DEPOSIT)
    initial = world.open_thread(alice, bob, 1)
    world.dispute(bob)
    tx = world.exit_thread(bob, initial)
    set_next_timestamp(int(tx.events["DidStartExitThread"]["threadClosingTime"]))
    with reverts("WrongChannelStatus", alice, ChannelStatus.OPEN):
        world.empty(alice, initial, caller=hub)


@pytest.mark.parametrize("caller_name", ["stranger", "bob"])
def test_emptyThread_reverts_when_caller_not_hub_or_user(settled, alice, caller_name, request):
    caller = request.getfixturevalue(caller_name)
    with reverts("NotHubOrUser", caller, alice):
        settled.world.empty(alice, settled.initial, caller=caller)


def test_emptyThread_reverts_when_user_not_thread_party(settled, alice, bob, carol):
    w = settled.world
    foreign = ThreadState(bob, carol, 1, (THREAD_WEI, 0), (THREAD_TOKEN, 0), 0)
    with reverts("UserNotThreadParty", alice):
        w.manager.emptyThread(alice, foreign.to_tuple(), [], w.sig(foreign), {"from": alice})


@pytest.mark.parametrize("sig", ["bob", "empty"])
def test_emptyThread_does_not_check_its_signature_argument(settled, alice, bob, sig):
    """The record's creation checked the sender's signature and its sums bind the initial state,
    so settlement needs none: a sender that later revokes (EIP-7702, ERC-1271) cannot block it."""
    w, initial = settled.world, settled.initial
    given = w.sig(initial, bob) if sig == "bob" else b""
    tx = w.manager.emptyThread(alice, initial.to_tuple(), [], given, {"from": alice})
    assert event_args(tx, "DidEmptyThread")["weiPaid"] == LEFT_WEI
    assert w.thread(initial)["emptied"] == [True, False]


# ThreadMismatch (an initial state other than the record's) is played as the H-1 exploit in
# tests/unit/exploits/test_h1_thread_drain.py, where two channels commit to two initial states.


def test_emptyThread_reverts_when_initial_is_a_later_state(settled, alice):
    """The settlement follows the stored dispute; a later state is no initial state."""
    w, initial = settled.world, settled.initial
    later = w.pay(initial, times=5)
    with reverts("InvalidInitialThreadState"):
        w.manager.emptyThread(alice, later.to_tuple(), [], w.sig(later), {"from": alice})
