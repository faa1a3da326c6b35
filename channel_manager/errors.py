"""Exceptions named exactly like the contract's custom errors (IChannelManager).

The reference model and the signing validator raise them, so an off-chain refusal and an
on-chain revert read the same. `revert_text()` gives brownie's decoded form
(`"StaleTxCount: 3, 5"`) for comparing with a revert on the chain.
"""

from __future__ import annotations

from typing import Any


class ChannelError(Exception):
    """A broken protocol rule; `args` are the error's arguments in the contract's order."""

    def __init__(self, *args: Any, reason: str = "") -> None:
        super().__init__(*args)
        self.reason = reason

    @property
    def name(self) -> str:
        return type(self).__name__

    def revert_text(self) -> str:
        if not self.args:
            return self.name
        return f"{self.name}: " + ", ".join(_fmt(a) for a in self.args)

    def __str__(self) -> str:
        text = self.revert_text()
        return f"{text} ({self.reason})" if self.reason else text


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, bytes):
        return repr(bytes(value))  # brownie decodes bytes32 arguments as Python bytes
    text = str(value)
    # brownie prints addresses (and hashes) in lower case
    return text.lower() if text.startswith("0x") else text


# One subclass per contract error, in the interface's order; tests/offchain/test_error_names.py
# checks that the names are exactly the ABI's errors.


class InvalidConfiguration(ChannelError):
    """`InvalidConfiguration(hub, challengePeriod, approvedToken)`: Constructor arguments out of
    range: zero hub, token without code, or a challenge period outside `[1, 365 days]`."""


class NotHub(ChannelError):
    """`NotHub(caller)`: Only the hub may call this."""


class NotHubOrUser(ChannelError):
    """`NotHubOrUser(caller, user)`: Only the hub or the channel's user may call this."""


class NotUser(ChannelError):
    """`NotUser(caller, user)`: Only the channel's user may call this (userAuthorizedUpdate)."""


class NotThreadParty(ChannelError):
    """`NotThreadParty(caller)`: Only the hub, the thread's sender or its receiver may call this."""


class InvalidUser(ChannelError):
    """`InvalidUser(user)`: The user is zero, the hub or this contract."""


class WrongChannelStatus(ChannelError):
    """`WrongChannelStatus(user, status)`: The channel is not in the status this call needs."""


class CallerIsExitInitiator(ChannelError):
    """`CallerIsExitInitiator(caller)`: The exit initiator may not answer or end its own dispute
    early."""


class StateExpired(ChannelError):
    """`StateExpired(timeout, timestamp)`: The state's timeout has passed (`block.timestamp >=
    timeout`)."""


class TimeSensitiveState(ChannelError):
    """`TimeSensitiveState(timeout)`: A state with a timeout cannot be used in a dispute."""


class StaleTxCount(ChannelError):
    """`StaleTxCount(given, stored)`: The state's global txCount is not above the stored one."""


class StaleOnchainTxCount(ChannelError):
    """`StaleOnchainTxCount(given, stored)`: The state's onchain txCount is below the stored one."""


class PendingAlreadyExecuted(ChannelError):
    """`PendingAlreadyExecuted(given, stored)`: The state's pending updates were already executed
    (onchain txCount not raised)."""


class BalancesExceedTotal(ChannelError):
    """`BalancesExceedTotal(hubBalance, userBalance, total)`: hub + user balances exceed the channel
    total."""


class InsufficientReserve(ChannelError):
    """`InsufficientReserve(requested, reserve)`: The hub reserve cannot cover the amount taken from
    it."""


class InsufficientChannelFunds(ChannelError):
    """`InsufficientChannelFunds(required, available)`: The channel cannot fund the balances and
    withdrawals (or the thread's amount)."""


class WrongDepositValue(ChannelError):
    """`WrongDepositValue(sent, expected)`: `msg.value` differs from the user's pending ETH
    deposit."""


class TokenTransferShortfall(ChannelError):
    """`TokenTransferShortfall(expected, received)`: The token delivered less than the deposit asked
    for (fee-on-transfer tokens)."""


class InvalidHubSignature(ChannelError):
    """`InvalidHubSignature()`: The hub's signature is missing, malformed or by another key."""


class InvalidUserSignature(ChannelError):
    """`InvalidUserSignature(user)`: The user's signature (ECDSA or ERC-1271) is invalid."""


class InvalidThreadSignature(ChannelError):
    """`InvalidThreadSignature(sender)`: The thread state is not signed by its sender."""


class ChallengeWindowClosed(ChannelError):
    """`ChallengeWindowClosed(closingTime, timestamp)`: The challenge window closed at
    `closingTime`."""


