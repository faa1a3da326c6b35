"""(About 420 lines: the decisions for channels and threads share one poll loop and store
transaction, so they stay in one module.)

The watchtower's decisions: which disputes it has seen, which it can and must answer, and with
what. It answers disputes started with an old state: `emptyChannelWithChallenge` for a channel
(it holds a higher txCount) and `challengeThread` for a thread (it holds a higher receiver
balance of some asset: on chain receiver balances decide a thread, not txCount,
docs/protocol.md §8), if its account may (the hub or the channel's user, not the party that
started the dispute; for threads the hub, sender or receiver) and the window is still open.
Each answer is judged by the reference model before it goes to the chain.

Every poll (`Watchtower.run_once`) reads the events of the new blocks and records them together
with the last processed block in one store transaction, then acts on the open disputes, reading
their current state from the contract's views. A node that went back in history (a reorg, a
reset local chain) is re-read from its head; every `sweep_every` polls each channel it holds a
state for is checked directly, so a missed event cannot make it miss a dispute. Every decision
is logged and kept in the store.

The chain is reached only through `WatchtowerChain` (scripts/watchtower.py implements it with
brownie), so this module never imports brownie.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from channel_manager.contract_views import ChannelDetails, ChannelStatus
from channel_manager.ops import OpsError
from channel_manager.ops.chain_view import ChainView, model_of
from channel_manager.ops.display import fmt_time, short
from channel_manager.ops.refusals import preflight
from channel_manager.watchtower_store import Decision, Dispute, WatchtowerStore, thread_key

# The name operators (and the tests) filter the watchtower's log on.
log = logging.getLogger("watchtower")


class AnswerUnfinished(Exception):
    """An answer was sent but not mined or confirmed in time; `txid` (None when it can never be
    mined) is not sent again while the node still holds it."""

    def __init__(self, message: str, txid: str | None = None) -> None:
        super().__init__(message)
        self.txid = txid


class WatchtowerChain(Protocol):
    """What the watchtower reads from, and sends to, one deployment."""

    @property
    def account(self) -> str:
        """The address the watchtower answers as."""
        ...

    @property
    def hub(self) -> str: ...

    def head(self) -> int:
        """The node's latest block number."""
        ...

    def events(self, first: int, last: int) -> Sequence[Mapping[str, Any]]:
        """The contract's decoded events in blocks [first, last], in chain order:
        `{"event", "args", "block", ...}`."""
        ...

    def channel_details(self, user: str) -> ChannelDetails: ...

    def view(
        self, *, users: Sequence[str] = (), threads: Sequence[tuple[str, str, int]] = ()
    ) -> ChainView:
        """What the reference model needs to judge an answer on these channels or threads."""
        ...

    def challenge_period(self) -> int: ...

    def still_pending(self, txid: str) -> bool:
        """Sent, known to the node, not mined yet."""
        ...

    def send(self, method: str, args: tuple[Any, ...], summary: str) -> str | None:
        """Simulate, then send `method(*args)`: its transaction id, or None on a dry run.
        Raises `OpsError` when the simulation refuses, `AnswerUnfinished` when not mined in time."""
        ...


