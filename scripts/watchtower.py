"""Watchtower: answers disputes started with an old state, for the hub or for a user.

    python tools/run_script.py scripts/watchtower.py add STATE.json --network NAME  # a signed state
    python tools/run_script.py scripts/watchtower.py --network NAME                 # watch (until stopped)
    python tools/run_script.py scripts/watchtower.py status --network NAME          # what it holds

It keeps the newest double-signed channel states and sender-signed thread states it is given in
a SQLite file (channel_manager/watchtower_store.py), follows the contract's events from the
deployment block on (DidStartExitChannel, DidEmptyChannel, DidStartExitThread,
DidChallengeThread, …) and, for every running dispute whose on-chain state is older than the one
it holds, answers at once: `emptyChannelWithChallenge` for a channel (a higher txCount), and
`challengeThread` for a thread (a higher receiver balance of some asset: on chain, receiver
balances decide a thread, not txCount, docs/protocol.md §8) — if its account may (the hub or the
channel's user, not the one that started the dispute; for threads the hub, sender or receiver)
and the window is still open. Each answer is checked by the reference model and simulated
before it is sent. Run with an account that is not the hub, it says so at start: it can then
answer only for the channels of that user and the threads it is party to.

Every poll (`Watchtower.run_once`) reads the events of the new blocks and records them together
with the last processed block in one SQLite transaction, then acts on the open disputes, reading
their current state from the contract's views. A restarted watchtower (a new process on the
same file) resumes after the last processed block; a node that is down is retried with backoff;
a node that went back in history (a reorg, a reset local chain) is re-read from its head.
Every `sweep_every` polls it also checks each channel it holds a state for directly, so a
missed event cannot make it miss a dispute. Every decision is logged and kept in the file.

    CM_WATCH_DB          the SQLite file (default deployments/[dev/]watchtower-<chain-id>-<genesis>.sqlite)
    CM_WATCH_INTERVAL    seconds between polls (default 5 on local chains, 15 otherwise)
    CM_WATCH_CONFIRMATIONS  blocks an event must be deep before it is read (default 0)
    CM_WATCH_MAX_POLLS   stop after this many polls (default: run until interrupted)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from brownie import web3

from channel_manager.contract_views import ChannelStatus, channel_details
from channel_manager.eip712 import Domain
from channel_manager.ops import OpsError
from channel_manager.ops.chain_view import model_of
from channel_manager.ops.envelopes import load_envelope
from channel_manager.ops.prechecks import check_channel_state, check_envelope_domain
from channel_manager.ops.refusals import preflight
from channel_manager.watchtower_store import Decision, Dispute, WatchtowerStore, thread_key
from scripts import _common, ops_tx
from scripts._common import Context, command, fmt_time, say

log = logging.getLogger("watchtower")


@dataclass
class Watchtower:
    """One watcher for one deployment. `run_once()` is one deterministic poll."""

    ctx: Context
    contract: Any
    store: WatchtowerStore
    start_block: int = 0
    confirmations: int = 0
    reorg_depth: int = 0  # blocks re-read on every poll (events are recorded idempotently)
    sweep_every: int = 20
    polls: int = 0

    def __post_init__(self) -> None:
        self.account = self.ctx.account
        self.hub = self.contract.hub()
        self._last_said: dict[tuple[str, str], str] = {}
        self._batch: list[Decision] = []
        # answers sent but not mined within the send's bound: never sent twice while pending
        self._in_flight: dict[tuple[str, str], str] = {}

    @property
    def address(self) -> str:
        return str(self.account.address)

    # ---------------------------------------------------------------- the poll

    def run_once(self) -> list[Decision]:
        """Read the new blocks' events, then answer every dispute that needs it. Returns the
        decisions taken (a decision repeated unchanged on every poll is returned once)."""
        self._batch = []
        head = int(web3.eth.block_number)
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
            events = _common.fetch_events(self.contract, first, target)
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
                log.warning("poll failed (%s); retrying in %.0f s", _common.short(exc), pause)
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
            if self.store.note_dispute(kind, key, args["user"], closing, tx_count, args["caller"], block):
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
            details = channel_details(self.contract, user)
            if details.status != ChannelStatus.CHANNEL_DISPUTE:
                continue
            known = self.store.dispute("channel", user)
            if known is None or known.closing_time != details.closing_time:  # not seen in an event
                self.store.note_dispute("channel", user, user, details.closing_time, details.tx_count_global, details.exit_initiator, head)
                self._decide(head, "channel", user, "dispute seen", "found by the sweep of held channels")

    # ---------------------------------------------------------------- answering

    def _act(self, dispute: Dispute, head: int) -> None:
        where = (dispute.kind, dispute.key)
        try:
            flight = self._in_flight.get(where)
            if flight is not None:
                if ops_tx.still_pending(flight):
                    return self._decide(
                        head, *where, "answer pending",
                        f"{flight} is not mined yet: not sending another", once=True,
                    )  # fmt: skip
                del self._in_flight[where]  # mined (the views now say so) or dropped: look again
            if dispute.kind == "channel":
                self._act_channel(dispute, head)
            else:
                self._act_thread(dispute, head)
        except ops_tx.TxUnfinished as exc:
            if exc.txid:
                self._in_flight[where] = exc.txid
            self._decide(head, *where, "answer pending", str(exc), logging.WARNING)
        except OpsError as exc:
            self._decide(
                head, dispute.kind, dispute.key, "refused", str(exc), logging.ERROR, once=True
            )
        except Exception as exc:  # node trouble while answering: the next poll tries again
            self._decide(
                head, dispute.kind, dispute.key, "error", _common.short(exc), logging.ERROR
            )

    def _act_channel(self, dispute: Dispute, head: int) -> None:
        user = dispute.user
        view = _common.chain_view(self.contract, development=self.ctx.development, users=[user])
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
        tx = _common.send(
            self.ctx,
            self.contract,
            "emptyChannelWithChallenge",
            (state.to_tuple(), held.sig_hub, held.sig_user),
            summary=f"answer to {user}'s dispute with txCount {list(state.tx_count)}",
        )
        if tx is None:  # dry run
            return self._decide(
                head, "channel", user, "would answer", f"txCount {list(state.tx_count)}", once=True
            )
        self.store.set_dispute_status("channel", user, "answered", tx.txid)
        return self._decide(
            head,
            "channel",
            user,
            "answered",
            f"emptyChannelWithChallenge with txCount {list(state.tx_count)} over"
            f" {channel.tx_count_global}, {left} s before the window closed: {tx.txid}",
            logging.WARNING if left < self._urgent() else logging.INFO,
        )

    def _act_thread(self, dispute: Dispute, head: int) -> None:
        sender, receiver, thread_id = dispute.key.split(":")
        key = (sender, receiver, int(thread_id))
        view = _common.chain_view(self.contract, development=self.ctx.development, threads=[key])
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
        if mine is None or not (mine[0] > stored[0] or mine[1] > stored[1]):
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
        tx = _common.send(
            self.ctx,
            self.contract,
            "challengeThread",
            (held.state.to_tuple(), held.sig),
            summary=f"thread challenge {dispute.key} with txCount {held.state.tx_count}",
        )
        if tx is None:
            return self._decide(
                head,
                "thread",
                dispute.key,
                "would answer",
                f"txCount {held.state.tx_count}",
                once=True,
            )
        self.store.set_dispute_status("thread", dispute.key, "answered", tx.txid)
        left = thread.closing_time - view.now
        return self._decide(
            head,
            "thread",
            dispute.key,
            "answered",
            f"challengeThread raising the receiver's balances from {list(stored)} to {list(mine)}"
            f" (txCount {held.state.tx_count}), {left} s before the window closed: {tx.txid}",
        )

    def _urgent(self) -> int:
        """Answers later than a tenth of the challenge period are logged as warnings."""
        return int(self.contract.challengePeriod()) // 10

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


# ------------------------------------------------------------------ CLI


def store_path(ctx: Context) -> Path:
    raw = ctx.env.get("CM_WATCH_DB", "").strip()
    if raw:
        return Path(raw)
    # named like the deployment record: a rehearsal chain reusing a chain id gets its own file
    return _common.record_path(ctx).with_name(f"watchtower-{_common.record_path(ctx).stem}.sqlite")


def open_store(ctx: Context, contract: Any) -> WatchtowerStore:
    path = store_path(ctx)
    path.parent.mkdir(parents=True, exist_ok=True)
    return WatchtowerStore(
        path, Domain(ctx.chain_id, contract.address), contract.hub(), genesis=ctx.genesis
    )


def _int_env(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise OpsError(f"{name}={raw!r} is not a whole number") from None


def build(env: Mapping[str, str] | None = None) -> Watchtower:
    """A watchtower from the environment (the tests build theirs the same way)."""
    ctx = _common.context(env)
    contract = _common.manager(ctx)
    hub = contract.hub()
    if ctx.account.address != hub:
        log.warning(
            "account %s is not the hub %s: it cannot answer for the hub; it answers only disputes"
            " of %s's own channel and threads it is party to",
            ctx.account.address,
            hub,
            ctx.account.address,
        )
    return Watchtower(
        ctx,
        contract,
        open_store(ctx, contract),
        start_block=_common.deployment_block(ctx, contract),
        confirmations=_int_env(ctx.env, "CM_WATCH_CONFIRMATIONS", 0),
        reorg_depth=0 if ctx.development else 5,
    )


def main() -> None:
    watch()


@command
def watch(*, env: Mapping[str, str] | None = None) -> Watchtower:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    tower = build(env)
    interval = _int_env(tower.ctx.env, "CM_WATCH_INTERVAL", 5 if tower.ctx.development else 15)
    max_polls = _int_env(tower.ctx.env, "CM_WATCH_MAX_POLLS", 0) or None
    log.info(
        "watching %s on chain %s as %s; store %s; from block %s",
        tower.contract.address,
        tower.ctx.chain_id,
        tower.address,
        tower.store.path,
        tower.store.last_block if tower.store.last_block is not None else tower.start_block,
    )
    try:
        tower.run_forever(interval, max_polls)
    except KeyboardInterrupt:
        log.info("stopped; resumes after block %s", tower.store.last_block)
    return tower


@command
def add(path: str, *, env: Mapping[str, str] | None = None) -> bool:
    """Give the watchtower a signed state (envelope file); it keeps it if it is the newest."""
    envelope = load_envelope(path)
    ctx = _common.context(env, need_account=False)
    contract = _common.manager(ctx)
    check_envelope_domain(envelope, Domain(ctx.chain_id, contract.address))
    store = open_store(ctx, contract)
    if envelope.kind == "channel":
        state = check_channel_state(envelope)
        if envelope.sig_hub is None or envelope.sig_user is None:
            raise OpsError(f"{envelope.source}: the watchtower needs both signatures")
        kept = store.offer_channel(
            state,
            envelope.sig_hub,
            envelope.sig_user,
            user_is_contract=bool(web3.eth.get_code(state.user)),
        )
        what = f"channel state of {state.user} at txCount {list(state.tx_count)}"
    else:
        thread = envelope.thread
        kept = store.offer_thread(
            thread, envelope.sig or b"", sender_is_contract=bool(web3.eth.get_code(thread.sender))
        )
        what = f"thread state {thread_key(*thread.key)} at txCount {thread.tx_count}"
    say(f"{'kept' if kept else 'ignored (a newer or equal one is held)'}: {what}")
    return kept


@command
def status(*, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    ctx = _common.context(env, need_account=False)
    contract = _common.manager(ctx)
    store = open_store(ctx, contract)
    disputes = store.disputes(None)
    say(f"watchtower store {store.path}: last processed block {store.last_block}")
    say(
        f"  holds {len(store.channel_users())} channel state(s), {store.thread_count()} thread state(s)"
    )
    for d in disputes:
        say(
            f"  {d.kind} {d.key}: {d.status}, window closes {fmt_time(d.closing_time)}"
            + (f", answered by {d.answer_tx}" if d.answer_tx else "")
        )
    for decision in store.decisions(limit=20):
        say(
            f"  [block {decision.block}] {decision.kind} {decision.key}: {decision.action} — {decision.detail}"
        )
    return {"last_block": store.last_block, "disputes": disputes, "decisions": store.decisions()}
