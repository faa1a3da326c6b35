"""The reference model's thread disputes under docs/protocol.md §8 (v3): receiver balances order
thread states per asset, txCount decides nothing, the record is bound to its initial state, and
emptyThread does not re-check the sender's signature. No chain."""

from __future__ import annotations

import pytest

from channel_manager import errors as E
from channel_manager.aliases import MAX_TX_COUNT
from channel_manager.model import Status
from channel_manager.states import ThreadState
from channel_manager.threads import initial_thread_state, lock_thread, pay_in_thread
from tests.offchain.model_world import ALICE, BOB, CAROL, ETHER, HUB, PERIOD, STRANGER, ModelWorld

WEI, TOKEN = 100, 10  # the thread's sums


@pytest.fixture
def world() -> ModelWorld:
    """alice -> bob thread #1 (100 wei, 10 tokens) open in both channels, both channels emptied
    into ThreadDispute, no thread record yet."""
    w = ModelWorld()
    w.fund(ALICE, user_wei=ETHER, user_token=1_000)
    w.fund(BOB, hub_wei=ETHER, hub_token=1_000)
    w.initial = w.open_thread(ALICE, BOB, 1, wei=WEI, token=TOKEN)
    w.exit_with_newest(ALICE)
    w.exit_with_newest(BOB)
    assert w.model.channel(ALICE).status == w.model.channel(BOB).status == Status.THREAD_DISPUTE
    return w


def state(wei_receiver: int, token_receiver: int, tx_count: int, thread_id: int = 1) -> ThreadState:
    """A sender-signable state of the thread with the given receiver balances."""
    return ThreadState(
        ALICE,
        BOB,
        thread_id,
        (WEI - wei_receiver, wei_receiver),
        (TOKEN - token_receiver, token_receiver),
        tx_count,
    )


def start(w: ModelWorld, user: str = BOB, by: str = HUB) -> None:
    w.call(
        "start_exit_thread", by, user, w.initial, w.proof(user, w.initial), w.sign(w.initial, ALICE)
    )


def challenge(w: ModelWorld, update: ThreadState, by: str = BOB, sig: bytes | None = None) -> None:
    w.call("challenge_thread", by, update, w.sign(update, ALICE) if sig is None else sig)


def record(w: ModelWorld) -> tuple[tuple[int, int], tuple[int, int], int]:
    """((wei sender, receiver), (token sender, receiver), txCount) as getThread reports them."""
    t = w.model.thread(ALICE, BOB, 1)
    return (t.wei_sender, t.wei_receiver), (t.token_sender, t.token_receiver), t.tx_count


# ------------------------------------------------------------------ per-asset maximum


def test_challenge_with_lower_tx_count_that_raises_an_asset_is_accepted(world):
    """The per-asset maximum, not txCount ordering: a state with a LOWER txCount that raises the
    token balance is taken, and the wei balance already stored is kept. Under txCount ordering
    the second challenge would be refused; under "newest replaces" the wei would fall to 10."""
    start(world)
    challenge(world, state(30, 0, 5))
    challenge(world, state(10, 4, 2))
    assert record(world) == ((70, 30), (6, 4), 5)


def test_update_raising_one_asset_and_lowering_the_other_keeps_the_higher_of_each(world):
    start(world)
    challenge(world, state(20, 6, 3))
    challenge(world, state(50, 1, 4))
    assert record(world) == ((50, 50), (4, 6), 4)


@pytest.mark.parametrize(
    "update",
    [state(20, 6, 9), state(19, 6, 9), state(20, 5, 9), state(0, 0, MAX_TX_COUNT)],
    ids=["same-balances-higher-txcount", "wei-lower", "token-lower", "max-txcount-pays-nothing"],
)
def test_challenge_reverts_when_no_receiver_balance_rises(world, update):
    start(world)
    challenge(world, state(20, 6, 3))
    with pytest.raises(E.ThreadStateNotNewer) as info:
        challenge(world, update)
    assert info.value.args == (update.wei_balances[1], update.token_balances[1], 20, 6)
    assert record(world) == ((80, 20), (4, 6), 3)


