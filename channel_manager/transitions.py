"""Next-state helpers for a hub and a wallet. Each takes the newest double-signed state and
returns the next one with the right txCounts (docs/protocol.md §4); none signs anything. Run
`rules.validate_channel_update(prev, new, ...)` before signing what they return.

txCount rules applied here: every new state raises `txCount[0]` by one; a state that introduces
pending updates raises `txCount[1]` by one; the state that acknowledges executed pending updates
keeps `txCount[1]`; the state that voids an expired, unexecuted proposal raises it once more.
"""

from __future__ import annotations

from channel_manager.states import HUB, USER, ChannelState

_ZERO4 = (0, 0, 0, 0)


def _next(prev: ChannelState, *, onchain_bump: bool, **changes: object) -> ChannelState:
    g, c = prev.tx_count
    return prev.evolve(tx_count=(g + 1, c + 1 if onchain_bump else c), **changes)


def _require_no_pending(prev: ChannelState, action: str) -> None:
    if prev.has_pending:
        raise ValueError(
            f"cannot {action} while pending updates await execution or acknowledgement"
        )


def settle(balances: tuple[int, int], pending: tuple[int, ...], executed: bool) -> tuple[int, int]:
    """docs/protocol.md §4, per side: the `(hub, user)` balances after the pending updates were executed
    (apply) or not (revert). The contract's `_settle` and the model use the same rule."""

    def side(deposit: int, withdrawal: int) -> int:
        if deposit > withdrawal:
            return deposit - withdrawal if executed else 0
        return 0 if executed else withdrawal - deposit

    return balances[HUB] + side(pending[0], pending[1]), balances[USER] + side(
        pending[2], pending[3]
    )


def settle_state(prev: ChannelState, executed: bool) -> tuple[tuple[int, int], tuple[int, int]]:
    """(wei, token) balances of `prev` after its pending updates were applied or reverted."""
    return (
        settle(prev.wei_balances, prev.pending_wei_updates, executed),
        settle(prev.token_balances, prev.pending_token_updates, executed),
    )


def propose_deposit(
    prev: ChannelState,
    *,
    user_wei: int = 0,
    user_token: int = 0,
    hub_wei: int = 0,
    hub_token: int = 0,
    timeout: int = 0,
) -> ChannelState:
    """Deposits to execute on-chain (user's from the user, hub's from the reserve)."""
    _require_no_pending(prev, "propose a deposit")
    if not any((user_wei, user_token, hub_wei, hub_token)):
        raise ValueError("a deposit proposal needs a non-zero amount")
    return _next(
        prev,
        onchain_bump=True,
        pending_wei_updates=(hub_wei, 0, user_wei, 0),
        pending_token_updates=(hub_token, 0, user_token, 0),
        timeout=timeout,
    )


def propose_withdrawal(
    prev: ChannelState,
    *,
    user_wei: int = 0,
    user_token: int = 0,
    hub_wei: int = 0,
    hub_token: int = 0,
    recipient: str | None = None,
    timeout: int = 0,
) -> ChannelState:
    """Withdrawals: the balances already drop by them (docs/protocol.md §4: net withdrawals are deducted
    off-chain); the user's go to `recipient`, the hub's back to its reserve."""
    _require_no_pending(prev, "propose a withdrawal")
    (wh, wu), (th, tu) = prev.wei_balances, prev.token_balances
    if user_wei > wu or user_token > tu or hub_wei > wh or hub_token > th:
        raise ValueError("cannot withdraw more than the side's balance")
    return _next(
        prev,
        onchain_bump=True,
        wei_balances=(wh - hub_wei, wu - user_wei),
        token_balances=(th - hub_token, tu - user_token),
        pending_wei_updates=(0, hub_wei, 0, user_wei),
        pending_token_updates=(0, hub_token, 0, user_token),
        recipient=recipient or prev.recipient,
        timeout=timeout,
    )


def acknowledge(prev: ChannelState) -> ChannelState:
    """The pending updates were executed on-chain: fold them into the balances."""
    return _settled(prev, executed=True, what="acknowledge")


def void_pending(prev: ChannelState) -> ChannelState:
    """The proposal's timeout passed unexecuted: restore what it deducted, raise txCount[1]."""
    return _settled(prev, executed=False, what="void")


def _settled(prev: ChannelState, *, executed: bool, what: str) -> ChannelState:
    """The next state with the pending updates settled; only a voided proposal raises txCount[1]."""
    if not prev.has_pending:
        raise ValueError(f"nothing pending to {what}")
    wei, token = settle_state(prev, executed=executed)
    return _next(
        prev,
        onchain_bump=not executed,
        wei_balances=wei,
        token_balances=token,
        pending_wei_updates=_ZERO4,
        pending_token_updates=_ZERO4,
        timeout=0,
    )


def pay(prev: ChannelState, *, to_hub: bool, wei: int = 0, token: int = 0) -> ChannelState:
    """A payment inside the channel (user → hub if `to_hub`, else hub → user)."""
    src, dst = (USER, HUB) if to_hub else (HUB, USER)
    w, t = list(prev.wei_balances), list(prev.token_balances)
    if wei < 0 or token < 0 or w[src] < wei or t[src] < token:
        raise ValueError("payment exceeds the payer's balance")
    w[src] -= wei
    w[dst] += wei
    t[src] -= token
    t[dst] += token
    return _next(prev, onchain_bump=False, wei_balances=tuple(w), token_balances=tuple(t))


def swap(
    prev: ChannelState,
    *,
    user_sells_token: int = 0,
    user_buys_wei: int = 0,
    user_sells_wei: int = 0,
    user_buys_token: int = 0,
) -> ChannelState:
    """An exchange between the sides at a price the two agreed (both legs in one state)."""
    (wh, wu), (th, tu) = prev.wei_balances, prev.token_balances
    wu2 = wu + user_buys_wei - user_sells_wei
    wh2 = wh - user_buys_wei + user_sells_wei
    tu2 = tu + user_buys_token - user_sells_token
    th2 = th - user_buys_token + user_sells_token
    if min(wu2, wh2, tu2, th2) < 0:
        raise ValueError("swap exceeds a side's balance")
    return _next(prev, onchain_bump=False, wei_balances=(wh2, wu2), token_balances=(th2, tu2))
