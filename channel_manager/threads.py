"""Threads off-chain: open, pay and close a thread, and the checks a party makes before signing.

A thread (docs/protocol.md §8) is a one-way sub-channel from a sender A to a receiver B, routed through the
hub without the hub holding the payment. It is locked in *both* users' channels:

- in A's channel, A's user balance drops by the thread amount (A funds its side);
- in B's channel, the hub's balance drops by the same amount (the hub collateralises B's side).

Both channel states carry the root of a merkle tree (`channel_manager.merkle`) whose leaves are
the struct hashes of the channel's open threads' *initial* states, in the order the threads were
opened, and `threadCount` = the number of those threads. The amounts locked in a channel are the
sums of those initial sender balances; they stay in the channel's on-chain total but in neither
balance, which is what `rules.validate_channel_update(..., locked_before=, locked_after=)` checks.

Inside the thread only the sender signs: each payment raises `txCount` by one and moves value
from the sender's to the receiver's balance; the sums never change. On chain the receiver's
balance of each asset is the highest any state shown gives it, whatever the txCounts
(docs/protocol.md §8); off-chain the receiver still refuses a state that lowers either of its
balances or does not raise txCount (`rules.validate_thread_update`), and every payment made
here raises at least one receiver balance, so no helper returns a state the contract refuses. Closing the thread
cooperatively releases the final balances into both channels (A's channel: A gets the sender
remainder back, the hub gets the receiver share — it paid B that share in B's channel; B's
channel: B gets its share, the hub gets the remainder) and drops the thread's leaf.

Nothing here signs: a wallet or hub signs what these helpers return after its own checks (they
already ran `validate_channel_update` and `validate_thread_update` on their results).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from channel_manager import errors as E
from channel_manager.aliases import (
    MAX_THREAD_AMOUNT,
    ZERO_ADDRESS,
    ZERO_BYTES32,
    Address,
    Bytes32,
)
from channel_manager.merkle import MerkleTree
from channel_manager.rules import validate_channel_update, validate_thread_update
from channel_manager.states import HUB, RECEIVER, SENDER, USER, ChannelState, ThreadState

Pair = tuple[int, int]


# ------------------------------------------------------------------ thread states


def initial_thread_state(
    sender: str, receiver: str, thread_id: int, *, wei: int = 0, token: int = 0
) -> ThreadState:
    """The initial state of a thread: the sender holds everything, txCount 0 (docs/protocol.md §8)."""
    if wei < 0 or token < 0:
        raise ValueError("thread amounts cannot be negative")
    if wei == 0 and token == 0:
        raise ValueError("a thread must lock a non-zero amount")
    if wei > MAX_THREAD_AMOUNT or token > MAX_THREAD_AMOUNT:
        raise E.ValueTooLarge(max(wei, token))
    return ThreadState(Address(sender), Address(receiver), thread_id, (wei, 0), (token, 0), 0)


def initial_of(state: ThreadState) -> ThreadState:
    """The initial state a later state descends from: the sums are fixed (ThreadSumsChanged),
    so they name the initial sender balances."""
    return ThreadState(
        state.sender, state.receiver, state.thread_id, (state.wei_sum, 0), (state.token_sum, 0), 0
    )


def validate_thread_parties(
    sender: str, receiver: str, *, hub: str | None = None, contract: str | None = None
) -> None:
    """Sender and receiver differ and are neither zero, the hub nor the contract
    (`InvalidThreadParties`). `hub`/`contract` are checked when given."""
    forbidden = {ZERO_ADDRESS.lower()}
    forbidden |= {a.lower() for a in (hub, contract) if a is not None}
    if (
        sender.lower() == receiver.lower()
        or sender.lower() in forbidden
        or receiver.lower() in forbidden
    ):
        raise E.InvalidThreadParties(sender, receiver)


def validate_initial_thread_state(
    initial: ThreadState, *, hub: str | None = None, contract: str | None = None
) -> None:
    """What the contract requires of an initial state, in its order: valid parties
    (`InvalidThreadParties`), then txCount 0 and zero receiver balances
    (`InvalidInitialThreadState`)."""
    validate_thread_parties(initial.sender, initial.receiver, hub=hub, contract=contract)
    if (
        initial.tx_count != 0
        or initial.wei_balances[RECEIVER] != 0
        or initial.token_balances[RECEIVER] != 0
    ):
        raise E.InvalidInitialThreadState(reason="initial state: txCount 0, receiver balances 0")
    for value in (initial.wei_balances[SENDER], initial.token_balances[SENDER]):
        if value > MAX_THREAD_AMOUNT:
            raise E.ValueTooLarge(value)


def pay_in_thread(prev: ThreadState, *, wei: int = 0, token: int = 0) -> ThreadState:
    """The next state of a thread after the sender pays the receiver `wei` and `token`:
    txCount + 1, value moved from the sender's to the receiver's balance. The sender signs it.
    A payment of nothing is refused: on chain it would not be newer (`ThreadStateNotNewer`)."""
    if wei < 0 or token < 0:
        raise ValueError("a thread payment cannot be negative")
    if wei == 0 and token == 0:
        raise ValueError("a thread payment must move some value (wei or token)")
    if wei > prev.wei_balances[SENDER] or token > prev.token_balances[SENDER]:
        raise ValueError("thread payment exceeds the sender's balance")
    (ws, wr), (ts, tr) = prev.wei_balances, prev.token_balances
    new = prev.evolve(
        wei_balances=(ws - wei, wr + wei),
        token_balances=(ts - token, tr + token),
        tx_count=prev.tx_count + 1,
    )
    validate_thread_update(prev, new)
    return new


# ------------------------------------------------------------------ channels with threads


def locked_amounts(threads: Iterable[ThreadState]) -> Pair:
    """(wei, token) locked by open threads: the sums of their initial sender balances."""
    wei = token = 0
    for t in threads:
        wei += t.wei_sum
        token += t.token_sum
    return wei, token


def thread_tree(threads: Sequence[ThreadState]) -> MerkleTree:
    """The tree whose leaves are the given initial states' struct hashes, in that order."""
    return MerkleTree.of_threads(threads)


