"""Submit signed channel and thread states (JSON envelopes, see docs/operations.md).

    python tools/run_script.py scripts/channel.py <command> <args…> --network NAME

    show           USER                  the channel's stored state
    update         STATE.json            hubAuthorizedUpdate (hub's account, user-signed state)
                                         or userAuthorizedUpdate (user's account, hub-signed)
    start_exit     USER                  dispute on the stored state
    exit_with      STATE.json            startExitWithUpdate (double-signed state)
    challenge      STATE.json            emptyChannelWithChallenge (double-signed, newer)
    empty          USER                  emptyChannel (after the window, or by the other party)
    thread_exit    USER INITIAL.json [UPDATE.json]   startExitThread[WithUpdate]
    thread_challenge UPDATE.json         challengeThread
    thread_empty   USER INITIAL.json     emptyThread
    nuke           USER                  nukeThreads (10 challenge periods after closing)
    claim          [TO]                  claim the account's credits (to itself by default)

Before anything is sent each command parses the file, checks the state with the off-chain
package (ranges, signatures recovered against the contract's EIP-712 digest), runs the
reference model on the chain's stored channel (the same rules and error names as the contract:
stale txCount, closed window, expired timeout …), and simulates the call. A refusal prints one
line naming the problem and exits with status 2. CM_DRY_RUN=1 stops after the simulation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from channel_manager.contract_views import status_name
from channel_manager.model import ChannelManagerModel
from channel_manager.ops import OpsError
from channel_manager.ops.chain_view import ChainView, model_of
from channel_manager.ops.display import fmt_time, fmt_units
from channel_manager.ops.envelopes import Envelope, load_envelope
from channel_manager.ops.inputs import parse_address
from channel_manager.ops.prechecks import (
    check_channel_signatures,
    check_channel_state,
    check_envelope_domain,
    check_thread_signature,
)
from channel_manager.ops.refusals import preflight
from channel_manager.states import ChannelState
from scripts import _chain_reads, _common, _deployment, ops_tx
from scripts._common import Context, command, say


def main() -> None:
    say(__doc__ or "")


@dataclass
class Job:
    """A command's context: the account, the contract, the chain's data and its model."""

    ctx: Context
    contract: Any
    view: ChainView
    model: ChannelManagerModel

    @property
    def sender(self) -> str:
        return str(self.ctx.account.address)

    def preflight(self, method: str, *args: Any) -> None:
        preflight(self.model, method, self.sender, self.view.now, *args)

    def send(
        self,
        function: str,
        args: Sequence[Any],
        summary: str,
        value: int = 0,
        state_override: Mapping[str, Any] | None = None,
    ) -> Any:
        return _common.send(
            self.ctx, self.contract, function, args, value=value, summary=summary,
            state_override=state_override,
        )  # fmt: skip


def _job(
    env: Mapping[str, str] | None,
    users: Sequence[str] = (),
    threads: Sequence[tuple[str, str, int]] = (),
    need_account: bool = True,
) -> Job:
    ctx = _common.context(env, need_account=need_account)
    contract = _deployment.manager(ctx)
    view = _chain_reads.chain_view(
        contract, development=ctx.development, users=users, threads=threads
    )
    return Job(ctx, contract, view, model_of(view))


def _user(value: str) -> str:
    return parse_address(value, "user")


def _channel_envelope(
    path: str, env: Mapping[str, str] | None
) -> tuple[Job, Envelope, ChannelState]:
    """Parse first (a bad file is refused before the chain is read), then load the job."""
    envelope = load_envelope(path)
    state = check_channel_state(envelope)
    job = _job(env, users=[state.user])
    check_envelope_domain(envelope, job.view.domain)
    return job, envelope, state


# ------------------------------------------------------------------ channel commands


@command
def show(user: str, *, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    job = _job(env, users=[_user(user)], need_account=False)
    address = _user(user)
    ch = job.model.channel(address)
    info = {
        "user": address,
        "status": status_name(ch.status),
        "wei": (ch.wei_hub, ch.wei_user, ch.wei_total),
        "token": (ch.token_hub, ch.token_user, ch.token_total),
        "tx_count": (ch.tx_count_global, ch.tx_count_chain),
        "thread_count": ch.thread_count,
        "closing_time": ch.closing_time,
        "credit_wei": int(job.contract.creditWei(address)),
        "credit_token": int(job.contract.creditToken(address)),
    }
    say(
        f"channel of {address}: {info['status']}, txCount {list(info['tx_count'])}, {ch.thread_count} thread(s)"
    )
    say(
        f"  ETH   hub {fmt_units(ch.wei_hub)}, user {fmt_units(ch.wei_user)}, total {fmt_units(ch.wei_total)}"
    )
    say(
        f"  token hub {fmt_units(ch.token_hub)}, user {fmt_units(ch.token_user)}, total {fmt_units(ch.token_total)}"
    )
    if ch.closing_time:
        say(
            f"  closing time {fmt_time(ch.closing_time)}, exit initiator {job.model.exit_initiator(address)}"
        )
    if info["credit_wei"] or info["credit_token"]:
        say(
            f"  credit {fmt_units(info['credit_wei'])} ETH, {fmt_units(info['credit_token'])} tokens (claim it)"
        )
    return info


@command
def update(path: str, *, env: Mapping[str, str] | None = None) -> Any:
    """An authorized update: the hub submits a user-signed state, the user a hub-signed one."""
    job, envelope, state = _channel_envelope(path, env)
    if job.sender == job.view.hub:
        _check_signatures(job, envelope, need_hub=False)
        job.preflight("hub_authorized_update", state, envelope.sig_user)
        return job.send(
            "hubAuthorizedUpdate",
            (state.to_tuple(), envelope.sig_user),
            summary=f"authorized update of {state.user}'s channel, txCount {list(state.tx_count)}",
        )
    if job.sender != state.user:
        raise OpsError(f"account {job.sender} is neither the hub nor the state's user {state.user}")
    _check_signatures(job, envelope, need_user=False)
    value = state.pending_wei_updates[2]
    job.preflight("user_authorized_update", state, envelope.sig_hub, value)
    summary = f"authorized update of {state.user}'s channel, txCount {list(state.tx_count)}"
    approval = _approve_deposit(job, state.pending_token_updates[2])
    if approval is _UNSIMULATED:
        say(
            f"dry run: would send {summary}: not simulated (the token's allowance slot was not"
            " found to lend the approval); the reference model accepts it"
        )
        return None
    return job.send(
        "userAuthorizedUpdate",
        (state.to_tuple(), envelope.sig_hub),
        value=value,
        summary=summary,
        state_override=approval,
    )


_UNSIMULATED: dict[str, Any] = {}  # marker: a dry run that cannot simulate the deposit


def _approve_deposit(job: Job, amount: int) -> dict[str, Any] | None:
    """The user's token deposit is pulled by the contract: approve it first if needed. In a dry
    run nothing is approved, so the deposit is simulated with the approval lent to the token
    through a state override (returned here); without it the simulation would refuse falsely."""
    if not amount:
        return None
    token = _common.token_of(job.contract)
    held = int(token.balanceOf(job.sender))
    if held < amount:
        raise OpsError(
            f"the deposit needs {fmt_units(amount)} tokens but {job.sender} holds {fmt_units(held)}"
        )
    if int(token.allowance(job.sender, job.contract.address)) >= amount:
        return None
    _common.send(
        job.ctx,
        token,
        "approve",
        (job.contract.address, amount),
        summary=f"approval of {fmt_units(amount)} tokens for the deposit",
    )
    if not job.ctx.dry_run:
        return None
    override = ops_tx.allowance_override(token.address, job.sender, job.contract.address, amount)
    return _UNSIMULATED if override is None else override


@command
def start_exit(user: str, *, env: Mapping[str, str] | None = None) -> Any:
    return _send_for_user(
        user, env, "start_exit", "startExit", "dispute of {}'s channel on its stored state"
    )


@command
def exit_with(path: str, *, env: Mapping[str, str] | None = None) -> Any:
    job, envelope, state = _channel_envelope(path, env)
    _check_signatures(job, envelope)
    job.preflight("start_exit_with_update", state, envelope.sig_hub, envelope.sig_user)
    return job.send(
        "startExitWithUpdate",
        (state.to_tuple(), envelope.sig_hub, envelope.sig_user),
        summary=f"dispute of {state.user}'s channel with txCount {list(state.tx_count)}",
    )


@command
def challenge(path: str, *, env: Mapping[str, str] | None = None) -> Any:
    job, envelope, state = _channel_envelope(path, env)
    _check_signatures(job, envelope)
    job.preflight("empty_channel_with_challenge", state, envelope.sig_hub, envelope.sig_user)
    closing = job.model.channel(state.user).closing_time
    say(f"challenge window closes at {fmt_time(closing)} ({closing - job.view.now} s from now)")
    return job.send(
        "emptyChannelWithChallenge",
        (state.to_tuple(), envelope.sig_hub, envelope.sig_user),
        summary=f"challenge of {state.user}'s dispute with txCount {list(state.tx_count)}",
    )


def _check_signatures(
    job: Job, envelope: Envelope, *, need_hub: bool = True, need_user: bool = True
) -> None:
    """The envelope's hub and user signatures (those needed) recover to the hub and the state's
    user; a contract user's is left to the simulation."""
    check_channel_signatures(
        envelope,
        job.view.domain,
        job.view.hub,
        need_hub=need_hub,
        need_user=need_user,
        user_is_contract=envelope.channel.user in job.view.contract_signers,
    )


