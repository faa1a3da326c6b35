"""startExitThreadWithUpdate (docs/protocol.md §8): start a thread dispute with the proven initial state and
a later sender-signed state of the same thread, which is what the dispute stores."""

from __future__ import annotations

import pytest

from channel_manager.contract_views import ChannelStatus
from channel_manager.states import ThreadState
from tests.fixtures.threads import (
    STEP_TOKEN,
    STEP_WEI,
    THREAD_TOKEN,
    THREAD_WEI,
    assert_nothing_moved,
    paid_record,
)
from tests.helpers import CHALLENGE_PERIOD, event_args, plain, reverts


def test_startExitThreadWithUpdate_state(both_disputed, alice, bob):
    w, initial = both_disputed.world, both_disputed.initial
    update = w.pay(initial, times=3)  # [0.07, 0.03] ETH, [7, 3] TST, txCount 3
    before = w.snapshot(alice, bob)

    tx = w.exit_thread_with_update(bob, initial, update)

    closing = tx.timestamp + CHALLENGE_PERIOD
    assert w.thread(initial) == paid_record(3, closing)
    after = w.snapshot(alice, bob)
    assert_nothing_moved(before, after)
    assert event_args(tx, "DidStartExitThread") == plain(
        {
            "user": bob,
            "sender": alice,
            "receiver": bob,
            "threadId": 1,
            "caller": bob,
            "weiBalances": list(update.wei_balances),
            "tokenBalances": list(update.token_balances),
            "txCount": 3,
            "threadClosingTime": closing,
        }
    )


def test_startExitThreadWithUpdate_by_hub_in_sender_channel(both_disputed, alice, bob, hub):
    w, initial = both_disputed.world, both_disputed.initial
    update = w.pay(initial, times=1)

    tx = w.exit_thread_with_update(alice, initial, update, caller=hub)

    assert w.thread(initial)["txCount"] == 1
    logged = event_args(tx, "DidStartExitThread")
    assert (logged["user"], logged["caller"]) == plain((alice, hub))


def test_startExitThreadWithUpdate_accepts_everything_paid(both_disputed, alice):
    w, initial = both_disputed.world, both_disputed.initial
    update = w.pay(initial, times=1, wei=THREAD_WEI, token=THREAD_TOKEN)

    w.exit_thread_with_update(alice, initial, update)

    assert w.thread(initial)["weiBalances"] == [0, THREAD_WEI]


def test_startExitThreadWithUpdate_accepts_tx_count_jump(both_disputed, alice):
    """Only 'higher' is required, not 'one higher'."""
    w, initial = both_disputed.world, both_disputed.initial
    update = w.pay(initial).evolve(tx_count=1_000)

    w.exit_thread_with_update(alice, initial, update)

    assert w.thread(initial)["txCount"] == 1_000


# ------------------------------------------------------------------ the update


@pytest.mark.parametrize("field", ["thread_id", "receiver", "sender"])
def test_startExitThreadWithUpdate_reverts_when_update_is_for_another_thread(
    both_disputed, alice, carol, field
):
    """Each update is signed by its own sender (carol when carol is the sender)."""
    w, initial = both_disputed.world, both_disputed.initial
    other = {"thread_id": 2, "receiver": str(carol), "sender": str(carol)}[field]
    update = w.pay(initial).evolve(**{field: other})
    with reverts("ThreadMismatch"):
        w.exit_thread_with_update(alice, initial, update)


@pytest.mark.parametrize("tx_count", [0, 2**64 - 1], ids=["initial", "max_tx_count"])
def test_startExitThreadWithUpdate_reverts_when_update_pays_nothing(both_disputed, alice, tx_count):
    """M-2: a sender's state that pays the receiver nothing is not newer than the initial state,
    whatever its txCount."""
    w, initial = both_disputed.world, both_disputed.initial
    with reverts("ThreadStateNotNewer", 0, 0, 0, 0):
        w.exit_thread_with_update(alice, initial, initial.evolve(tx_count=tx_count))