def thread_fields(threads: Sequence[ThreadState]) -> tuple[Bytes32, int]:
    """(threadRoot, threadCount) of a channel whose open threads are `threads`."""
    if not threads:
        return ZERO_BYTES32, 0
    return thread_tree(threads).root, len(threads)


@dataclass(frozen=True, slots=True)
class ThreadedChannel:
    """A channel's newest double-signed state together with the initial states of its open
    threads, in leaf order. The pair is consistent: the state's root and count are theirs."""

    state: ChannelState
    threads: tuple[ThreadState, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "threads", tuple(self.threads))
        root, count = thread_fields(self.threads)
        if (self.state.thread_root, self.state.thread_count) != (root, count):
            raise ValueError("the state's threadRoot/threadCount do not commit to these threads")
        for t in self.threads:
            if self.state.user not in (t.sender, t.receiver):
                raise ValueError(f"thread {t.key} does not involve {self.state.user}")
            validate_initial_thread_state(t)

    @property
    def user(self) -> str:
        return self.state.user

    @property
    def locked(self) -> Pair:
        """(wei, token) locked in the open threads (in the on-chain total, in no balance)."""
        return locked_amounts(self.threads)

    def proof(self, initial: ThreadState) -> list[bytes]:
        """Merkle proof of `initial` in this channel's thread root (for the thread disputes)."""
        return thread_tree(self.threads).thread_proof(initial)

    def find(self, sender: str, receiver: str, thread_id: int) -> ThreadState:
        """The open thread's initial state with this key; KeyError if it is not open here."""
        for t in self.threads:
            if t.key == (sender, receiver, thread_id):
                return t
        raise KeyError(f"thread {(sender, receiver, thread_id)} is not open in this channel")


def _next_channel_state(
    prev: ThreadedChannel,
    threads: tuple[ThreadState, ...],
    wei_balances: Pair,
    token_balances: Pair,
) -> ThreadedChannel:
    """prev with new balances and threads, global txCount + 1, no timeout; checked against the
    channel rules with the locked amounts before and after."""
    if prev.state.has_pending:
        raise ValueError("acknowledge or void the pending updates before changing threads")
    root, count = thread_fields(threads)
    g, c = prev.state.tx_count
    new = prev.state.evolve(
        wei_balances=wei_balances,
        token_balances=token_balances,
        tx_count=(g + 1, c),
        thread_root=root,
        thread_count=count,
        timeout=0,
    )
    validate_channel_update(
        prev.state, new, locked_before=prev.locked, locked_after=locked_amounts(threads)
    )
    return ThreadedChannel(new, threads)


def lock_thread(channel: ThreadedChannel, initial: ThreadState) -> ThreadedChannel:
    """The next state of the sender's or the receiver's channel with `initial` opened.

    Sender's channel: the user's balances drop by the thread amount. Receiver's channel: the
    hub's balances drop by it (the hub collateralises the receiver side). The leaf is appended.
    """
    validate_initial_thread_state(initial)
    if any(t.key == initial.key for t in channel.threads):
        raise ValueError(f"thread {initial.key} is already open; raise threadId to reopen")
    side = _side(channel, initial)
    wei, token = initial.wei_sum, initial.token_sum
    w, t = list(channel.state.wei_balances), list(channel.state.token_balances)
    if w[side] < wei or t[side] < token:
        who = "sender" if side == USER else "hub"
        raise ValueError(f"the {who}'s balance in {channel.user}'s channel cannot fund the thread")
    w[side] -= wei
    t[side] -= token
    return _next_channel_state(channel, (*channel.threads, initial), (w[0], w[1]), (t[0], t[1]))