@command
def empty(user: str, *, env: Mapping[str, str] | None = None) -> Any:
    return _send_for_user(user, env, "empty_channel", "emptyChannel", "emptying of {}'s channel")


@command
def nuke(user: str, *, env: Mapping[str, str] | None = None) -> Any:
    return _send_for_user(
        user, env, "nuke_threads", "nukeThreads", "nuking of {}'s remaining threads"
    )


def _send_for_user(
    user: str, env: Mapping[str, str] | None, check: str, method: str, summary: str
) -> Any:
    """A call whose one argument is the channel's user: the model's `check` first, then
    `method`; `summary` names the user where it has `{}`."""
    address = _user(user)
    job = _job(env, users=[address])
    job.preflight(check, address)
    return job.send(method, (address,), summary=summary.format(address))


@command
def claim(to: str = "", *, env: Mapping[str, str] | None = None) -> Any:
    job = _job(env)
    recipient = parse_address(to, "recipient") if to else job.sender
    job.model.credit_wei[job.sender] = int(job.contract.creditWei(job.sender))
    job.model.credit_token[job.sender] = int(job.contract.creditToken(job.sender))
    job.preflight("claim", recipient)
    return job.send(
        "claim", (recipient,), summary=f"claim of {job.sender}'s credits to {recipient}"
    )