def test_tx_count_is_kept_as_the_highest_shown_and_saturates(world):
    start(world)
    challenge(world, state(10, 0, 2**70))  # above uint64: no revert, stored as 2^64 - 1
    assert record(world)[2] == MAX_TX_COUNT
    challenge(world, state(20, 0, 3))  # lower txCount, higher balance: the stored txCount stays
    assert record(world) == ((80, 20), (10, 0), MAX_TX_COUNT)


def test_self_dealing_sender_cannot_void_its_payments(world):
    """Issue M-2 as the exploit: the sender signs a state with txCount 2^64 - 1 paying the
    receiver nothing. It cannot start the dispute with it, nor use it to block the receiver's
    genuine state, which is paid in full."""
    paid = pay_in_thread(
        pay_in_thread(pay_in_thread(world.initial, wei=30, token=3), wei=30), wei=20
    )
    assert paid == state(80, 3, 3)
    voiding = state(0, 0, MAX_TX_COUNT)
    with pytest.raises(E.ThreadStateNotNewer):
        world.call(
            "start_exit_thread_with_update",
            ALICE,
            ALICE,
            world.initial,
            world.proof(ALICE, world.initial),
            world.sign(world.initial, ALICE),
            voiding,
            world.sign(voiding, ALICE),
        )
    start(world, ALICE, by=ALICE)
    with pytest.raises(E.ThreadStateNotNewer):
        challenge(world, voiding, by=ALICE)
    challenge(world, paid, by=BOB)
    world.wait(PERIOD)
    out = world.call("empty_thread", BOB, BOB, world.initial, world.proof(BOB, world.initial), b"")
    assert (out.paid_wei, out.paid_token) == ({BOB: 80}, {BOB: 3})
    world.assert_solvent()


# ------------------------------------------------------------------ check order


def test_challenge_checks_in_contract_order(world):
    """NotThreadParty, ThreadNotDisputed, ChallengeWindowClosed, ThreadSumsChanged,
    ThreadStateNotNewer, InvalidThreadSignature: each case breaks every later rule too."""
    bad_sums_unsigned = ThreadState(ALICE, BOB, 1, (WEI, 1), (TOKEN, 0), 1)
    with pytest.raises(E.NotThreadParty):
        challenge(world, bad_sums_unsigned, by=STRANGER, sig=b"")
    with pytest.raises(E.ThreadNotDisputed):
        challenge(world, bad_sums_unsigned, sig=b"")
    start(world)
    with pytest.raises(E.ThreadSumsChanged):
        challenge(world, bad_sums_unsigned, sig=b"")
    with pytest.raises(E.ThreadStateNotNewer):
        challenge(world, state(0, 0, 7), sig=b"")
    with pytest.raises(E.InvalidThreadSignature):
        challenge(world, state(1, 0, 7), sig=b"")
    world.wait(PERIOD)
    with pytest.raises(E.ChallengeWindowClosed):
        challenge(world, bad_sums_unsigned, sig=b"")


def test_challenge_window_boundary(world):
    start(world)
    closing = world.model.thread(ALICE, BOB, 1).closing_time
    world.now = closing - 2  # the call runs at closing - 1
    challenge(world, state(1, 0, 1))
    with pytest.raises(E.ChallengeWindowClosed) as info:
        challenge(world, state(2, 0, 2))  # at closing
    assert info.value.args == (closing, closing)


def test_start_exit_thread_with_update_checks_in_order_and_stores_like_a_challenge(world):
    initial, proof, sig_initial = (
        world.initial,
        world.proof(BOB, world.initial),
        world.sign(world.initial, ALICE),
    )

    def start_with(update: ThreadState, sig: bytes = b"") -> None:
        world.call(
            "start_exit_thread_with_update", BOB, BOB, initial, proof, sig_initial, update, sig
        )

    with pytest.raises(E.ThreadMismatch):
        start_with(ThreadState(ALICE, CAROL, 1, (WEI, 1), (TOKEN, 0), 0))
    with pytest.raises(E.ThreadSumsChanged):
        start_with(ThreadState(ALICE, BOB, 1, (WEI, 1), (TOKEN, 0), 0))
    with pytest.raises(E.ThreadStateNotNewer):
        start_with(state(0, 0, 5))
    with pytest.raises(E.InvalidThreadSignature):
        start_with(state(0, 1, 5))
    assert world.model.thread(ALICE, BOB, 1).closing_time == 0  # nothing stored by a refusal
    update = state(0, 1, 2**65)
    start_with(update, world.sign(update, ALICE))
    assert record(world) == ((WEI, 0), (TOKEN - 1, 1), MAX_TX_COUNT)
    assert world.model.thread(ALICE, BOB, 1).closing_time == world.now + PERIOD


