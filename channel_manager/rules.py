"""The checks a hub or wallet makes before signing (or, for threads, accepting) a new state.

`validate_channel_update(prev, new)` raises an exception named like the contract error where
the contract has one (StaleTxCount, StaleOnchainTxCount, StateExpired, ValueTooLarge, …) and an
`OffchainRuleBroken` subclass for rules only the signers can check: value conserved, pending
updates carried unchanged until acknowledged, the user and thread fields consistent.

`validate_thread_update(prev, new)` is the check a thread's receiver makes before accepting a
sender-signed state. On chain, receiver balances order thread states per asset and txCount
decides nothing (docs/protocol.md §8); off-chain the receiver is stricter: a state must raise
txCount and must not lower its balance of either asset (`ThreadTxCountNotRaised`,
`ReceiverBalanceLowered`), so its newest state is always also its best one on chain.
"""

from __future__ import annotations

from channel_manager import errors as E
from channel_manager.aliases import MAX_AMOUNT, MAX_THREAD_COUNT, MAX_TX_COUNT, ZERO_BYTES32
from channel_manager.states import RECEIVER, ChannelState, ThreadState
from channel_manager.transitions import settle_state


class BalancesNotConserved(E.OffchainRuleBroken):
    """The new state creates or destroys value."""


class PendingChanged(E.OffchainRuleBroken):
    """Pending updates changed before being acknowledged, or appeared without a txCount[1] bump."""


class ChannelIdentityChanged(E.OffchainRuleBroken):
    """The new state names another user."""


class ThreadFieldsInconsistent(E.OffchainRuleBroken):
    """threadRoot and threadCount disagree (zero root iff no thread)."""


class ThreadTxCountNotRaised(E.OffchainRuleBroken):
    """A thread state whose txCount is not above the previous one's (args: given, previous)."""


class ReceiverBalanceLowered(E.OffchainRuleBroken):
    """A thread state that gives the receiver less of an asset than the previous one."""


def _net_withdrawals(pending: tuple[int, ...]) -> int:
    return max(pending[1] - pending[0], 0) + max(pending[3] - pending[2], 0)


def _value(balances: tuple[int, int], pending: tuple[int, ...]) -> int:
    """What a state allocates of one asset before its pending updates execute."""
    return balances[0] + balances[1] + _net_withdrawals(pending)


def validate_channel_update(
    prev: ChannelState | None,
    new: ChannelState,
    *,
    pending_executed: bool | None = None,
    locked_before: tuple[int, int] = (0, 0),
    locked_after: tuple[int, int] = (0, 0),
    now: int | None = None,
) -> None:
    """Refuse to sign `new` after `prev` (None: the channel's first state) unless it follows
    the rules. `pending_executed` says, when `new` drops `prev`'s pending updates, whether they
    were executed on-chain (acknowledge) or expired unexecuted (void). `locked_*` are the
    (wei, token) amounts locked in open threads before and after, which count as channel value.
    """
    check_storable(new)
    check_thread_fields(new)
    if now is not None and new.timeout != 0 and now >= new.timeout:
        raise E.StateExpired(new.timeout, now)
    if prev is None:
        prev = ChannelState(new.user, new.user)
    if new.user != prev.user:
        raise ChannelIdentityChanged(reason=f"user {new.user} != {prev.user}")
    if new.tx_count[0] <= prev.tx_count[0]:
        raise E.StaleTxCount(new.tx_count[0], prev.tx_count[0], reason="nonce not higher")
    if new.tx_count[1] < prev.tx_count[1]:
        raise E.StaleOnchainTxCount(new.tx_count[1], prev.tx_count[1])

    same_pending = (
        new.pending_wei_updates == prev.pending_wei_updates
        and new.pending_token_updates == prev.pending_token_updates
    )
    if prev.has_pending and same_pending:
        mode = "carry"
        if new.tx_count[1] != prev.tx_count[1]:
            raise PendingChanged(reason="txCount[1] must stay while the same updates are pending")
    elif prev.has_pending and not new.has_pending:
        if pending_executed is None:
            raise PendingChanged(reason="say whether the pending updates were executed or voided")
        mode = "ack" if pending_executed else "void"
        expected = prev.tx_count[1] + (0 if pending_executed else 1)
        if new.tx_count[1] != expected:
            raise PendingChanged(reason=f"txCount[1] must be {expected} after this {mode}")
    elif prev.has_pending:
        raise PendingChanged(reason="pending changed while pending: acknowledge or void them first")
    elif new.has_pending:
        mode = "propose"
        if new.tx_count[1] != prev.tx_count[1] + 1:
            raise PendingChanged(
                reason="a state introducing pending updates raises txCount[1] by one"
            )
    else:
        mode = "plain"
        if new.tx_count[1] != prev.tx_count[1]:
            raise PendingChanged(reason="txCount[1] changes only with pending updates")

    if mode in ("ack", "void"):
        wei_before, token_before = (sum(x) for x in settle_state(prev, executed=mode == "ack"))
    else:
        wei_before = _value(prev.wei_balances, prev.pending_wei_updates)
        token_before = _value(prev.token_balances, prev.pending_token_updates)
    wei_after = _value(new.wei_balances, new.pending_wei_updates)
    token_after = _value(new.token_balances, new.pending_token_updates)
    if wei_after + locked_after[0] != wei_before + locked_before[0]:
        raise BalancesNotConserved(
            reason=f"ETH {wei_before + locked_before[0]} -> {wei_after + locked_after[0]}"
        )
    if token_after + locked_after[1] != token_before + locked_before[1]:
        raise BalancesNotConserved(
            reason=f"token {token_before + locked_before[1]} -> {token_after + locked_after[1]}"
        )