# ------------------------------------------------------------------ thread commands


def _thread_envelope(path: str) -> Envelope:
    envelope = load_envelope(path)
    if envelope.kind != "thread":
        raise OpsError(f"{envelope.source}: expected a thread state, got a {envelope.kind} state")
    return envelope


def _thread_job(env: Mapping[str, str] | None, user: str, *envelopes: Envelope) -> Job:
    state = envelopes[0].thread
    job = _job(env, users=[user] if user else [], threads=[state.key])
    for envelope in envelopes:
        check_envelope_domain(envelope, job.view.domain)
        check_thread_signature(
            envelope,
            job.view.domain,
            sender_is_contract=envelope.thread.sender in job.view.contract_signers,
        )
    return job


@command
def thread_exit(
    user: str, initial_path: str, update_path: str = "", *, env: Mapping[str, str] | None = None
) -> Any:
    """startExitThread with the initial state, or startExitThreadWithUpdate with a later one."""
    address = _user(user)
    initial = _thread_envelope(initial_path)
    update_env = _thread_envelope(update_path) if update_path else None
    job = _thread_job(env, address, initial, *([update_env] if update_env else []))
    args = (address, initial.thread.to_tuple(), list(initial.proof), initial.sig)
    if update_env is None:
        job.preflight("start_exit_thread", address, initial.thread, initial.proof, initial.sig)
        return job.send(
            "startExitThread",
            args,
            summary=f"thread dispute {_name(initial)} in {address}'s channel",
        )
    job.preflight(
        "start_exit_thread_with_update",
        address,
        initial.thread,
        initial.proof,
        initial.sig,
        update_env.thread,
        update_env.sig,
    )
    return job.send(
        "startExitThreadWithUpdate",
        (*args, update_env.thread.to_tuple(), update_env.sig),
        summary=f"thread dispute {_name(initial)} at txCount {update_env.thread.tx_count}",
    )


@command
def thread_challenge(path: str, *, env: Mapping[str, str] | None = None) -> Any:
    envelope = _thread_envelope(path)
    job = _thread_job(env, "", envelope)
    job.preflight("challenge_thread", envelope.thread, envelope.sig)
    return job.send(
        "challengeThread",
        (envelope.thread.to_tuple(), envelope.sig),
        summary=f"thread challenge {_name(envelope)} with txCount {envelope.thread.tx_count}",
    )


@command
def thread_empty(user: str, initial_path: str, *, env: Mapping[str, str] | None = None) -> Any:
    address = _user(user)
    initial = _thread_envelope(initial_path)
    job = _thread_job(env, address, initial)
    job.preflight("empty_thread", address, initial.thread, initial.proof, initial.sig)
    return job.send(
        "emptyThread",
        (address, initial.thread.to_tuple(), list(initial.proof), initial.sig),
        summary=f"thread settlement {_name(initial)} in {address}'s channel",
    )


def _name(envelope: Envelope) -> str:
    t = envelope.thread
    return f"{t.sender} -> {t.receiver} #{t.thread_id}"