@dataclass
class Watchtower:
    """One watcher for one deployment. `run_once()` is one deterministic poll."""

    chain: WatchtowerChain
    store: WatchtowerStore
    start_block: int = 0
    confirmations: int = 0
    reorg_depth: int = 0  # blocks re-read on every poll (events are recorded idempotently)
    sweep_every: int = 20
    polls: int = 0
    _last_said: dict[tuple[str, str], str] = field(default_factory=dict, init=False)
    _batch: list[Decision] = field(default_factory=list, init=False)
    # answers sent but not mined within the send's bound: never sent twice while pending
    _in_flight: dict[tuple[str, str], str] = field(default_factory=dict, init=False)

    @property
    def address(self) -> str:
        return self.chain.account

    @property
    def hub(self) -> str:
        return self.chain.hub

    # ---------------------------------------------------------------- the poll

    def run_once(self) -> list[Decision]:
        """Read the new blocks' events, then answer every dispute that needs it. Returns the
        decisions taken (a decision repeated unchanged on every poll is returned once)."""
        self._batch = []
        head = self.chain.head()
        last = self.store.last_block
        sweep = self.sweep_every > 0 and self.polls % self.sweep_every == 0
        if last is not None and head < last:
            self._decide(
                head,
                "node",
                "-",
                "rewind",
                f"node head {head} is below the last processed block {last}: re-reading from the head",
                logging.WARNING,
            )
            with self.store.transaction():
                self.store.set_last_block(max(head - self.reorg_depth, self.start_block - 1))
            last = self.store.last_block
            sweep = True
        first = (
            self.start_block if last is None else max(last + 1 - self.reorg_depth, self.start_block)
        )
        target = head - self.confirmations
        if target >= first:
            events = self.chain.events(first, target)
            with self.store.transaction():
                for event in events:
                    self._record(event)
                self.store.set_last_block(target)
        self.polls += 1
        if sweep:
            self._sweep(head)
        for dispute in self.store.disputes("open"):
            self._act(dispute, head)
        return self._batch

    def run_forever(self, interval: float, max_polls: int | None = None) -> None:
        """Poll until interrupted (or `max_polls`); an unreachable node is retried with backoff."""
        failures = 0
        while max_polls is None or self.polls < max_polls:
            try:
                self.run_once()
                failures = 0
                pause = interval
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # the node is down or answered nonsense: try again later
                failures += 1
                self.polls += 1
                pause = min(interval * 2**failures, 300)
                log.warning("poll failed (%s); retrying in %.0f s", short(exc), pause)
            if max_polls is not None and self.polls >= max_polls:
                break
            time.sleep(pause)

    # ---------------------------------------------------------------- events

    def _record(self, event: Mapping[str, Any]) -> None:
        """Note one event. Reading an event again (the re-read blocks of `reorg_depth`, a rewind)
        changes nothing and logs nothing."""
        name, args, block = event["event"], event["args"], event["block"]
        if name in ("DidStartExitChannel", "DidStartExitThread"):
            if name == "DidStartExitChannel":
                kind, key = "channel", args["user"]
                closing, tx_count = int(args["channelClosingTime"]), int(args["txCount"][0])
            else:
                kind, key = "thread", thread_key(args["sender"], args["receiver"], args["threadId"])
                closing, tx_count = int(args["threadClosingTime"]), int(args["txCount"])
            if self.store.note_dispute(
                kind, key, args["user"], closing, tx_count, args["caller"], block
            ):
                self._decide(block, kind, key, "dispute seen",
                             f"started by {args['caller']} at txCount {tx_count},"
                             f" window closes {fmt_time(closing)}")  # fmt: skip
        elif name == "DidEmptyChannel":
            dispute = self.store.dispute("channel", args["user"])
            # only the dispute this emptying ended, not a later one of the same channel
            if dispute is not None and dispute.status != "closed" and dispute.opened_block <= block:
                self.store.set_dispute_status("channel", args["user"], "closed")
                self._decide(block, "channel", args["user"], "dispute closed",
                             f"emptied at txCount {list(args['txCount'])} by {args['caller']}")  # fmt: skip
        elif name == "DidChallengeThread":
            key = thread_key(args["sender"], args["receiver"], args["threadId"])
            if self.store.dispute("thread", key) is not None:
                self.store.update_dispute_tx("thread", key, int(args["txCount"]))

    def _sweep(self, head: int) -> None:
        """Belt and braces: every channel we hold a state for, checked directly, so a dispute
        whose event was missed is still answered."""
        for user in self.store.channel_users():
            details = self.chain.channel_details(user)
            if details.status != ChannelStatus.CHANNEL_DISPUTE:
                continue
            known = self.store.dispute("channel", user)
            if known is None or known.closing_time != details.closing_time:  # not seen in an event
                self.store.note_dispute(
                    "channel",
                    user,
                    user,
                    details.closing_time,
                    details.tx_count_global,
                    details.exit_initiator,
                    head,
                )
                self._decide(
                    head, "channel", user, "dispute seen", "found by the sweep of held channels"
                )

    # ---------------------------------------------------------------- answering

    def _act(self, dispute: Dispute, head: int) -> None:
        where = (dispute.kind, dispute.key)
        try:
            flight = self._in_flight.get(where)
            if flight is not None:
                if self.chain.still_pending(flight):
                    return self._decide(
                        head, *where, "answer pending",
                        f"{flight} is not mined yet: not sending another", once=True,
                    )  # fmt: skip
                del self._in_flight[where]  # mined (the views now say so) or dropped: look again
            if dispute.kind == "channel":
                self._act_channel(dispute, head)
            else:
                self._act_thread(dispute, head)
        except AnswerUnfinished as exc:
            if exc.txid:
                self._in_flight[where] = exc.txid
            self._decide(head, *where, "answer pending", str(exc), logging.WARNING)
        except OpsError as exc:
            self._decide(
                head, dispute.kind, dispute.key, "refused", str(exc), logging.ERROR, once=True
            )
        except Exception as exc:  # node trouble while answering: the next poll tries again
            self._decide(head, dispute.kind, dispute.key, "error", short(exc), logging.ERROR)

    def _act_channel(self, dispute: Dispute, head: int) -> None:
        user = dispute.user
        view = self.chain.view(users=[user])
        model = model_of(view)
        channel = model.channel(user)
        if channel.status != ChannelStatus.CHANNEL_DISPUTE:
            self.store.set_dispute_status("channel", user, "closed")
            return self._decide(
                head, "channel", user, "dispute closed", "the channel is no longer in dispute"
            )
        held = self.store.channel(user)
        if held is None or held.state.tx_count[0] <= channel.tx_count_global:
            mine = "no state" if held is None else f"txCount {held.state.tx_count[0]}"
            return self._decide(
                head,
                "channel",
                user,
                "no answer",
                f"the chain holds txCount {channel.tx_count_global}, we hold {mine}",
                once=True,
            )
        left = channel.closing_time - view.now
        if left <= 0:
            self.store.set_dispute_status("channel", user, "closed")
            return self._decide(
                head,
                "channel",
                user,
                "missed",
                f"the window closed at {fmt_time(channel.closing_time)} before we could answer",
                logging.ERROR,
            )
        if self.address not in (self.hub, user):
            return self._decide(
                head,
                "channel",
                user,
                "cannot answer",
                f"{self.address} is neither the hub nor the user",
                logging.WARNING,
                once=True,
            )
        if model.exit_initiator(user) == self.address:
            return self._decide(
                head,
                "channel",
                user,
                "cannot answer",
                "we started this dispute: only the other party may answer",
                once=True,
            )
        state = held.state
        preflight(
            model,
            "empty_channel_with_challenge",
            self.address,
            view.now,
            state,
            held.sig_hub,
            held.sig_user,
        )
        txid = self.chain.send(
            "emptyChannelWithChallenge",
            (state.to_tuple(), held.sig_hub, held.sig_user),
            summary=f"answer to {user}'s dispute with txCount {list(state.tx_count)}",
        )
        if txid is None:  # dry run
            return self._decide(
                head, "channel", user, "would answer", f"txCount {list(state.tx_count)}", once=True
            )
        self.store.set_dispute_status("channel", user, "answered", txid)
        return self._decide(
            head,
            "channel",
            user,
            "answered",
            f"emptyChannelWithChallenge with txCount {list(state.tx_count)} over"
            f" {channel.tx_count_global}, {left} s before the window closed: {txid}",
            logging.WARNING if left < self._urgent() else logging.INFO,
        )

    def _act_thread(self, dispute: Dispute, head: int) -> None:
        sender, receiver, thread_id = dispute.key.split(":")
        key = (sender, receiver, int(thread_id))
        view = self.chain.view(threads=[key])
        model = model_of(view)
        thread = model.thread(*key)
        if view.now >= thread.closing_time:
            self.store.set_dispute_status("thread", dispute.key, "closed")
            held = self.store.thread(*key)
            late = held is not None and (
                held.state.wei_balances[1] > thread.wei_receiver
                or held.state.token_balances[1] > thread.token_receiver
            )
            return self._decide(
                head,
                "thread",
                dispute.key,
                "missed" if late else "dispute closed",
                f"the window closed at {fmt_time(thread.closing_time)}",
                logging.ERROR if late else logging.INFO,
            )
        held = self.store.thread(*key)
        stored = (thread.wei_receiver, thread.token_receiver)
        mine = None if held is None else (held.state.wei_balances[1], held.state.token_balances[1])
        if held is None or mine is None or not (mine[0] > stored[0] or mine[1] > stored[1]):
            return self._decide(
                head,
                "thread",
                dispute.key,
                "no answer",
                f"the chain holds receiver balances {list(stored)},"
                f" we hold {'no state' if mine is None else list(mine)}",
                once=True,
            )
        if self.address not in (self.hub, sender, receiver):
            return self._decide(
                head,
                "thread",
                dispute.key,
                "cannot answer",
                f"{self.address} is not the hub, sender or receiver",
                logging.WARNING,
                once=True,
            )
        preflight(model, "challenge_thread", self.address, view.now, held.state, held.sig)
        txid = self.chain.send(
            "challengeThread",
            (held.state.to_tuple(), held.sig),
            summary=f"thread challenge {dispute.key} with txCount {held.state.tx_count}",
        )
        if txid is None:
            return self._decide(
                head,
                "thread",
                dispute.key,
                "would answer",
                f"txCount {held.state.tx_count}",
                once=True,
            )
        self.store.set_dispute_status("thread", dispute.key, "answered", txid)
        left = thread.closing_time - view.now
        return self._decide(
            head,
            "thread",
            dispute.key,
            "answered",
            f"challengeThread raising the receiver's balances from {list(stored)} to {list(mine)}"
            f" (txCount {held.state.tx_count}), {left} s before the window closed: {txid}",
        )

    def _urgent(self) -> int:
        """Answers later than a tenth of the challenge period are logged as warnings."""
        return self.chain.challenge_period() // 10

    def _decide(
        self,
        block: int,
        kind: str,
        key: str,
        action: str,
        detail: str,
        level: int = logging.INFO,
        once: bool = False,
    ) -> None:
        """Log a decision and keep it in the store. `once`: a decision repeated on every poll
        (nothing to do yet) is logged only when it changes."""
        said = f"{action}: {detail}"
        if once and self._last_said.get((kind, key)) == said:
            return
        self._last_said[(kind, key)] = said
        log.log(level, "block %s %s %s: %s — %s", block, kind, key, action, detail)
        self._batch.append(self.store.log_decision(block, kind, key, action, detail))