class ChallengeWindowOpen(ChannelError):
    """`ChallengeWindowOpen(closingTime, timestamp)`: The challenge window is open until
    `closingTime`."""


class NukeTooEarly(ChannelError):
    """`NukeTooEarly(nukeTime, timestamp)`: `nukeThreads` is possible from `nukeTime` on."""


class InvalidThreadParties(ChannelError):
    """`InvalidThreadParties(sender, receiver)`: Sender equals receiver, or one of them is zero, the
    hub or this contract."""


class UserNotThreadParty(ChannelError):
    """`UserNotThreadParty(user)`: The user named in the call is neither the thread's sender nor its
    receiver."""


class InvalidInitialThreadState(ChannelError):
    """`InvalidInitialThreadState()`: An initial thread state must have txCount 0 and zero receiver
    balances."""


class ThreadNotInRoot(ChannelError):
    """`ThreadNotInRoot(leaf, root)`: The initial thread state is not in the channel's thread
    root."""


class ThreadAlreadyDisputed(ChannelError):
    """`ThreadAlreadyDisputed(sender, receiver, threadId)`: The thread was disputed before; it can
    never be disputed again."""


class ThreadNotDisputed(ChannelError):
    """`ThreadNotDisputed(sender, receiver, threadId)`: The thread is not in dispute."""


class ThreadMismatch(ChannelError):
    """`ThreadMismatch()`: The update names another thread than the initial state, or the initial
    state is not the one the thread's dispute record was started from (its sums differ)."""


class ThreadStateNotNewer(ChannelError):
    """`ThreadStateNotNewer(weiReceiver, tokenReceiver, storedWei, storedToken)`: The thread update
    raises neither receiver balance above the stored one."""


class ThreadSumsChanged(ChannelError):
    """`ThreadSumsChanged()`: The thread update changes the sum of an asset."""


class ThreadSideAlreadyEmptied(ChannelError):
    """`ThreadSideAlreadyEmptied(user)`: This side of the thread was already settled."""


class NothingToClaim(ChannelError):
    """`NothingToClaim(caller)`: The caller has no credit."""


class TransferFailed(ChannelError):
    """`TransferFailed(to)`: A transfer that must succeed failed."""


class InvalidRecipient(ChannelError):
    """`InvalidRecipient(recipient)`: The recipient of a withdrawal or claim is the contract itself
    (or zero, for claim)."""


class ValueTooLarge(ChannelError):
    """`ValueTooLarge(value)`: An amount above 2^128 − 1, a thread's initial sender balance above
    2^96 − 1, or a counter above 2^64 − 1 (storage packing)."""


# docs/protocol.md §9: v2's ThreadTxCountNotHigher and ReceiverBalanceDecreased are no contract
# errors any more (receiver balances order thread states on chain, §8). A receiver still refuses
# such states before accepting them: see rules.ThreadTxCountNotRaised / ReceiverBalanceLowered.

CONTRACT_ERRORS: tuple[type[ChannelError], ...] = (
    InvalidConfiguration,
    NotHub,
    NotHubOrUser,
    NotUser,
    NotThreadParty,
    InvalidUser,
    WrongChannelStatus,
    CallerIsExitInitiator,
    StateExpired,
    TimeSensitiveState,
    StaleTxCount,
    StaleOnchainTxCount,
    PendingAlreadyExecuted,
    BalancesExceedTotal,
    InsufficientReserve,
    InsufficientChannelFunds,
    WrongDepositValue,
    TokenTransferShortfall,
    InvalidHubSignature,
    InvalidUserSignature,
    InvalidThreadSignature,
    ChallengeWindowClosed,
    ChallengeWindowOpen,
    NukeTooEarly,
    InvalidThreadParties,
    UserNotThreadParty,
    InvalidInitialThreadState,
    ThreadNotInRoot,
    ThreadAlreadyDisputed,
    ThreadNotDisputed,
    ThreadMismatch,
    ThreadStateNotNewer,
    ThreadSumsChanged,
    ThreadSideAlreadyEmptied,
    NothingToClaim,
    TransferFailed,
    InvalidRecipient,
    ValueTooLarge,
)
ERRORS: dict[str, type[ChannelError]] = {cls.__name__: cls for cls in CONTRACT_ERRORS}


# Off-chain only: refusals the contract cannot express (the validator's own rules).
class OffchainRuleBroken(ChannelError):
    """A state breaks a rule only the signing parties can check (conservation, pending carry, a
    thread receiver's balances and txCount)."""


__all__ = ["CONTRACT_ERRORS", "ERRORS", "ChannelError", "OffchainRuleBroken", *ERRORS]
