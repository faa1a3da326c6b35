"""Why the contract would refuse a call, in words an operator can act on: the reference
model's twin of the call runs first (`preflight`), and a broken rule becomes one line naming
the error, its amounts in whole units and a hint."""

from __future__ import annotations

from typing import Any

from channel_manager import errors as E
from channel_manager.model import ChannelManagerModel
from channel_manager.ops import OpsError
from channel_manager.ops.display import fmt_units

# Why the contract would refuse, in words an operator can act on.
EXPLAIN = {
    "StaleTxCount": "the contract already holds a state at least this new; submit a newer one",
    "StaleOnchainTxCount": "txCount[1] is below the stored onchain count",
    "PendingAlreadyExecuted": "these pending updates were executed already (txCount[1] not raised)",
    "TimeSensitiveState": "a state with a timeout cannot be used in a dispute",
    "ChallengeWindowOpen": "the challenge window is still open; wait until it closes",
    "NukeTooEarly": "threads can be nuked only 10 challenge periods after the channel's closing time",
    "WrongChannelStatus": "the channel is not in the status this action needs",
    "CallerIsExitInitiator": "the party that started the dispute cannot answer it",
    "InsufficientReserve": "the hub reserve is too small: fund it first (scripts/hub.py fund)",
    "InsufficientChannelFunds": "the channel cannot fund these balances and withdrawals",
    "BalancesExceedTotal": "the balances exceed what the channel holds",
    "InvalidHubSignature": "the hub's signature does not verify",
    "InvalidUserSignature": "the user's signature does not verify",
    "InvalidThreadSignature": "the sender's signature does not verify",
    "NotHub": "only the hub may do this: use the hub's account",
    "NotHubOrUser": "only the hub or the channel's user may do this",
    "NotUser": "only the channel's user may submit a user-authorized update",
    "NotThreadParty": "only the hub, the sender or the receiver may challenge a thread",
    "ThreadNotInRoot": "the initial thread state is not in the channel's thread root (wrong proof?)",
    "ThreadNotDisputed": "the thread is not in dispute",
    "ThreadAlreadyDisputed": "the thread was disputed before and cannot be again",
    "ThreadStateNotNewer": "the state raises no receiver balance above what the contract holds",
    "ThreadMismatch": "the thread state is not the disputed thread's (other parties, id or sums)",
    "ThreadSideAlreadyEmptied": "this side of the thread was settled already",
    "ThreadSumsChanged": "the thread state changes the thread's sums",
    "NothingToClaim": "the account has no credit to claim",
    "InvalidUser": "the user is the zero address, the hub or the contract",
}


# Errors whose arguments are amounts: shown in units of 10^18 (ETH, and Dai-like tokens), not wei.
AMOUNT_ARGS = {
    "InsufficientReserve": ("requested", "reserve"),
    "InsufficientChannelFunds": ("required", "available"),
    "BalancesExceedTotal": ("hub", "user", "total"),
    "WrongDepositValue": ("sent", "expected"),
    "TokenTransferShortfall": ("expected", "received"),
    "ValueTooLarge": ("value",),
}


def explain(error: E.ChannelError) -> str:
    if error.name in ("ChallengeWindowClosed", "StateExpired") and len(error.args) == 2:
        deadline, now = (int(a) for a in error.args)
        what = (
            "the challenge window closed"
            if error.name == "ChallengeWindowClosed"
            else "the state expired"
        )
        return f"{error.revert_text()} (deadline already passed: {what} at {deadline}, {now - deadline} s before now)"
    text = error.revert_text()
    names = AMOUNT_ARGS.get(error.name)
    if names and len(names) == len(error.args):
        shown = ", ".join(f"{n} {fmt_units(a)}" for n, a in zip(names, error.args, strict=True))
        text = f"{error.name}: {shown} (in units of 10^18 base units)"
    hint = EXPLAIN.get(error.name)
    return f"{text} ({hint})" if hint else text


def preflight(
    model: ChannelManagerModel, method: str, caller: str, now: int, *args: Any, **kw: Any
) -> None:
    """Run the model's twin of the contract call; a broken rule becomes a one-line OpsError."""
    try:
        getattr(model, method)(caller, now, *args, **kw)
    except E.ChannelError as exc:
        raise OpsError(f"refused before sending: {explain(exc)}") from None
