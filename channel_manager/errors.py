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


_NAMES = [
    "InvalidConfiguration", "NotHub", "NotHubOrUser", "NotUser", "NotThreadParty", "InvalidUser",
    "WrongChannelStatus", "CallerIsExitInitiator", "StateExpired", "TimeSensitiveState",
    "StaleTxCount", "StaleOnchainTxCount", "PendingAlreadyExecuted", "BalancesExceedTotal",
    "InsufficientReserve", "InsufficientChannelFunds", "WrongDepositValue",
    "TokenTransferShortfall", "InvalidHubSignature", "InvalidUserSignature",
    "InvalidThreadSignature", "ChallengeWindowClosed", "ChallengeWindowOpen", "NukeTooEarly",
    "InvalidThreadParties", "UserNotThreadParty", "InvalidInitialThreadState", "ThreadNotInRoot",
    "ThreadAlreadyDisputed", "ThreadNotDisputed", "ThreadMismatch", "ThreadStateNotNewer",
    "ThreadSumsChanged", "ThreadSideAlreadyEmptied", "NothingToClaim", "TransferFailed",
    "InvalidRecipient", "ValueTooLarge",
]  # fmt: skip
# docs/protocol.md §9: v2's ThreadTxCountNotHigher and ReceiverBalanceDecreased are no contract
# errors any more (receiver balances order thread states on chain, §8). A receiver still refuses
# such states before accepting them: see rules.ThreadTxCountNotRaised / ReceiverBalanceLowered.

# One subclass per contract error, created from the list above so the two cannot drift.
ERRORS: dict[str, type[ChannelError]] = {
    name: type(name, (ChannelError,), {"__doc__": f"Contract error `{name}`."}) for name in _NAMES
}
globals().update(ERRORS)

# Off-chain only: refusals the contract cannot express (the validator's own rules).
class OffchainRuleBroken(ChannelError):
    """A state breaks a rule only the signing parties can check (conservation, pending carry, a
    thread receiver's balances and txCount)."""


__all__ = ["ChannelError", "ERRORS", "OffchainRuleBroken", *_NAMES]
