"""Watchtower: answers disputes started with an old state, for the hub or for a user.

    python tools/run_script.py scripts/watchtower.py add STATE.json --network NAME  # a signed state
    python tools/run_script.py scripts/watchtower.py --network NAME                 # watch (until stopped)
    python tools/run_script.py scripts/watchtower.py status --network NAME          # what it holds

It keeps the newest double-signed channel states and sender-signed thread states it is given in
a SQLite file (channel_manager/watchtower_store.py), follows the contract's events from the
deployment block on and answers every running dispute whose on-chain state is older than the
one it holds; what it answers, when and why is decided by channel_manager/watchtower.py. This
script is the brownie glue: `BrownieChain` reads the chain and sends, `build` wires a watchtower
from the environment, and the commands below run it. Run with an account that is not the hub,
it says so at start: it can then answer only for the channels of that user and the threads it
is party to. A restarted watchtower (a new process on the same file) resumes after the last
processed block; a node that is down is retried with backoff.

    CM_WATCH_DB          the SQLite file (default deployments/[dev/]watchtower-<chain-id>-<genesis>.sqlite)
    CM_WATCH_INTERVAL    seconds between polls (default 5 on local chains, 15 otherwise)
    CM_WATCH_CONFIRMATIONS  blocks an event must be deep before it is read (default 0)
    CM_WATCH_MAX_POLLS   stop after this many polls (default: run until interrupted)
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from brownie import web3

from channel_manager.contract_views import ChannelDetails, channel_details
from channel_manager.eip712 import Domain
from channel_manager.ops import OpsError
from channel_manager.ops.chain_view import ChainView
from channel_manager.ops.display import fmt_time
from channel_manager.ops.envelopes import load_envelope
from channel_manager.ops.inputs import parse_whole
from channel_manager.ops.prechecks import check_channel_state, check_envelope_domain
from channel_manager.watchtower import AnswerUnfinished, Watchtower
from channel_manager.watchtower_store import WatchtowerStore, thread_key
from scripts import _chain_reads, _common, _deployment, ops_tx
from scripts._common import Context, command, say

log = logging.getLogger("watchtower")


@dataclass
class BrownieChain:
    """`channel_manager.watchtower.WatchtowerChain` on the connected brownie network."""

    ctx: Context
    contract: Any

    @property
    def account(self) -> str:
        return str(self.ctx.account.address)

    @functools.cached_property
    def hub(self) -> str:
        """Fixed at deployment: read once, not on every poll."""
        return str(self.contract.hub())

    def head(self) -> int:
        return int(web3.eth.block_number)

    def events(self, first: int, last: int) -> list[dict[str, Any]]:
        return _chain_reads.fetch_events(self.contract, first, last)

    def channel_details(self, user: str) -> ChannelDetails:
        return channel_details(self.contract, user)

    def view(
        self, *, users: Sequence[str] = (), threads: Sequence[tuple[str, str, int]] = ()
    ) -> ChainView:
        return _chain_reads.chain_view(
            self.contract, development=self.ctx.development, users=users, threads=threads
        )

    def challenge_period(self) -> int:
        return int(self.contract.challengePeriod())

    def still_pending(self, txid: str) -> bool:
        return ops_tx.still_pending(txid)

    def send(self, method: str, args: tuple[Any, ...], summary: str) -> str | None:
        try:
            tx = _common.send(self.ctx, self.contract, method, args, summary=summary)
        except ops_tx.TxUnfinished as exc:
            raise AnswerUnfinished(str(exc), exc.txid) from None
        return None if tx is None else tx.txid


# ------------------------------------------------------------------ CLI


def store_path(ctx: Context) -> Path:
    raw = ctx.env.get("CM_WATCH_DB", "").strip()
    if raw:
        return Path(raw)
    # named like the deployment record: a rehearsal chain reusing a chain id gets its own file
    return _deployment.record_path(ctx).with_name(
        f"watchtower-{_deployment.record_path(ctx).stem}.sqlite"
    )


def open_store(ctx: Context, contract: Any) -> WatchtowerStore:
    path = store_path(ctx)
    path.parent.mkdir(parents=True, exist_ok=True)
    return WatchtowerStore(
        path, Domain(ctx.chain_id, contract.address), contract.hub(), genesis=ctx.genesis
    )


def _int_env(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole-number setting, zero or more (a clear error, not a traceback, otherwise)."""
    raw = env.get(name, "").strip()
    return parse_whole(raw, name, 0) if raw else default


def build(env: Mapping[str, str] | None = None) -> Watchtower:
    """A watchtower from the environment (the tests build theirs the same way)."""
    ctx = _common.context(env)
    contract = _deployment.manager(ctx)
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
        BrownieChain(ctx, contract),
        open_store(ctx, contract),
        start_block=_deployment.deployment_block(ctx, contract),
        confirmations=_int_env(ctx.env, "CM_WATCH_CONFIRMATIONS", 0),
        reorg_depth=0 if ctx.development else 5,
    )


def main() -> None:
    watch()


@command
def watch(*, env: Mapping[str, str] | None = None) -> Watchtower:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    tower = build(env)
    chain = cast(BrownieChain, tower.chain)
    ctx = chain.ctx
    interval = _int_env(ctx.env, "CM_WATCH_INTERVAL", 5 if ctx.development else 15)
    max_polls = _int_env(ctx.env, "CM_WATCH_MAX_POLLS", 0) or None
    log.info(
        "watching %s on chain %s as %s; store %s; from block %s",
        chain.contract.address,
        ctx.chain_id,
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
    contract = _deployment.manager(ctx)
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
    contract = _deployment.manager(ctx)
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
