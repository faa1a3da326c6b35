"""Which disputes still run on a deployment, and the deadline each one is waiting for.

The contract's events say which channels and threads were ever disputed; its views say what
still runs: a channel in ChannelDispute (its challenge window), a channel in ThreadDispute (the
time its threads may be nuked, docs/protocol.md §8), and a disputed thread not yet settled on
both sides (its challenge window). The caller fetches the events; `views` is anything with the
contract's view methods (a brownie `Contract`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

from channel_manager.contract_views import (
    ChannelStatus,
    ChannelViews,
    channel_details,
    thread_record,
)
from channel_manager.model import NUKE_PERIODS


class RunningDispute(TypedDict):
    kind: str  # "channel" | "threads" (the channel's open threads) | "thread"
    what: str
    deadline: int
    deadline_name: str
    detail: str


def disputed_parties(
    events: Iterable[Mapping[str, Any]],
) -> tuple[list[str], list[tuple[str, str, int]]]:
    """The users whose channel and the threads that were ever disputed, in first-seen order."""
    users: dict[str, None] = {}
    threads: dict[tuple[str, str, int], None] = {}
    for event in events:
        args = event["args"]
        if event["event"] in ("DidStartExitChannel", "DidEmptyChannel"):
            users[args["user"]] = None
        elif event["event"] == "DidStartExitThread":
            users[args["user"]] = None
            threads[(args["sender"], args["receiver"], int(args["threadId"]))] = None
    return list(users), list(threads)


def running_disputes(
    events: Iterable[Mapping[str, Any]],
    views: ChannelViews,
    *,
    hub: str,
    challenge_period: int,
    now: int,
) -> list[RunningDispute]:
    """Every dispute that still runs, soonest deadline first."""
    users, threads = disputed_parties(events)
    out: list[RunningDispute] = []
    for user in users:
        details = channel_details(views, user)
        if details.status == ChannelStatus.CHANNEL_DISPUTE:
            starter = "the hub" if details.exit_initiator == hub else "the user"
            out.append(
                RunningDispute(
                    kind="channel",
                    what=user,
                    deadline=details.closing_time,
                    deadline_name="challenge window closes",
                    detail=f"started by {starter}",
                )
            )
        elif details.status == ChannelStatus.THREAD_DISPUTE:
            out.append(
                RunningDispute(
                    kind="threads",
                    what=user,
                    deadline=details.closing_time + NUKE_PERIODS * challenge_period,
                    deadline_name="nukeable from",
                    detail=f"{details.thread_count} thread(s) still open in the channel",
                )
            )
    for sender, receiver, thread_id in threads:
        record = thread_record(views, sender, receiver, thread_id)
        if all(record.emptied):
            continue
        open_window = now < record.closing_time
        out.append(
            RunningDispute(
                kind="thread",
                what=f"{sender} -> {receiver} #{thread_id}",
                deadline=record.closing_time,
                deadline_name="challenge window closes" if open_window else "window closed",
                detail=f"txCount {record.tx_count}, emptied sender/receiver side"
                f" {record.emptied[0]}/{record.emptied[1]}",
            )
        )
    out.sort(key=lambda d: d["deadline"])
    return out
