"""One transaction the engine sends, with what the oracle needs to judge it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from channel_manager.states import ThreadState

#: Calls that pay users out of channel totals (docs/protocol.md §6–§8).
PAYOUTS = frozenset({"emptyChannel", "emptyChannelWithChallenge", "emptyThread", "nukeThreads"})
#: Calls that move no money at all.
NO_MONEY = frozenset(
    {
        "startExit",
        "startExitWithUpdate",
        "startExitThread",
        "startExitThreadWithUpdate",
        "challengeThread",
    }
)
UPDATES = frozenset({"hubAuthorizedUpdate", "userAuthorizedUpdate"})
SIGNATURE_ERRORS = frozenset(
    {"InvalidHubSignature", "InvalidUserSignature", "InvalidThreadSignature"}
)


@dataclass(eq=False)
class Call:
    """`fn(*args)` on the manager from `sender` (fn "receive": a plain ETH transfer).

    `users`: channels the call may change; `payees`: other addresses whose ETH or tokens may
    move; `thread`: the thread record it may change; `initial`: the initial state it names;
    `genuine`: every signature in it is a key signature by the right signer over exactly the
    state it accompanies (refusing it would revoke a signature, docs/protocol.md §10.10);
    `state`: the channel state it submits, if any; `label`: the human-readable line."""

    fn: str
    args: tuple[Any, ...]
    sender: str
    label: str
    value: int = 0
    users: tuple[str, ...] = ()
    payees: tuple[str, ...] = ()
    thread: tuple[str, str, int] | None = None
    initial: ThreadState | None = None
    genuine: bool = False
    state: Any = None
    meta: dict[str, Any] = field(default_factory=dict)
