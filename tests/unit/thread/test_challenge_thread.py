"""challengeThread (docs/protocol.md §8): while `block.timestamp < threadClosingTime`, the hub, the
sender or the receiver answers a thread dispute with a sender-signed state with the same sums that
raises the receiver's balance of at least one asset. Per asset the record keeps the higher receiver
balance; txCount is kept as the highest shown (saturated at 2^64 − 1) and decides nothing. The
window does not move."""

from __future__ import annotations

import pytest

from channel_manager.states import ThreadState
from tests.fixtures.threads import (
    STEP_TOKEN,
    STEP_WEI,
    THREAD_TOKEN,
    THREAD_WEI,
    assert_nothing_moved,
    paid_record,
)
from tests.helpers import event_args, plain, reverts, set_next_timestamp


@pytest.mark.parametrize("caller_name", ["bob", "alice", "hub"])
def test_challengeThread_state(thread_exited, alice, bob, caller_name, request):
    caller = request.getfixturevalue(caller_name)
    w, initial = thread_exited.world, thread_exited.initial
    update = w.pay(initial, times=3)
    before = w.snapshot(alice, bob)

    tx = w.challenge(update, caller)

    assert w.thread(initial) == paid_record(
        3, thread_exited.thread_closing
    )  # unchanged: no extension
    after = w.snapshot(alice, bob)
    assert_nothing_moved(before, after)
    assert event_args(tx, "DidChallengeThread") == plain(
        {
            "sender": alice,
            "receiver": bob,
            "threadId": 1,
            "caller": caller,
            "weiBalances": list(update.wei_balances),
            "tokenBalances": list(update.token_balances),
            "txCount": 3,
        }
    )


def test_challengeThread_accepts_successive_challenges(thread_exited, bob, hub):
    w, initial = thread_exited.world, thread_exited.initial
    first = w.pay(initial, times=1)
    second = w.pay(first, times=4)

    w.challenge(first, bob)
    w.challenge(second, hub)

    assert w.thread(initial)["txCount"] == 5
    assert w.thread(initial)["weiBalances"] == [THREAD_WEI - 5 * STEP_WEI, 5 * STEP_WEI]


@pytest.mark.parametrize("tx_count", [3, 2**64 - 1, 2**256 - 1], ids=["higher", "max64", "max256"])
def test_challengeThread_reverts_when_balances_unchanged_whatever_the_tx_count(
    thread_exited, bob, tx_count
):
    """A higher txCount alone is not newer: receiver balances order thread states."""
    w, initial = thread_exited.world, thread_exited.initial
    update = w.pay(initial, times=2)
    w.challenge(update, bob)
    stored = w.thread(initial)

    with reverts("ThreadStateNotNewer", 2 * STEP_WEI, 2 * STEP_TOKEN, 2 * STEP_WEI, 2 * STEP_TOKEN):
        w.challenge(update.evolve(tx_count=tx_count), bob)
    assert w.thread(initial) == stored


def test_challengeThread_accepts_token_only_payments(thread_exited, bob):
    """The receiver's balances are stored when either asset moved, not only ETH."""
    w, initial = thread_exited.world, thread_exited.initial
    update = w.pay(initial, times=2, wei=0)

    w.challenge(update, bob)

    assert w.thread(initial)["weiBalances"] == [THREAD_WEI, 0]
    assert w.thread(initial)["tokenBalances"] == [THREAD_TOKEN - 2 * STEP_TOKEN, 2 * STEP_TOKEN]


def test_challengeThread_reverts_when_nothing_was_paid(thread_exited, bob):
    w, initial = thread_exited.world, thread_exited.initial
    with reverts("ThreadStateNotNewer", 0, 0, 0, 0):
        w.challenge(initial.evolve(tx_count=1), bob)
    assert w.thread(initial)["txCount"] == 0


