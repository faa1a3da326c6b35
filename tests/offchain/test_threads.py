"""Off-chain thread helpers (`channel_manager.threads`): opening locks the amounts in both
channels, payments follow the thread rules, a cooperative close releases the final balances,
and every channel state returned passes `rules.validate_channel_update`. No chain."""

from __future__ import annotations

import pytest
from eth_utils import to_checksum_address
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channel_manager import errors as E
from channel_manager import merkle
from channel_manager.eip712 import thread_struct_hash
from channel_manager.rules import (
    ReceiverBalanceLowered,
    ThreadTxCountNotRaised,
    validate_channel_update,
)
from channel_manager.states import ChannelState, ThreadState
from channel_manager.threads import (
    ThreadedChannel,
    close_thread,
    initial_of,
    initial_thread_state,
    lock_thread,
    locked_amounts,
    open_thread,
    pay_in_thread,
    release_thread,
    thread_fields,
    validate_initial_thread_state,
    validate_thread_update,
)

ETHER = 10**18
HUB = to_checksum_address("0x" + "11" * 20)
A = to_checksum_address("0x" + "aa" * 20)
B = to_checksum_address("0x" + "bb" * 20)
C = to_checksum_address("0x" + "cc" * 20)
CONTRACT = to_checksum_address("0x" + "cf" * 20)
ZERO = "0x" + "00" * 20

# Hypothesis runs here touch no chain; the suite's autouse isolation fixture is harmless to share.
FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def sender_channel(user: str = A) -> ChannelState:
    """An acknowledged first deposit: user 1 ETH + 100 TST, hub 50 TST."""
    return ChannelState(user, user, (0, ETHER), (50, 100), tx_count=(2, 1))


