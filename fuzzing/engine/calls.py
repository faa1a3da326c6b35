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


def update_call(signed: Any, *, user: str, hub: str, by_hub: bool, label: str) -> Call:
    """`signed` (a double-signed channel state) as an authorized update: the hub submits it with
    the user's signature, or the user with the hub's, paying its ETH deposit (§5). `label` names
    the update; the submitter is prefixed."""
    s = signed.state
    if by_hub:
        fn, args, sender, value = "hubAuthorizedUpdate", (s.to_tuple(), signed.sig_user), hub, 0
    else:
        fn, args, sender = "userAuthorizedUpdate", (s.to_tuple(), signed.sig_hub), user
        value = s.pending_wei_updates[2]
    who = "hub" if by_hub else "user"
    return Call(
        fn,
        args,
        sender,
        f"{who} submits {label}",
        value=value,
        users=(user,),
        payees=(s.recipient,),
        genuine=True,
        state=s,
    )


def double_signed_call(fn: str, signed: Any, *, caller: str, user: str, label: str) -> Call:
    """`fn` (startExitWithUpdate or emptyChannelWithChallenge) with a state both parties signed."""
    s = signed.state
    return Call(
        fn,
        (s.to_tuple(), signed.sig_hub, signed.sig_user),
        caller,
        label,
        users=(user,),
        genuine=True,
        state=s,
    )


def user_call(fn: str, user: str, *, caller: str, label: str) -> Call:
    """`fn(user)` for the calls that name only a channel (startExit, emptyChannel, nukeThreads)."""
    return Call(fn, (user,), caller, label, users=(user,))


def thread_call(
    fn: str,
    user: str,
    initial: ThreadState,
    proof: list[bytes],
    sig: bytes,
    *,
    caller: str,
    label: str,
    genuine: bool,
    update: tuple[ThreadState, bytes] | None = None,
    committed: bool = False,
) -> Call:
    """`fn` (startExitThread, startExitThreadWithUpdate with `update` = (state, signature), or
    emptyThread) for `initial`'s thread in `user`'s channel. `committed`: the proof comes from a
    root the engine built with `initial` in it (the emptyThread liveness property judges those)."""
    args: tuple[Any, ...] = (user, initial.to_tuple(), proof, sig)
    if update is not None:
        args += (update[0].to_tuple(), update[1])
    meta = {"committed": True} if committed else {}
    return Call(
        fn,
        args,
        caller,
        label,
        users=(user,),
        thread=initial.key,
        initial=initial,
        genuine=genuine,
        meta=meta,
    )