def test_challengeThread_saturates_a_tx_count_above_64_bits(thread_exited, bob):
    """A state is never refused for its txCount; the record keeps at most 2^64 − 1."""
    w, initial = thread_exited.world, thread_exited.initial
    tx = w.challenge(w.pay(initial).evolve(tx_count=2**64 + 5), bob)
    assert w.thread(initial)["txCount"] == 2**64 - 1
    assert event_args(tx, "DidChallengeThread")["txCount"] == 2**64 - 1


def test_challengeThread_accepts_after_exit_with_update(both_disputed, alice, bob):
    w, initial = both_disputed.world, both_disputed.initial
    stale = w.pay(initial, times=1)
    w.exit_thread_with_update(alice, initial, stale)

    w.challenge(w.pay(stale, times=2), bob)

    assert w.thread(initial)["txCount"] == 3


# ------------------------------------------------------------------ time


def test_challengeThread_accepts_at_closing_minus_one(thread_exited, bob):
    w, initial = thread_exited.world, thread_exited.initial
    closing = thread_exited.thread_closing

    tx = w.challenge(w.pay(initial), bob, at=closing - 1)

    assert tx.timestamp == closing - 1
    assert w.thread(initial)["txCount"] == 1


@pytest.mark.parametrize("offset", [0, 1], ids=["at_closing", "closing_plus_one"])
def test_challengeThread_reverts_when_window_closed(thread_exited, bob, offset):
    w, initial = thread_exited.world, thread_exited.initial
    closing = thread_exited.thread_closing
    set_next_timestamp(closing + offset)
    with reverts("ChallengeWindowClosed", closing, closing + offset):
        w.challenge(w.pay(initial), bob)


# ------------------------------------------------------------------ who and which


@pytest.mark.parametrize("caller_name", ["stranger", "carol"])
def test_challengeThread_reverts_when_caller_not_thread_party(thread_exited, caller_name, request):
    caller = request.getfixturevalue(caller_name)
    w, initial = thread_exited.world, thread_exited.initial
    with reverts("NotThreadParty", caller):
        w.challenge(w.pay(initial), caller)


def test_challengeThread_reverts_when_thread_not_disputed(both_disputed, alice, bob):
    w, initial = both_disputed.world, both_disputed.initial
    with reverts("ThreadNotDisputed", alice, bob, 1):
        w.challenge(w.pay(initial), bob)


def test_challengeThread_reverts_when_thread_id_differs(thread_exited, alice, bob):
    """The update names the thread; another id of the same pair is another, undisputed thread."""
    w, initial = thread_exited.world, thread_exited.initial
    with reverts("ThreadNotDisputed", alice, bob, 2):
        w.challenge(w.pay(initial).evolve(thread_id=2), bob)


# ------------------------------------------------------------------ the update


@pytest.mark.parametrize("tx_count", [3, 2, 0], ids=["equal", "lower", "zero"])
def test_challengeThread_accepts_a_raise_whatever_its_tx_count(thread_exited, bob, tx_count):
    """M-2: a sender's unreachable txCount cannot void a later payment; the highest txCount stays."""
    w, initial = thread_exited.world, thread_exited.initial
    stored = w.pay(initial, times=3)
    w.challenge(stored, bob)
    update = w.pay(stored, times=1).evolve(tx_count=tx_count)

    tx = w.challenge(update, bob)

    assert w.thread(initial)["weiBalances"] == list(update.wei_balances)
    assert w.thread(initial)["tokenBalances"] == list(update.token_balances)
    assert w.thread(initial)["txCount"] == 3
    assert event_args(tx, "DidChallengeThread")["txCount"] == 3