def test_start_exit_thread_stores_the_initial_state(world):
    start(world)
    assert record(world) == ((WEI, 0), (TOKEN, 0), 0)
    with pytest.raises(E.ThreadAlreadyDisputed):
        start(world, ALICE, by=ALICE)


# ------------------------------------------------------------------ the record's binding


def two_initial_states_world() -> tuple[ModelWorld, ThreadState, ThreadState]:
    """Issue H-1's setting: the sender (carol, a sock puppet) signs two initial states for one
    key (carol, bob, 7); bob's channel root commits to the 5-ETH one (the hub collateralises
    it), carol's to a 1-wei one. alice is a victim whose deposit is in the contract too."""
    w = ModelWorld()
    w.fund(CAROL, user_wei=ETHER)
    w.fund(BOB, hub_wei=5 * ETHER)
    w.fund(ALICE, user_wei=10 * ETHER)
    big = initial_thread_state(CAROL, BOB, 7, wei=5 * ETHER)
    small = initial_thread_state(CAROL, BOB, 7, wei=1)
    w.channels[BOB] = lock_thread(w.channel(BOB), big)
    w.channels[CAROL] = lock_thread(w.channel(CAROL), small)
    w.exit_with_newest(BOB)
    w.exit_with_newest(CAROL)
    return w, big, small


def test_empty_thread_reverts_when_the_record_was_started_from_another_initial_state():
    """Issue H-1 as the exploit: the record is created from the 5-ETH initial state in bob's
    channel; carol's channel then tries to settle its side with the 1-wei initial state it
    commits to. The contract must refuse (ThreadMismatch): otherwise 5 ETH would be paid while
    1 wei leaves the totals."""
    w, big, small = two_initial_states_world()
    w.call("start_exit_thread", HUB, BOB, big, w.proof(BOB, big), w.sign(big, CAROL))
    w.wait(PERIOD)
    with pytest.raises(E.ThreadMismatch):
        w.call("empty_thread", HUB, CAROL, small, w.proof(CAROL, small), w.sign(small, CAROL))
    w.assert_solvent()
    # the honest side still settles, and carol's channel has nukeThreads as its way out
    w.call("empty_thread", HUB, BOB, big, w.proof(BOB, big), b"")
    w.assert_solvent()
    w.wait(10 * PERIOD)
    w.call("nuke_threads", STRANGER, CAROL)
    w.assert_solvent()


def test_empty_thread_reverts_when_given_the_big_initial_state_after_a_small_start():
    """The variant: the record starts from the 1-wei initial state in carol's channel; bob's
    channel cannot settle the 5-ETH one against it."""
    w, big, small = two_initial_states_world()
    w.call("start_exit_thread", CAROL, CAROL, small, w.proof(CAROL, small), w.sign(small, CAROL))
    w.wait(PERIOD)
    with pytest.raises(E.ThreadMismatch):
        w.call("empty_thread", BOB, BOB, big, w.proof(BOB, big), b"")
    w.assert_solvent()