def check_storable(s: ChannelState) -> None:
    """Every field fits the contract's storage packing (`ValueTooLarge(value)` otherwise), checked
    in the contract's order, so the value named is the one the chain would name."""
    for i in range(2):
        for value, limit in (
            (s.wei_balances[i], MAX_AMOUNT),
            (s.token_balances[i], MAX_AMOUNT),
            (s.tx_count[i], MAX_TX_COUNT),
        ):
            if value > limit:
                raise E.ValueTooLarge(value)
    for i in range(4):
        for value in (s.pending_wei_updates[i], s.pending_token_updates[i]):
            if value > MAX_AMOUNT:
                raise E.ValueTooLarge(value)
    if s.thread_count > MAX_THREAD_COUNT:
        raise E.ValueTooLarge(s.thread_count)


def check_thread_fields(s: ChannelState) -> None:
    """A zero thread root goes with threadCount 0 and only with it (`ThreadFieldsInconsistent`)."""
    if (s.thread_root == ZERO_BYTES32) != (s.thread_count == 0):
        raise ThreadFieldsInconsistent(reason="a zero thread root must go with threadCount 0")


def validate_thread_update(prev: ThreadState, new: ThreadState) -> None:
    """Refuse `new` as the successor of `prev` (the initial state or a later one) unless the
    receiver should accept it. In this order: the same thread (`ThreadMismatch`), the same sum of
    each asset (`ThreadSumsChanged`), no receiver balance lower (`ReceiverBalanceLowered`), at
    least one receiver balance higher (`ThreadStateNotNewer(offered wei, offered token, held wei,
    held token)`, as the contract refuses a state that raises none over the one it holds), a
    higher txCount (`ThreadTxCountNotRaised(given, previous)`).
    A state that passes raises the receiver's balances on chain over `prev` in every asset it
    touches (docs/protocol.md §8)."""
    if new.key != prev.key:
        raise E.ThreadMismatch(reason=f"{new.key} is not {prev.key}")
    if new.wei_sum != prev.wei_sum or new.token_sum != prev.token_sum:
        raise E.ThreadSumsChanged(
            reason=f"sums ({new.wei_sum}, {new.token_sum}) != ({prev.wei_sum}, {prev.token_sum})"
        )
    lowered = [
        asset
        for asset, before, after in (
            ("ETH", prev.wei_balances[RECEIVER], new.wei_balances[RECEIVER]),
            ("token", prev.token_balances[RECEIVER], new.token_balances[RECEIVER]),
        )
        if after < before
    ]
    if lowered:
        raise ReceiverBalanceLowered(reason=f"the receiver's {' and '.join(lowered)} balance falls")
    offered = (new.wei_balances[RECEIVER], new.token_balances[RECEIVER])
    held = (prev.wei_balances[RECEIVER], prev.token_balances[RECEIVER])
    if offered == held:
        raise E.ThreadStateNotNewer(
            *offered, *held, reason="the state pays the receiver nothing more"
        )
    if new.tx_count <= prev.tx_count:
        raise ThreadTxCountNotRaised(new.tx_count, prev.tx_count, reason="thread nonce not higher")
