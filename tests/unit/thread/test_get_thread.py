"""getThread (docs/protocol.md §9): a thread's dispute record keyed by (sender, receiver, threadId):
balances and txCount of the newest state shown, the closing time (zero: never disputed) and
which sides were emptied."""

from __future__ import annotations

from tests.fixtures.threads import STEP_WEI, THREAD_WEI, paid_record, read_thread
from tests.helpers import CHALLENGE_PERIOD

NEVER = {
    "weiBalances": [0, 0],
    "tokenBalances": [0, 0],
    "txCount": 0,
    "threadClosingTime": 0,
    "emptied": [False, False],
}


def test_getThread_of_undisputed_thread_is_zero(both_disputed, alice, bob):
    assert read_thread(both_disputed.world.manager, alice, bob, 1) == NEVER


def test_getThread_after_startExitThread(both_disputed, alice, bob):
    w = both_disputed.world
    tx = w.exit_thread(alice, both_disputed.initial)
    assert read_thread(w.manager, alice, bob, 1) == paid_record(0, tx.timestamp + CHALLENGE_PERIOD)


def test_getThread_after_startExitThreadWithUpdate(both_disputed, alice, bob):
    w, initial = both_disputed.world, both_disputed.initial
    tx = w.exit_thread_with_update(alice, initial, w.pay(initial, times=2))
    assert read_thread(w.manager, alice, bob, 1) == paid_record(2, tx.timestamp + CHALLENGE_PERIOD)


def test_getThread_after_challenge(thread_exited, alice, bob):
    w, initial = thread_exited.world, thread_exited.initial
    w.challenge(w.pay(initial, times=4), bob)
    assert read_thread(w.manager, alice, bob, 1) == paid_record(4, thread_exited.thread_closing)


def test_getThread_after_each_side_emptied(thread_exited, alice, bob):
    w, initial = thread_exited.world, thread_exited.initial
    w.challenge(w.pay(initial, times=1), alice)
    w.empty(bob, initial, at=thread_exited.thread_closing)
    assert read_thread(w.manager, alice, bob, 1)["emptied"] == [False, True]

    w.empty(alice, initial)

    record = read_thread(w.manager, alice, bob, 1)
    assert record["emptied"] == [True, True]
    # balances, txCount and closing time stay: the record dates the dispute for good
    assert record["weiBalances"] == [THREAD_WEI - STEP_WEI, STEP_WEI]
    assert (record["txCount"], record["threadClosingTime"]) == (1, thread_exited.thread_closing)


def test_getThread_is_keyed_by_sender_receiver_and_id(thread_exited, alice, bob, carol):
    m = thread_exited.world.manager
    assert read_thread(m, alice, bob, 1)["threadClosingTime"] == thread_exited.thread_closing
    for key in [(alice, bob, 2), (bob, alice, 1), (alice, carol, 1), (carol, bob, 1)]:
        assert read_thread(m, *key) == NEVER