def receiver_channel(user: str = B) -> ChannelState:
    """An acknowledged deposit with hub collateral: hub 0.5 ETH + 50 TST."""
    return ChannelState(user, user, (ETHER // 2, ETHER), (50, 100), tx_count=(2, 1))


def check_successor(prev: ThreadedChannel, new: ThreadedChannel) -> None:
    validate_channel_update(
        prev.state, new.state, locked_before=prev.locked, locked_after=new.locked
    )


# ------------------------------------------------------------------ opening


def test_open_thread_initial_state():
    opening = open_thread(sender_channel(), receiver_channel(), 7, wei=ETHER // 10, token=10)
    assert opening.initial == ThreadState(A, B, 7, (ETHER // 10, 0), (10, 0), 0)


def test_open_thread_locks_sender_balance_in_sender_channel():
    prev = ThreadedChannel(sender_channel())
    opening = open_thread(prev, receiver_channel(), 1, wei=ETHER // 10, token=10)
    new = opening.sender.state
    assert new.wei_balances == (0, ETHER - ETHER // 10)
    assert new.token_balances == (50, 90)
    assert new.tx_count == (3, 1)
    assert new.timeout == 0 and not new.has_pending
    assert (new.thread_root, new.thread_count) == (thread_struct_hash(opening.initial), 1)
    assert opening.sender.locked == (ETHER // 10, 10)
    check_successor(prev, opening.sender)


def test_open_thread_locks_hub_balance_in_receiver_channel():
    prev = ThreadedChannel(receiver_channel())
    opening = open_thread(sender_channel(), prev, 1, wei=ETHER // 10, token=10)
    new = opening.receiver.state
    assert new.wei_balances == (ETHER // 2 - ETHER // 10, ETHER)  # the hub collateralises B
    assert new.token_balances == (40, 100)
    assert new.tx_count == (3, 1)
    assert (new.thread_root, new.thread_count) == (thread_struct_hash(opening.initial), 1)
    check_successor(prev, opening.receiver)


def test_both_channels_commit_to_the_same_leaf():
    opening = open_thread(sender_channel(), receiver_channel(), 1, wei=1, token=0)
    assert opening.sender.state.thread_root == opening.receiver.state.thread_root
    assert opening.sender.proof(opening.initial) == []  # one leaf: the root is the leaf


def test_second_thread_appends_a_leaf_and_both_prove():
    first = open_thread(sender_channel(), receiver_channel(B), 1, wei=100, token=1)
    second = open_thread(first.sender, receiver_channel(C), 1, wei=200, token=2)
    a = second.sender
    assert a.threads == (first.initial, second.initial)
    tree = merkle.MerkleTree.of_threads([first.initial, second.initial])
    assert (a.state.thread_root, a.state.thread_count) == (tree.root, 2)
    assert a.locked == (300, 3)
    assert a.state.wei_balances == (0, ETHER - 300)
    for t in a.threads:
        assert merkle.verify(a.proof(t), a.state.thread_root, thread_struct_hash(t))
    check_successor(first.sender, a)


def test_open_thread_accepts_prepared_threaded_channels_in_either_role():
    """B can send a thread to A while receiving one from A."""
    ab = open_thread(sender_channel(A), receiver_channel(B), 1, wei=100)
    ba = open_thread(ab.receiver, ab.sender, 1, token=5)
    assert ba.initial.key == (ab.receiver.user, ab.sender.user, 1)
    assert ba.sender.threads == (ab.initial, ba.initial)  # B's channel holds both threads
    assert ba.sender.state.wei_balances == (ETHER // 2 - 100, ETHER)
    assert ba.sender.state.token_balances == (50, 95)  # B funds its own thread
    assert ba.receiver.state.token_balances == (45, 100)  # the hub collateralises A's side
    assert ba.sender.locked == (100, 5)


@pytest.mark.parametrize(
    "wei, token, message",
    [
        (ETHER + 1, 0, "sender's balance"),
        (0, 101, "sender's balance"),
    ],
    ids=["wei-above-sender", "token-above-sender"],
)
def test_open_thread_refuses_amount_above_sender_balance(wei, token, message):
    with pytest.raises(ValueError, match=message):
        open_thread(sender_channel(), receiver_channel(), 1, wei=wei, token=token)


def test_open_thread_refuses_amount_above_hub_collateral():
    poor = ChannelState(B, B, (10, ETHER), (50, 100), tx_count=(2, 1))
    with pytest.raises(ValueError, match="hub's balance"):
        open_thread(sender_channel(), poor, 1, wei=11)


def test_open_thread_refuses_zero_amount():
    with pytest.raises(ValueError, match="non-zero"):
        open_thread(sender_channel(), receiver_channel(), 1)


def test_open_thread_refuses_pending_updates():
    proposal = sender_channel().evolve(pending_wei_updates=(0, 0, 5, 0), tx_count=(3, 2))
    with pytest.raises(ValueError, match="pending"):
        open_thread(proposal, receiver_channel(), 1, wei=1)


def test_open_thread_refuses_same_key_twice():
    first = open_thread(sender_channel(), receiver_channel(), 1, wei=1)
    with pytest.raises(ValueError, match="already open"):
        open_thread(first.sender, first.receiver, 1, wei=2)


def test_open_thread_refuses_sender_as_receiver():
    with pytest.raises(E.InvalidThreadParties) as info:
        open_thread(sender_channel(A), receiver_channel(A), 1, wei=1)
    assert info.value.revert_text() == f"InvalidThreadParties: {A.lower()}, {A.lower()}"


def test_open_thread_refuses_hub_as_party():
    with pytest.raises(E.InvalidThreadParties):
        open_thread(sender_channel(A), receiver_channel(HUB), 1, wei=1, hub=HUB)


def test_threaded_channel_refuses_root_that_does_not_commit_to_threads():
    opening = open_thread(sender_channel(), receiver_channel(), 1, wei=1)
    with pytest.raises(ValueError, match="commit"):
        ThreadedChannel(opening.sender.state, ())
    with pytest.raises(ValueError, match="commit"):
        ThreadedChannel(sender_channel(), (opening.initial,))


# ------------------------------------------------------------------ initial-state checks


@pytest.mark.parametrize(
    "sender, receiver",
    [(A, A), (ZERO, B), (A, ZERO), (HUB, B), (A, HUB), (CONTRACT, B), (A, CONTRACT)],
    ids=[
        "sender-is-receiver",
        "zero-sender",
        "zero-receiver",
        "hub-sender",
        "hub-receiver",
        "contract-sender",
        "contract-receiver",
    ],
)
def test_validate_initial_refuses_parties(sender, receiver):
    state = ThreadState(sender, receiver, 1, (5, 0), (0, 0), 0)
    with pytest.raises(E.InvalidThreadParties) as info:
        validate_initial_thread_state(state, hub=HUB, contract=CONTRACT)
    assert info.value.revert_text() == f"InvalidThreadParties: {sender.lower()}, {receiver.lower()}"


@pytest.mark.parametrize(
    "wei, token, tx_count",
    [((5, 1), (0, 0), 0), ((5, 0), (3, 1), 0), ((5, 0), (0, 0), 1)],
    ids=["receiver-wei", "receiver-token", "tx-count"],
)
def test_validate_initial_refuses_non_initial_state(wei, token, tx_count):
    with pytest.raises(E.InvalidInitialThreadState) as info:
        validate_initial_thread_state(ThreadState(A, B, 1, wei, token, tx_count))
    assert info.value.revert_text() == "InvalidInitialThreadState"


@pytest.mark.parametrize("asset", ["wei", "token"])
def test_thread_amounts_limited_to_96_bits(asset):
    """The contract stores a disputed thread in two slots (startExitThread: ValueTooLarge above
    2^96 - 1), so no thread is opened, or accepted as initial state, beyond that."""
    from channel_manager.aliases import MAX_THREAD_AMOUNT

    assert MAX_THREAD_AMOUNT == 2**96 - 1
    at_limit = initial_thread_state(A, B, 1, **{asset: MAX_THREAD_AMOUNT})
    validate_initial_thread_state(at_limit)
    with pytest.raises(E.ValueTooLarge):
        initial_thread_state(A, B, 1, **{asset: MAX_THREAD_AMOUNT + 1})
    pair = (MAX_THREAD_AMOUNT + 1, 0)
    too_big = ThreadState(
        A, B, 1, pair if asset == "wei" else (0, 0), pair if asset == "token" else (0, 0), 0
    )
    with pytest.raises(E.ValueTooLarge):
        validate_initial_thread_state(too_big)


def test_initial_of_recovers_initial_from_any_later_state():
    initial = initial_thread_state(A, B, 3, wei=100, token=10)
    later = pay_in_thread(pay_in_thread(initial, wei=30), token=4)
    assert initial_of(later) == initial


# ------------------------------------------------------------------ payments


def test_pay_in_thread_moves_value_and_raises_tx_count():
    initial = initial_thread_state(A, B, 1, wei=100, token=10)
    state = pay_in_thread(initial, wei=30, token=3)
    assert state == ThreadState(A, B, 1, (70, 30), (7, 3), 1)
    assert pay_in_thread(state, wei=70) == ThreadState(A, B, 1, (0, 100), (7, 3), 2)


@pytest.mark.parametrize(
    "wei, token", [(101, 0), (0, 11), (-1, 0)], ids=["wei", "token", "negative"]
)
def test_pay_in_thread_refuses_more_than_sender_holds(wei, token):
    with pytest.raises(ValueError):
        pay_in_thread(initial_thread_state(A, B, 1, wei=100, token=10), wei=wei, token=token)


def test_pay_in_thread_refuses_a_payment_of_nothing():
    """A state that raises no receiver balance is not newer on chain (ThreadStateNotNewer), so
    the sender's helper never makes one."""
    with pytest.raises(ValueError, match="must move some value"):
        pay_in_thread(initial_thread_state(A, B, 1, wei=100, token=10))


PREV = ThreadState(A, B, 1, (70, 30), (7, 3), 4)


@pytest.mark.parametrize(
    "new, error, args",
    [
        (PREV.evolve(thread_id=2, tx_count=5), E.ThreadMismatch, ()),
        (PREV.evolve(receiver=C, tx_count=5), E.ThreadMismatch, ()),
        (PREV.evolve(sender=C, tx_count=5), E.ThreadMismatch, ()),
        (PREV.evolve(tx_count=5, wei_balances=(70, 31)), E.ThreadSumsChanged, ()),
        (PREV.evolve(tx_count=5, wei_balances=(69, 30)), E.ThreadSumsChanged, ()),
        (PREV.evolve(tx_count=5, token_balances=(7, 4)), E.ThreadSumsChanged, ()),
        (PREV.evolve(tx_count=5, wei_balances=(71, 29)), ReceiverBalanceLowered, ()),
        (PREV.evolve(tx_count=5, token_balances=(8, 2)), ReceiverBalanceLowered, ()),
        # one asset up, the other down: the contract would take it (per-asset maximum), the
        # receiver does not sign off on losing anything
        (
            PREV.evolve(tx_count=5, wei_balances=(60, 40), token_balances=(8, 2)),
            ReceiverBalanceLowered,
            (),
        ),
        (PREV.evolve(tx_count=9), E.ThreadStateNotNewer, (30, 3, 30, 3)),
        (PREV.evolve(tx_count=4, wei_balances=(60, 40)), ThreadTxCountNotRaised, (4, 4)),
        (PREV.evolve(tx_count=3, wei_balances=(60, 40)), ThreadTxCountNotRaised, (3, 4)),
        # the order: sums, then receiver balances, then txCount
        (
            PREV.evolve(tx_count=5, wei_balances=(90, 0), token_balances=(7, 4)),
            E.ThreadSumsChanged,
            (),
        ),
        (PREV.evolve(tx_count=4, wei_balances=(90, 10)), ReceiverBalanceLowered, ()),
        (PREV.evolve(tx_count=4), E.ThreadStateNotNewer, (30, 3, 30, 3)),
    ],
    ids=[
        "other-id",
        "other-receiver",
        "other-sender",
        "wei-sum-up",
        "wei-sum-down",
        "token-sum",
        "receiver-wei-down",
        "receiver-token-down",
        "one-asset-up-other-down",
        "nothing-raised",
        "equal-txcount",
        "lower-txcount",
        "sums-before-receiver",
        "receiver-before-txcount",
        "not-newer-before-txcount",
    ],
)
def test_validate_thread_update_refuses(new, error, args):
    with pytest.raises(error) as info:
        validate_thread_update(PREV, new)
    assert type(info.value) is error
    assert info.value.args == args


def test_receiver_refusals_are_offchain_rules_not_contract_errors():
    """docs/protocol.md §9: the contract has no txCount or lowered-balance error for threads."""
    assert issubclass(ThreadTxCountNotRaised, E.OffchainRuleBroken)
    assert issubclass(ReceiverBalanceLowered, E.OffchainRuleBroken)
    for gone in ("ThreadTxCountNotHigher", "ReceiverBalanceDecreased"):
        assert gone not in E.ERRORS and not hasattr(E, gone)
    assert {"ThreadStateNotNewer", "InvalidRecipient", "ThreadMismatch"} <= set(E.ERRORS)


def test_validate_thread_update_accepts_one_asset_raised_the_other_kept():
    validate_thread_update(PREV, PREV.evolve(tx_count=5, token_balances=(6, 4)))


# ------------------------------------------------------------------ closing


def opened(wei: int = ETHER // 10, token: int = 10):
    return open_thread(sender_channel(), receiver_channel(), 1, wei=wei, token=token)


def test_close_thread_releases_final_balances_in_sender_channel():
    opening = opened()
    final = pay_in_thread(opening.initial, wei=3 * ETHER // 100, token=3)
    closing = close_thread(opening.sender, opening.receiver, final)
    a = closing.sender.state
    # A gets the remainder back, the hub gets the receiver share (it paid B in B's channel)
    assert a.wei_balances == (3 * ETHER // 100, ETHER - 3 * ETHER // 100)
    assert a.token_balances == (53, 97)
    assert (a.thread_root, a.thread_count, a.tx_count) == (b"\x00" * 32, 0, (4, 1))
    check_successor(opening.sender, closing.sender)


def test_close_thread_releases_final_balances_in_receiver_channel():
    opening = opened()
    final = pay_in_thread(opening.initial, wei=3 * ETHER // 100, token=3)
    closing = close_thread(opening.sender, opening.receiver, final)
    b = closing.receiver.state
    # B gets its share, the hub gets the remainder of its collateral back
    assert b.wei_balances == (ETHER // 2 - 3 * ETHER // 100, ETHER + 3 * ETHER // 100)
    assert b.token_balances == (47, 103)
    assert (b.thread_root, b.thread_count, b.tx_count) == (b"\x00" * 32, 0, (4, 1))
    check_successor(opening.receiver, closing.receiver)


def test_close_thread_at_initial_state_restores_balances():
    opening = opened()
    closing = close_thread(opening.sender, opening.receiver, opening.initial)
    assert closing.sender.state.wei_balances == sender_channel().wei_balances
    assert closing.receiver.state.token_balances == receiver_channel().token_balances


def test_close_one_of_two_threads_keeps_the_other_provable():
    first = open_thread(sender_channel(), receiver_channel(B), 1, wei=100, token=1)
    second = open_thread(first.sender, receiver_channel(C), 2, wei=200, token=2)
    a_closed = release_thread(second.sender, pay_in_thread(first.initial, wei=40))
    assert a_closed.threads == (second.initial,)
    assert (a_closed.state.thread_root, a_closed.state.thread_count) == thread_fields(
        [second.initial]
    )
    assert a_closed.state.wei_balances == (40, ETHER - 300 + 60)
    assert merkle.verify(
        a_closed.proof(second.initial),
        a_closed.state.thread_root,
        thread_struct_hash(second.initial),
    )
    check_successor(second.sender, a_closed)


def test_close_thread_refuses_state_that_breaks_thread_rules():
    opening = opened(wei=100, token=0)
    bad = ThreadState(A, B, 1, (40, 60), (0, 0), 0)  # txCount 0 but value moved
    with pytest.raises(KeyError):  # its sums differ: no open thread has them
        close_thread(opening.sender, opening.receiver, bad.evolve(wei_balances=(50, 60)))
    with pytest.raises(ThreadTxCountNotRaised):
        close_thread(opening.sender, opening.receiver, bad)
    with pytest.raises(E.ThreadStateNotNewer):  # txCount raised, nothing paid
        close_thread(opening.sender, opening.receiver, opening.initial.evolve(tx_count=1))


def test_close_thread_refuses_unknown_thread():
    opening = opened()
    other = initial_thread_state(A, B, 2, wei=ETHER // 10, token=10)
    with pytest.raises(KeyError):
        close_thread(opening.sender, opening.receiver, other)


def test_close_thread_refuses_swapped_channels():
    opening = opened()
    with pytest.raises(ValueError, match="sender's and receiver's"):
        close_thread(opening.receiver, opening.sender, opening.initial)


def test_lock_thread_refuses_channel_of_another_user():
    initial = initial_thread_state(A, B, 1, wei=1)
    with pytest.raises(E.UserNotThreadParty):
        lock_thread(ThreadedChannel(sender_channel(C)), initial)


# ------------------------------------------------------------------ properties

amounts = st.integers(min_value=0, max_value=ETHER)


@FAST
@given(
    wei=st.integers(1, ETHER // 2),
    token=st.integers(0, 50),
    payments=st.lists(st.tuples(st.integers(0, ETHER // 8), st.integers(0, 20)), max_size=6),
)
def test_open_pay_close_conserves_value_and_moves_only_the_share(wei, token, payments):
    """A loses exactly what B gains; the hub ends where it started (it is only a router)."""
    opening = open_thread(sender_channel(), receiver_channel(), 1, wei=wei, token=token)
    state = opening.initial
    for pay_wei, pay_token in payments:
        pay_wei = min(pay_wei, state.wei_balances[0])
        pay_token = min(pay_token, state.token_balances[0])
        if not (pay_wei or pay_token):
            continue  # nothing left to pay (a payment of nothing is refused)
        nxt = pay_in_thread(state, wei=pay_wei, token=pay_token)
        validate_thread_update(state, nxt)
        state = nxt
    closing = close_thread(opening.sender, opening.receiver, state)
    check_successor(opening.sender, closing.sender)
    check_successor(opening.receiver, closing.receiver)
    a0, b0 = sender_channel(), receiver_channel()
    a1, b1 = closing.sender.state, closing.receiver.state
    share_wei, share_token = state.wei_balances[1], state.token_balances[1]
    assert a1.wei_balances[1] - a0.wei_balances[1] == -share_wei
    assert b1.wei_balances[1] - b0.wei_balances[1] == share_wei
    assert a1.token_balances[1] - a0.token_balances[1] == -share_token
    assert b1.token_balances[1] - b0.token_balances[1] == share_token
    hub_wei = a1.wei_balances[0] + b1.wei_balances[0] - a0.wei_balances[0] - b0.wei_balances[0]
    hub_token = (
        a1.token_balances[0] + b1.token_balances[0] - a0.token_balances[0] - b0.token_balances[0]
    )
    assert (hub_wei, hub_token) == (0, 0)


@FAST
@given(
    sizes=st.lists(st.tuples(st.integers(1, 10**15), st.integers(0, 5)), min_size=1, max_size=8),
    close_order=st.randoms(use_true_random=False),
)
def test_many_threads_open_and_close_in_any_order(sizes, close_order):
    """Every intermediate channel state passes the channel rules, commits to exactly the open
    threads, proves each of them, and the last close clears the root."""
    a = ThreadedChannel(sender_channel(A))
    receivers = {B: ThreadedChannel(receiver_channel(B)), C: ThreadedChannel(receiver_channel(C))}
    opened_threads: list[ThreadState] = []
    for i, (wei, token) in enumerate(sizes):
        to = B if i % 2 == 0 else C
        opening = open_thread(a, receivers[to], i, wei=wei, token=token)
        check_successor(a, opening.sender)
        check_successor(receivers[to], opening.receiver)
        a, receivers[to] = opening.sender, opening.receiver
        opened_threads.append(opening.initial)
        for t in a.threads:
            assert merkle.verify(a.proof(t), a.state.thread_root, thread_struct_hash(t))
    assert a.locked == locked_amounts(opened_threads)
    close_order.shuffle(opened_threads)
    for initial in opened_threads:
        closing = close_thread(a, receivers[initial.receiver], initial)
        check_successor(a, closing.sender)
        a, receivers[initial.receiver] = closing.sender, closing.receiver
        assert a.state.thread_count == len(a.threads)
        for t in a.threads:
            assert merkle.verify(a.proof(t), a.state.thread_root, thread_struct_hash(t))
    assert (a.state.thread_root, a.state.thread_count) == (b"\x00" * 32, 0)
    assert a.state.wei_balances == sender_channel(A).wei_balances
    assert a.state.token_balances == sender_channel(A).token_balances
    for user, channel in receivers.items():
        assert channel.state.wei_balances == receiver_channel(user).wei_balances
        assert channel.state.thread_count == 0


@FAST
@given(
    prev_receiver=st.tuples(amounts, amounts),
    new_receiver=st.tuples(amounts, amounts),
    tx=st.tuples(st.integers(0, 5), st.integers(0, 5)),
)
def test_validator_accepts_exactly_the_receiver_rule(prev_receiver, new_receiver, tx):
    """With fixed sums, an update passes iff txCount rises, no receiver balance falls and at
    least one rises."""
    total = 2 * ETHER
    prev = ThreadState(
        A,
        B,
        1,
        (total - prev_receiver[0], prev_receiver[0]),
        (total - prev_receiver[1], prev_receiver[1]),
        tx[0],
    )
    new = ThreadState(
        A,
        B,
        1,
        (total - new_receiver[0], new_receiver[0]),
        (total - new_receiver[1], new_receiver[1]),
        tx[1],
    )
    ok = (
        tx[1] > tx[0]
        and new_receiver[0] >= prev_receiver[0]
        and new_receiver[1] >= prev_receiver[1]
        and new_receiver != prev_receiver
    )
    try:
        validate_thread_update(prev, new)
    except (ThreadTxCountNotRaised, ReceiverBalanceLowered, E.ThreadStateNotNewer):
        assert not ok
    else:
        assert ok