def test_startExitThreadWithUpdate_accepts_a_payment_with_tx_count_zero(both_disputed, alice):
    """txCount decides nothing on chain: the update's receiver balances do."""
    w, initial = both_disputed.world, both_disputed.initial
    update = w.pay(initial).evolve(tx_count=0)
    w.exit_thread_with_update(alice, initial, update)
    assert w.thread(initial)["weiBalances"] == list(update.wei_balances)
    assert w.thread(initial)["txCount"] == 0


@pytest.mark.parametrize(
    "wei_pair, token_pair",
    [
        ((THREAD_WEI - STEP_WEI, 2 * STEP_WEI), (THREAD_TOKEN, 0)),
        ((THREAD_WEI - 2 * STEP_WEI, STEP_WEI), (THREAD_TOKEN, 0)),
        ((THREAD_WEI, 0), (THREAD_TOKEN - STEP_TOKEN, 2 * STEP_TOKEN)),
        ((THREAD_WEI, 0), (THREAD_TOKEN - 2 * STEP_TOKEN, STEP_TOKEN)),
        ((2 * THREAD_WEI, 0), (THREAD_TOKEN, 0)),
    ],
    ids=["wei_sum_up", "wei_sum_down", "token_sum_up", "token_sum_down", "sender_above_sum"],
)
def test_startExitThreadWithUpdate_reverts_when_sums_change(
    both_disputed, alice, bob, wei_pair, token_pair
):
    w, initial = both_disputed.world, both_disputed.initial
    update = ThreadState(alice, bob, 1, wei_pair, token_pair, 1)
    with reverts("ThreadSumsChanged"):
        w.exit_thread_with_update(alice, initial, update)


def test_startExitThreadWithUpdate_reverts_when_update_not_signed_by_sender(
    both_disputed, alice, wrong_signer
):
    w, initial = both_disputed.world, both_disputed.initial
    with reverts("InvalidThreadSignature", alice):
        w.exit_thread_with_update(alice, initial, w.pay(initial), update_signer=wrong_signer)


# ------------------------------------------------------------------ the initial state (shared)


def test_startExitThreadWithUpdate_reverts_when_initial_not_signed_by_sender(
    both_disputed, alice, bob
):
    w, initial = both_disputed.world, both_disputed.initial
    update = w.pay(initial)
    with reverts("InvalidThreadSignature", alice):
        w.manager.startExitThreadWithUpdate(
            alice,
            initial.to_tuple(),
            w.proof(alice, initial),
            w.sig(initial, bob),
            update.to_tuple(),
            w.sig(update),
            {"from": alice},
        )


def test_startExitThreadWithUpdate_reverts_when_initial_is_a_later_state(both_disputed, alice):
    """The update cannot stand in for the initial state: it is no initial state."""
    w, initial = both_disputed.world, both_disputed.initial
    update = w.pay(initial, times=2)
    with reverts("InvalidInitialThreadState"):
        w.manager.startExitThreadWithUpdate(
            alice,
            update.to_tuple(),
            [],
            w.sig(update),
            update.evolve(tx_count=3).to_tuple(),
            w.sig(update.evolve(tx_count=3)),
            {"from": alice},
        )


def test_startExitThreadWithUpdate_reverts_when_channel_not_in_thread_dispute(sender_disputed, bob):
    w, initial = sender_disputed.world, sender_disputed.initial
    with reverts("WrongChannelStatus", bob, ChannelStatus.OPEN):
        w.exit_thread_with_update(bob, initial, w.pay(initial))


def test_startExitThreadWithUpdate_reverts_when_caller_not_hub_or_user(
    both_disputed, alice, stranger
):
    w, initial = both_disputed.world, both_disputed.initial
    with reverts("NotHubOrUser", stranger, alice):
        w.exit_thread_with_update(alice, initial, w.pay(initial), caller=stranger)


def test_startExitThreadWithUpdate_reverts_when_already_disputed(thread_exited, alice, bob):
    w, initial = thread_exited.world, thread_exited.initial
    with reverts("ThreadAlreadyDisputed", alice, bob, 1):
        w.exit_thread_with_update(bob, initial, w.pay(initial, times=5))
