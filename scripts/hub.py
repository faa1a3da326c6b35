"""The hub's reserve and the contract's state.

    python tools/run_script.py scripts/hub.py status   --network NAME     # reserve, totals, disputes
    python tools/run_script.py scripts/hub.py fund     5ether 1000ether --network NAME   # ETH, tokens in
    python tools/run_script.py scripts/hub.py withdraw 1ether 0         --network NAME   # hub only

Amounts are base units or `<n>ether` / `<n>e18`. The contract is the one in this chain's
deployment record unless CM_MANAGER names another; the account is CM_ACCOUNT's (see
scripts/_common.py). CM_DRY_RUN=1 checks and simulates without sending.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from brownie import web3

from channel_manager.disputes import running_disputes
from channel_manager.ops import OpsError
from channel_manager.ops.chain_view import model_of
from channel_manager.ops.display import fmt_duration, fmt_time, fmt_units
from channel_manager.ops.inputs import parse_amount
from channel_manager.ops.refusals import preflight
from scripts import _chain_reads, _common, _deployment
from scripts._common import command, say


def main() -> None:
    status()


@command
def status(*, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Print and return the reserve, totals and every running dispute (found from events)."""
    ctx = _common.context(env, need_account=False)
    contract = _deployment.manager(ctx)
    token = _common.token_of(contract)
    now = _chain_reads.next_timestamp(ctx.development) - 1
    info: dict[str, Any] = {
        "address": contract.address,
        "hub": contract.hub(),
        "token": token.address,
        "challenge_period": int(contract.challengePeriod()),
        "eth_balance": int(web3.eth.get_balance(contract.address)),
        "token_balance": int(token.balanceOf(contract.address)),
        "reserve_wei": int(contract.getHubReserveWei()),
        "reserve_token": int(contract.getHubReserveTokens()),
        "total_channel_wei": int(contract.totalChannelWei()),
        "total_channel_token": int(contract.totalChannelToken()),
    }
    events = _chain_reads.fetch_events(
        contract, _deployment.deployment_block(ctx, contract), int(web3.eth.block_number)
    )
    info["disputes"] = running_disputes(
        events, contract, hub=str(info["hub"]), challenge_period=info["challenge_period"], now=now
    )
    say(f"ChannelManager {contract.address} on {ctx.settings.network} (chain {ctx.chain_id})")
    say(
        f"  hub {info['hub']}, token {info['token']}, challenge period {fmt_duration(info['challenge_period'])}"
    )
    say(
        f"  reserve            {fmt_units(info['reserve_wei'])} ETH, {fmt_units(info['reserve_token'])} tokens"
    )
    say(
        f"  locked in channels {fmt_units(info['total_channel_wei'])} ETH, {fmt_units(info['total_channel_token'])} tokens"
    )
    say(
        f"  contract holds     {fmt_units(info['eth_balance'])} ETH, {fmt_units(info['token_balance'])} tokens"
    )
    if not info["disputes"]:
        say("  no running disputes")
    for d in info["disputes"]:
        left = d["deadline"] - now
        when = f"{fmt_time(d['deadline'])} ({'in ' + fmt_duration(left) if left > 0 else 'passed'})"
        say(f"  {d['kind']:<8} {d['what']}: {d['deadline_name']} {when}; {d['detail']}")
    return info


def _amounts(wei: str, token: str, verb: str) -> tuple[int, int]:
    """The ETH and token amounts of a reserve command, at least one of them non-zero."""
    amount_wei = parse_amount(wei, "ETH amount")
    amount_token = parse_amount(token, "token amount")
    if not amount_wei and not amount_token:
        raise OpsError(f"nothing to {verb}: give an ETH amount and/or a token amount")
    return amount_wei, amount_token


@command
def fund(wei: str = "0", token: str = "0", *, env: Mapping[str, str] | None = None) -> list[Any]:
    """Send ETH and/or tokens from the account to the contract: they become hub reserve."""
    amount_wei, amount_token = _amounts(wei, token, "fund")
    ctx = _common.context(env)
    contract = _deployment.manager(ctx)
    sender = ctx.account
    erc20 = _common.token_of(contract)
    eth_held = int(web3.eth.get_balance(sender.address))
    if amount_wei > eth_held:
        raise OpsError(
            f"account {sender.address} holds {fmt_units(eth_held)} ETH, cannot fund {fmt_units(amount_wei)}"
        )
    token_held = int(erc20.balanceOf(sender.address))
    if amount_token > token_held:
        raise OpsError(
            f"account {sender.address} holds {fmt_units(token_held)} tokens, cannot fund {fmt_units(amount_token)}"
        )
    txs = []
    if amount_wei:
        tx = _common.send_data(
            ctx,
            contract.address,
            "0x",
            value=amount_wei,
            summary=f"{fmt_units(amount_wei)} ETH to the reserve",
        )
        if tx is not None:
            txs.append(tx)
    if amount_token:
        tx = _common.send(
            ctx,
            erc20,
            "transfer",
            (contract.address, amount_token),
            summary=f"{fmt_units(amount_token)} tokens to the reserve",
        )
        if tx is not None:
            txs.append(tx)
    say(
        f"reserve now {fmt_units(contract.getHubReserveWei())} ETH, {fmt_units(contract.getHubReserveTokens())} tokens"
    )
    return txs


@command
def withdraw(wei: str = "0", token: str = "0", *, env: Mapping[str, str] | None = None) -> Any:
    """hubContractWithdraw: the hub takes ETH and/or tokens out of its reserve."""
    amount_wei, amount_token = _amounts(wei, token, "withdraw")
    ctx = _common.context(env)
    contract = _deployment.manager(ctx)
    view = _chain_reads.chain_view(contract, development=ctx.development)
    if ctx.account.address != view.hub:
        raise OpsError(
            f"only the hub {view.hub} may withdraw from the reserve; the account is {ctx.account.address}"
        )
    preflight(
        model_of(view),
        "hub_contract_withdraw",
        ctx.account.address,
        view.now,
        amount_wei,
        amount_token,
    )
    return _common.send(
        ctx,
        contract,
        "hubContractWithdraw",
        (amount_wei, amount_token),
        summary=f"withdrawal of {fmt_units(amount_wei)} ETH and {fmt_units(amount_token)} tokens from the reserve",
    )