@pytest.mark.parametrize(
    "wei_pair, token_pair",
    [
        ((THREAD_WEI, STEP_WEI), (THREAD_TOKEN - STEP_TOKEN, STEP_TOKEN)),
        ((THREAD_WEI - 2 * STEP_WEI, STEP_WEI), (THREAD_TOKEN - STEP_TOKEN, STEP_TOKEN)),
        ((THREAD_WEI - STEP_WEI, STEP_WEI), (THREAD_TOKEN, STEP_TOKEN)),
        ((THREAD_WEI - STEP_WEI, STEP_WEI), (THREAD_TOKEN - 2 * STEP_TOKEN, STEP_TOKEN)),
        ((THREAD_WEI + 1, 0), (THREAD_TOKEN, 0)),
        ((THREAD_WEI, 0), (THREAD_TOKEN + 1, 0)),
    ],
    ids=[
        "wei_sum_up",
        "wei_sum_down",
        "token_sum_up",
        "token_sum_down",
        "sender_above_sum",
        "token_sender_above_sum",
    ],
)
def test_challengeThread_reverts_when_sums_change(thread_exited, alice, bob, wei_pair, token_pair):
    w = thread_exited.world
    with reverts("ThreadSumsChanged"):
        w.challenge(ThreadState(alice, bob, 1, wei_pair, token_pair, 1), bob)


@pytest.mark.parametrize("asset", ["wei", "token"])
def test_challengeThread_reverts_when_one_receiver_balance_falls_and_none_rises(
    thread_exited, alice, bob, asset
):
    w, initial = thread_exited.world, thread_exited.initial
    stored = w.pay(initial, times=3)  # receiver holds 3 steps of each
    w.challenge(stored, alice)
    if asset == "wei":
        update = stored.evolve(tx_count=4, wei_balances=(THREAD_WEI - 2 * STEP_WEI, 2 * STEP_WEI))
        args = (2 * STEP_WEI, 3 * STEP_TOKEN)
    else:
        update = stored.evolve(
            tx_count=4, token_balances=(THREAD_TOKEN - 2 * STEP_TOKEN, 2 * STEP_TOKEN)
        )
        args = (3 * STEP_WEI, 2 * STEP_TOKEN)
    with reverts("ThreadStateNotNewer", *args, 3 * STEP_WEI, 3 * STEP_TOKEN):
        w.challenge(update, alice)


@pytest.mark.parametrize("raised", ["wei", "token"])
def test_challengeThread_keeps_the_per_asset_maximum(thread_exited, alice, bob, raised):
    """An update that raises one asset and lowers the other: the raised asset is taken, the
    lowered one keeps its stored receiver balance, the sender's is the sum minus it."""
    w, initial = thread_exited.world, thread_exited.initial
    stored = w.pay(initial, times=3)
    w.challenge(stored, bob)
    if raised == "wei":
        wei, token = (
            (THREAD_WEI - 5 * STEP_WEI, 5 * STEP_WEI),
            (THREAD_TOKEN - STEP_TOKEN, STEP_TOKEN),
        )
    else:
        wei, token = (
            (THREAD_WEI - STEP_WEI, STEP_WEI),
            (THREAD_TOKEN - 5 * STEP_TOKEN, 5 * STEP_TOKEN),
        )
    update = ThreadState(alice, bob, 1, wei, token, 4)

    tx = w.challenge(update, bob)

    expected_wei = [THREAD_WEI - max(3 * STEP_WEI, wei[1]), max(3 * STEP_WEI, wei[1])]
    expected_token = [THREAD_TOKEN - max(3 * STEP_TOKEN, token[1]), max(3 * STEP_TOKEN, token[1])]
    assert w.thread(initial)["weiBalances"] == expected_wei
    assert w.thread(initial)["tokenBalances"] == expected_token
    assert w.thread(initial)["txCount"] == 4
    logged = event_args(tx, "DidChallengeThread")  # the record as stored, not the submitted state
    assert (list(logged["weiBalances"]), list(logged["tokenBalances"])) == (
        expected_wei,
        expected_token,
    )


def test_challengeThread_reverts_when_not_signed_by_sender(thread_exited, alice, wrong_signer):
    w, initial = thread_exited.world, thread_exited.initial
    with reverts("InvalidThreadSignature", alice):
        w.challenge(w.pay(initial), wrong_signer, update_signer=wrong_signer)
