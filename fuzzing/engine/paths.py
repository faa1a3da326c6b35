"""Hit counting: how often each dispute path was taken, and every function × outcome.

A path is named by what happened on chain, classified from the views read before the call
(the channel's closing time, the thread record's closing time), never from the engine's intent.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from channel_manager.model import NUKE_PERIODS
from fuzzing.engine.calls import Call
from fuzzing.engine.reader import CHANNEL_DISPUTE, THREAD_DISPUTE

#: The dispute paths every deep campaign must reach (docs/fuzzing-engine.md, goal ≥ 100 each).
DISPUTE_PATHS = (
    "channel exit by hub (startExit)",
    "channel exit by user (startExit)",
    "channel exit by hub with update (startExitWithUpdate)",
    "channel exit by user with update (startExitWithUpdate)",
    "challenge (emptyChannelWithChallenge)",
    "emptyChannel at closing-1 (concession)",
    "emptyChannel at closing",
    "emptyChannel at closing+1",
    "thread exit (startExitThread)",
    "thread exit with update (startExitThreadWithUpdate)",
    "challengeThread",
    "emptyThread sender side",
    "emptyThread receiver side",
    "nukeThreads at deadline-1 (refused)",
    "nukeThreads at deadline",
    "nukeThreads at deadline+1",
)

#: Check sequences several functions share (docs/protocol.md §5–§8, in check order).
_UPDATE_CHECKS = (
    "StateExpired",
    "ValueTooLarge",
    "StaleTxCount",
    "StaleOnchainTxCount",
    "PendingAlreadyExecuted",
    "BalancesExceedTotal",
    "InsufficientReserve",
    "InsufficientChannelFunds",
)
_DISPUTED_STATE_CHECKS = (
    "TimeSensitiveState",
    "ValueTooLarge",
    "StaleTxCount",
    "StaleOnchainTxCount",
    "BalancesExceedTotal",
    "InvalidHubSignature",
    "InvalidUserSignature",
)
_THREAD_INITIAL_CHECKS = (
    "InvalidUser",
    "NotHubOrUser",
    "WrongChannelStatus",
    "InvalidThreadParties",
    "UserNotThreadParty",
    "InvalidInitialThreadState",
    "ValueTooLarge",
)
_THREAD_START_CHECKS = (
    *_THREAD_INITIAL_CHECKS,
    "InvalidThreadSignature",
    "ThreadNotInRoot",
    "ThreadAlreadyDisputed",
)

#: Every outcome each function can have in this engine's world (docs/protocol.md §5–§9, in
#: check order), listed so that outcomes never reached show as zeros.
EXPECTED_OUTCOMES: dict[str, tuple[str, ...]] = {
    "hubContractWithdraw": ("NotHub", "InsufficientReserve"),
    "hubAuthorizedUpdate": (
        "NotHub",
        "InvalidUser",
        "WrongChannelStatus",
        "InvalidRecipient",
        *_UPDATE_CHECKS,
        "InvalidUserSignature",
        "TransferFailed",
    ),
    "userAuthorizedUpdate": (
        "NotUser",
        "InvalidUser",
        "WrongChannelStatus",
        "InvalidRecipient",
        "WrongDepositValue",
        *_UPDATE_CHECKS,
        "InvalidHubSignature",
        "TransferFailed",
    ),
    "startExit": ("InvalidUser", "WrongChannelStatus", "NotHubOrUser"),
    "startExitWithUpdate": (
        "InvalidUser",
        "WrongChannelStatus",
        "NotHubOrUser",
        *_DISPUTED_STATE_CHECKS,
    ),
    "emptyChannelWithChallenge": (
        "InvalidUser",
        "WrongChannelStatus",
        "NotHubOrUser",
        "CallerIsExitInitiator",
        "ChallengeWindowClosed",
        *_DISPUTED_STATE_CHECKS,
    ),
    "emptyChannel": ("InvalidUser", "WrongChannelStatus", "ChallengeWindowOpen"),
    "startExitThread": _THREAD_START_CHECKS,
    "startExitThreadWithUpdate": (
        *_THREAD_START_CHECKS,
        "ThreadMismatch",
        "ThreadSumsChanged",
        "ThreadStateNotNewer",
    ),
    "challengeThread": (
        "NotThreadParty",
        "ThreadNotDisputed",
        "ChallengeWindowClosed",
        "ThreadSumsChanged",
        "ThreadStateNotNewer",
        "InvalidThreadSignature",
    ),
    "emptyThread": (
        *_THREAD_INITIAL_CHECKS,
        "ThreadNotInRoot",
        "ThreadNotDisputed",
        "ThreadMismatch",
        "ChallengeWindowOpen",
        "ThreadSideAlreadyEmptied",
        "InsufficientChannelFunds",
    ),
    "nukeThreads": ("InvalidUser", "WrongChannelStatus", "NukeTooEarly"),
    "claim": ("InvalidRecipient", "NothingToClaim", "TransferFailed"),
}


def _offset(now: int, boundary: int) -> str:
    delta = now - boundary
    if delta in (-1, 0, 1):
        return {-1: "-1", 0: "", 1: "+1"}[delta]
    return " later" if delta > 1 else " early"


class PathCounter:
    def __init__(self) -> None:
        self.paths: Counter[str] = Counter({p: 0 for p in DISPUTE_PATHS})
        self.details: Counter[str] = Counter()
        self.outcomes: dict[str, Counter[str]] = {
            fn: Counter({"success": 0, **{e: 0 for e in errors}})
            for fn, errors in EXPECTED_OUTCOMES.items()
        }

    def record(self, call: Call, result: Any, pre: Any, hub: str, period: int) -> None:
        fn = call.fn
        outcome = "success" if result.success else (result.error or "revert")
        self.outcomes.setdefault(fn, Counter())[outcome] += 1
        now = pre.time
        if fn == "nukeThreads" and call.users:
            v = pre.views[call.users[0]]
            if v.status == THREAD_DISPUTE:
                deadline = v.closing + NUKE_PERIODS * period
                if now == deadline - 1 and outcome == "NukeTooEarly":
                    self.paths["nukeThreads at deadline-1 (refused)"] += 1
                elif result.success and now in (deadline, deadline + 1):
                    self.paths[f"nukeThreads at deadline{_offset(now, deadline)}"] += 1
                elif result.success:
                    self.details["nukeThreads later"] += 1
            return
        if not result.success:
            if (
                fn == "emptyChannel"
                and call.users
                and pre.views[call.users[0]].status == CHANNEL_DISPUTE
            ):
                v = pre.views[call.users[0]]
                self.details[f"emptyChannel at closing{_offset(now, v.closing)} refused"] += 1
            if (
                fn == "challengeThread"
                and pre.thread is not None
                and pre.thread.closing
                and now == pre.thread.closing
            ):
                self.details["challengeThread at thread closing refused"] += 1
            return
        by = "hub" if call.sender == hub else "user"
        if fn == "startExit":
            self.paths[f"channel exit by {by} (startExit)"] += 1
        elif fn == "startExitWithUpdate":
            self.paths[f"channel exit by {by} with update (startExitWithUpdate)"] += 1
        elif fn == "emptyChannelWithChallenge":
            self.paths["challenge (emptyChannelWithChallenge)"] += 1
            self.details[f"challenge by {by}"] += 1
        elif fn == "emptyChannel":
            v = pre.views[call.users[0]]
            where = _offset(now, v.closing)
            if where == "-1":
                self.paths["emptyChannel at closing-1 (concession)"] += 1
            elif where in ("", "+1"):
                self.paths[f"emptyChannel at closing{where}"] += 1
            else:
                self.details[f"emptyChannel{where}"] += 1
        elif fn == "startExitThread":
            self.paths["thread exit (startExitThread)"] += 1
            self.details[f"startExitThread by {by}"] += 1
        elif fn == "startExitThreadWithUpdate":
            self.paths["thread exit with update (startExitThreadWithUpdate)"] += 1
        elif fn == "challengeThread":
            self.paths["challengeThread"] += 1
            if pre.thread is not None and now == pre.thread.closing - 1:
                self.details["challengeThread at thread closing-1"] += 1
        elif fn == "emptyThread":
            initial = call.initial
            side = (
                "sender" if initial is not None and call.users[0] == initial.sender else "receiver"
            )
            self.paths[f"emptyThread {side} side"] += 1
            if pre.thread is not None:
                self.details[
                    f"emptyThread at thread closing{_offset(now, pre.thread.closing)}"
                ] += 1

    def merge(self, other: PathCounter) -> None:
        self.paths.update(other.paths)
        self.details.update(other.details)
        for fn, counts in other.outcomes.items():
            self.outcomes.setdefault(fn, Counter()).update(counts)

    def never_reached(self) -> list[str]:
        missing = [p for p in DISPUTE_PATHS if self.paths[p] == 0]
        for fn, counts in self.outcomes.items():
            missing += [f"{fn} -> {o}" for o, n in counts.items() if n == 0]
        return missing

    def as_dicts(self) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
        paths = {p: self.paths[p] for p in DISPUTE_PATHS}
        paths.update({f"(detail) {k}": v for k, v in sorted(self.details.items())})
        return paths, {fn: dict(c) for fn, c in self.outcomes.items()}