def test_empty_thread_checks_in_contract_order():
    """ThreadNotInRoot, ThreadNotDisputed, ThreadMismatch, ChallengeWindowOpen: each case
    breaks every later rule too."""
    w, big, small = two_initial_states_world()
    proof = w.proof(CAROL, small)
    with pytest.raises(E.ThreadNotInRoot):
        w.call("empty_thread", CAROL, CAROL, big, proof, b"")
    with pytest.raises(E.ThreadNotDisputed):
        w.call("empty_thread", CAROL, CAROL, small, proof, b"")
    w.call("start_exit_thread", HUB, BOB, big, w.proof(BOB, big), w.sign(big, CAROL))
    with pytest.raises(E.ThreadMismatch):  # inside the window
        w.call("empty_thread", CAROL, CAROL, small, proof, b"")
    with pytest.raises(E.ChallengeWindowOpen):
        w.call("empty_thread", BOB, BOB, big, w.proof(BOB, big), b"")
    w.wait(PERIOD)
    w.call("empty_thread", BOB, BOB, big, w.proof(BOB, big), b"")


def test_empty_thread_does_not_check_the_signature(world):
    """docs/protocol.md §8: once the record exists, settlement cannot be blocked by the sender's
    signature (any bytes, even empty, are accepted)."""
    start(world)
    world.wait(PERIOD)
    for user in (BOB, ALICE):
        world.call(
            "empty_thread", user, user, world.initial, world.proof(user, world.initial), b"\x01" * 7
        )
    assert world.model.channel(ALICE).status == world.model.channel(BOB).status == Status.OPEN


# ------------------------------------------------------------------ nothing stranded


def test_last_empty_thread_pays_the_channel_surplus_and_reopens_empty():
    """A colluding double-signed state left part of bob's total in neither balance; when bob's
    last thread is emptied, that surplus is paid to bob with its side and the channel holds 0."""
    w = ModelWorld()
    w.fund(ALICE, user_wei=ETHER)
    w.fund(BOB, hub_wei=ETHER)
    initial = w.open_thread(ALICE, BOB, 1, wei=WEI)
    threaded = w.newest(BOB)
    # hub and bob sign a state giving both sides 7 wei less than the channel holds
    short = threaded.evolve(
        wei_balances=(threaded.wei_balances[0] - 7, threaded.wei_balances[1]),
        tx_count=(threaded.tx_count[0] + 1, threaded.tx_count[1]),
    )
    w.call("start_exit_with_update", BOB, short, *w.sigs(short))
    w.wait(PERIOD)
    w.call("empty_channel", STRANGER, BOB)
    assert w.model.channel(BOB).wei_total == WEI + 7  # the thread's amount and the surplus
    w.call("start_exit_thread", BOB, BOB, initial, w.proof(BOB, initial), w.sign(initial, ALICE))
    paid = pay_in_thread(initial, wei=40)
    w.call("challenge_thread", BOB, paid, w.sign(paid, ALICE))
    w.wait(PERIOD)
    total_before = w.model.total_channel_wei
    out = w.call("empty_thread", BOB, BOB, initial, w.proof(BOB, initial), b"")
    assert out.paid_wei == {BOB: 40 + 7}
    ch = w.model.channel(BOB)
    assert (ch.wei_total, ch.token_total, ch.status, ch.thread_count) == (0, 0, Status.OPEN, 0)
    assert w.model.total_channel_wei == total_before - WEI - 7
    w.assert_solvent()


def test_empty_thread_with_threads_left_pays_only_the_side_once():
    w = ModelWorld()
    w.fund(ALICE, user_wei=ETHER)
    w.fund(BOB, hub_wei=ETHER)
    first = w.open_thread(ALICE, BOB, 1, wei=WEI)
    w.open_thread(ALICE, BOB, 2, wei=WEI)
    w.exit_with_newest(BOB)
    w.call("start_exit_thread", BOB, BOB, first, w.proof(BOB, first), w.sign(first, ALICE))
    w.wait(PERIOD)
    out = w.call("empty_thread", BOB, BOB, first, w.proof(BOB, first), b"")
    assert out.paid_wei == {}  # nothing was paid to bob in that thread
    ch = w.model.channel(BOB)
    assert (ch.wei_total, ch.thread_count, ch.status) == (WEI, 1, Status.THREAD_DISPUTE)
    with pytest.raises(E.ThreadSideAlreadyEmptied):
        w.call("empty_thread", HUB, BOB, first, w.proof(BOB, first), b"")