def release_thread(channel: ThreadedChannel, final: ThreadState) -> ThreadedChannel:
    """The next state of the sender's or the receiver's channel with the thread closed at
    `final` (its newest sender-signed state, or the initial state if nothing was paid).

    Sender's channel: the user gets the sender remainder back, the hub gets the receiver share.
    Receiver's channel: the user gets the receiver share, the hub gets the sender remainder.
    The thread's leaf is dropped (the remaining leaves keep their order).
    """
    initial = initial_of(final)
    if initial not in channel.threads:
        raise KeyError(f"thread {final.key} with these sums is not open in this channel")
    if final != initial:
        validate_thread_update(initial, final)
    side = _side(channel, initial)
    (ws, wr), (ts, tr) = final.wei_balances, final.token_balances
    (wh, wu), (th, tu) = channel.state.wei_balances, channel.state.token_balances
    if side == USER:  # sender's channel
        wei, token = (wh + wr, wu + ws), (th + tr, tu + ts)
    else:  # receiver's channel
        wei, token = (wh + ws, wu + wr), (th + ts, tu + tr)
    remaining = tuple(t for t in channel.threads if t != initial)
    return _next_channel_state(channel, remaining, wei, token)


def _side(channel: ThreadedChannel, initial: ThreadState) -> int:
    """Whose balance funds the thread in this channel: USER for the sender's, HUB for the
    receiver's."""
    if channel.user == initial.sender:
        return USER
    if channel.user == initial.receiver:
        return HUB
    raise E.UserNotThreadParty(channel.user)


# ------------------------------------------------------------------ both channels at once


@dataclass(frozen=True, slots=True)
class ThreadOpening:
    """A new thread and the next states of both channels that lock it (hub and user sign each)."""

    initial: ThreadState
    sender: ThreadedChannel
    receiver: ThreadedChannel


@dataclass(frozen=True, slots=True)
class ThreadClosing:
    """The next states of both channels after a cooperative close at `final`."""

    final: ThreadState
    sender: ThreadedChannel
    receiver: ThreadedChannel


def open_thread(
    sender: ThreadedChannel | ChannelState,
    receiver: ThreadedChannel | ChannelState,
    thread_id: int,
    *,
    wei: int = 0,
    token: int = 0,
    hub: str | None = None,
) -> ThreadOpening:
    """Open thread `thread_id` from `sender`'s user to `receiver`'s user for `wei` and `token`.

    `sender` and `receiver` are the newest acknowledged states of the two channels (a bare
    `ChannelState` means the channel has no open thread). Returns the initial thread state
    (txCount 0, receiver balances 0) and both channels' next states. A thread between the same
    pair that was ever disputed must not be reopened with the same id (docs/protocol.md §8): the caller
    picks a fresh `thread_id`.
    """
    a, b = _threaded(sender), _threaded(receiver)
    initial = initial_thread_state(a.user, b.user, thread_id, wei=wei, token=token)
    validate_thread_parties(initial.sender, initial.receiver, hub=hub)
    return ThreadOpening(initial, lock_thread(a, initial), lock_thread(b, initial))


def close_thread(
    sender: ThreadedChannel, receiver: ThreadedChannel, final: ThreadState
) -> ThreadClosing:
    """Close the thread cooperatively at `final` in both channels (see `release_thread`)."""
    if sender.user != final.sender or receiver.user != final.receiver:
        raise ValueError("the channels are not the thread's sender's and receiver's")
    return ThreadClosing(final, release_thread(sender, final), release_thread(receiver, final))


def _threaded(channel: ThreadedChannel | ChannelState) -> ThreadedChannel:
    return channel if isinstance(channel, ThreadedChannel) else ThreadedChannel(channel)


__all__ = [
    "ThreadClosing",
    "ThreadOpening",
    "ThreadedChannel",
    "close_thread",
    "initial_of",
    "initial_thread_state",
    "lock_thread",
    "locked_amounts",
    "open_thread",
    "pay_in_thread",
    "release_thread",
    "thread_fields",
    "thread_tree",
    "validate_initial_thread_state",
    "validate_thread_parties",
    "validate_thread_update",
]
