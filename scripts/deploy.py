"""Deploy a ChannelManager and write its deployment record.

    python tools/run_script.py scripts/deploy.py --network NAME
    CM_DRY_RUN=1 python tools/run_script.py scripts/deploy.py --network sepolia   # send nothing

Settings come from deployments/config.yaml (per network, local chains share its `development`
entry) and these environment variables, which override the file:

    CM_HUB, CM_TOKEN, CM_CHALLENGE_PERIOD   constructor arguments
    CM_ACCOUNT, CM_PRIVATE_KEY              the deployer (see scripts/_common.py)
    CM_MAX_FEE, CM_PRIORITY_FEE             EIP-1559 fees (CM_GAS_PRICE: legacy nodes)
    CM_CONFIRMATIONS, CM_TX_TIMEOUT         blocks to wait for; the bound of each wait (s)
    CM_DRY_RUN=1   pre-flight, fees and gas only     CM_YES=1    no confirmation question
    CM_FORCE=1     deploy although this chain has a deployment record (kept aside, and said)
    CM_REPLACE=1   resend a pending deployment with higher fees (same nonce: same address)
    CM_ADOPT=0x…   record an existing deployment: its creation transaction hash, or its address

A deployment survives faults. The moment the creation transaction is sent its hash and the
address the contract will have (the deployer's address and nonce decide it) are printed and a
*pending* record is written; the waits for the receipt and the confirmations are bounded
(CM_TX_TIMEOUT) and ride out an RPC drop. A rerun finds the pending record and resumes: it
waits again, sends the same signed transaction again if the node lost it, or (CM_REPLACE=1)
replaces it with higher fees and the same nonce; a second contract is never deployed.

On local chains it first deploys the test token (contracts/test/TestToken.sol, Dai-like,
18 decimals) and funds the hub reserve from the deployer. Records: see `_deployment.record_path`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import brownie
from brownie import web3
from web3.exceptions import TransactionNotFound

from channel_manager.ops import OpsError
from channel_manager.ops.display import fmt_units
from channel_manager.ops.inputs import flag
from scripts import _common, _deployment
from scripts._common import Context, command, say
from scripts._deploy_plan import (
    TEST_TOKEN_ARGS,
    Plan,
    check_existing_record,
    check_funds,
    confirm,
    estimate,
    estimate_gas,
    plan_deployment,
    print_summary,
    print_transactions,
)
from scripts._deploy_record import (
    adopt,
    build_record,
    note_sent,
    pending_record,
    set_aside,
    write_record,
)
from scripts.ops_tx import TxFailed, unknown


def main() -> None:
    run()


@command
def run(*, env: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """Deploy (or, with CM_DRY_RUN=1, only check and estimate). Returns the record written."""
    ctx = _common.context(env, deploying=True)
    path = _deployment.record_path(ctx)
    if ctx.env.get("CM_ADOPT", "").strip():
        return adopt(ctx, path, ctx.env["CM_ADOPT"].strip())
    existing = _deployment.read_record(path, ctx)
    if existing is not None and existing.get("status") in ("pending", "mined"):
        return resume(ctx, path, existing)
    plan = plan_deployment(ctx, path)
    check_existing_record(plan, existing)
    estimate_gas(plan)
    plan.fees = ctx.sender.fees
    check_funds(plan)
    print_summary(plan)
    if ctx.dry_run:
        print_transactions(plan)
        say("dry run: nothing was sent")
        return None
    confirm(ctx)
    if plan.replaces is not None:
        kept = set_aside(path, "replaced")
        say(f"the previous record ({plan.replaces.get('address')}) is kept as {kept}")
    return send_deployment(plan)


def send_deployment(plan: Plan) -> dict[str, Any]:
    ctx = plan.ctx
    sender = ctx.sender
    token = plan.token
    extra: dict[str, Any] = {}
    if token is None:
        sent = sender.send(
            None,
            brownie.TestToken.deploy.encode_input(*TEST_TOKEN_ARGS),
            gas=_common.gas_limit(plan.gas_token),
            nonce=sender.next_nonce(ctx.env),
            summary="TestToken deployment",
        )
        token = str(sent.contract_address)
        extra["test_token"] = {"address": token, "transaction": sent.txid}
        say(f"test token deployed at {token}")
    nonce = sender.next_nonce(ctx.env)
    pending = pending_record(
        ctx, plan.deployer.address, nonce, plan.hub, plan.challenge_period, token
    )
    pending.update(extra, fees=sender.fees.to_json())
    data = creation_code(plan.hub, plan.challenge_period, token)
    txid, raw = sender.submit(
        None, data, value=0, gas=_common.gas_limit(plan.gas_manager), nonce=nonce
    )
    note_sent(plan.record_path, pending, txid, raw)
    return await_deployment(ctx, plan.record_path, pending)


def creation_code(hub: str, period: int, token: str) -> str:
    return brownie.ChannelManager.deploy.encode_input(hub, period, token)


def await_deployment(ctx: Context, path: Path, pending: dict[str, Any]) -> dict[str, Any]:
    """Bounded waits for the receipt and the confirmations, the record updated on the way."""
    sender = ctx.sender
    receipt = sender.wait_mined(
        pending["transaction"],
        nonce=int(pending["nonce"]),
        raw=pending.get("raw_transaction"),
        summary="ChannelManager deployment",
    )
    if int(receipt["status"]) != 1:
        kept = set_aside(path, "failed")
        raise TxFailed(
            f"the deployment {pending['transaction']} reverted in block {receipt['blockNumber']}:"
            f" nothing was deployed (record kept as {kept}); run again to deploy"
        )
    pending.update(status="mined", block=int(receipt["blockNumber"]))
    write_record(path, pending)
    say(
        f"  mined in block {receipt['blockNumber']}; waiting for {ctx.confirmations} confirmation(s)"
    )
    receipt = sender.wait_confirmed(
        pending["transaction"], receipt, summary="ChannelManager deployment"
    )
    return finish(ctx, path, pending, receipt)


def resume(ctx: Context, path: Path, pending: dict[str, Any]) -> dict[str, Any] | None:
    """A pending record from an earlier run: finish it, never deploy a second contract."""
    if flag(ctx.env, "CM_FORCE"):
        raise OpsError(
            f"{path} holds a pending deployment ({pending.get('transaction')}): it may still be mined;"
            " run without CM_FORCE to finish it (CM_REPLACE=1 raises its fees)"
        )
    txid, nonce, address = pending["transaction"], int(pending["nonce"]), pending["address"]
    say(
        f"resuming the pending deployment of {path}: {txid} (nonce {nonce}), ChannelManager at {address}"
    )
    if ctx.account.address != pending["deployer"]:
        raise OpsError(
            f"the pending deployment was sent by {pending['deployer']}, the account is {ctx.account.address}"
        )
    receipt = _first_receipt(pending["attempts"])
    if receipt is not None:
        pending["transaction"] = "0x" + bytes(receipt["transactionHash"]).hex()
        say(f"  it was mined in block {receipt['blockNumber']}")
        return await_deployment(ctx, path, pending)
    used = int(web3.eth.get_transaction_count(pending["deployer"], "latest"))
    if used > nonce and not web3.eth.get_code(address):
        kept = set_aside(path, "abandoned")
        raise OpsError(
            f"the pending deployment can never be mined: nonce {nonce} was used by another transaction"
            f" and {address} has no code (record kept as {kept}); run again to deploy"
        )
    if ctx.dry_run:
        say(f"dry run: the deployment {txid} is still pending; a real run waits for it again")
        return None
    sender = ctx.sender
    known = not all(unknown(t) for t in pending["attempts"])
    if flag(ctx.env, "CM_REPLACE") or (not known and not pending.get("raw_transaction")):
        if known:
            sender.fees = sender.fees.raised_over(pending.get("fees") or {})
            say(
                f"  replacing it with higher fees ({sender.fees.describe()}), same nonce, same address"
            )
        else:
            say("  the node does not know it: sending it again (same nonce, same address)")
        args = pending["constructor_args"]
        data = creation_code(args["hub"], int(args["challengePeriod"]), args["approvedToken"])
        gas = _common.gas_limit(estimate({"from": pending["deployer"], "data": data}))
        new_txid, raw = sender.submit(None, data, value=0, gas=gas, nonce=nonce)
        pending["fees"] = sender.fees.to_json()
        note_sent(path, pending, new_txid, raw)
    else:
        say("  still pending: waiting for it again")
    return await_deployment(ctx, path, pending)


def _first_receipt(txids: list[str]) -> Mapping[str, Any] | None:
    """The receipt of whichever attempt was mined (a replaced one can win the race)."""
    for txid in reversed(txids):
        try:
            return web3.eth.get_transaction_receipt(txid)
        except TransactionNotFound:
            continue
    return None


def finish(
    ctx: Context, path: Path, pending: Mapping[str, Any], receipt: Mapping[str, Any]
) -> dict[str, Any]:
    """Check the contract answers with the constructor settings sent, then write the record."""
    address = receipt.get("contractAddress")
    if address != pending["address"]:
        raise OpsError(f"the deployment created {address}, not the expected {pending['address']}")
    args = pending["constructor_args"]
    manager = _common.contract_at("ChannelManager", address, brownie.ChannelManager.abi)
    got = (manager.hub(), int(manager.challengePeriod()), manager.approvedToken())
    if got != (args["hub"], int(args["challengePeriod"]), args["approvedToken"]):
        raise OpsError(f"deployed contract {address} reports other constructor settings than sent")
    record = build_record(ctx, pending, receipt)
    write_record(path, record)
    say(
        f"ChannelManager deployed at {address} (tx {record['transaction']}, block {record['block']})"
    )
    say(f"record written to {path}")
    if ctx.development and "reserve_funded" not in pending:
        record["reserve_funded"] = fund_local_reserve(ctx, manager, "test_token" in record)
        write_record(path, record)
    return record


def fund_local_reserve(ctx: Context, manager: Any, test_token: bool) -> dict[str, str]:
    """Local chains: the deployer sends ETH and freshly minted test tokens to the reserve."""
    settings = ctx.settings
    if settings.fund_reserve_wei:
        _common.send_data(
            ctx,
            manager.address,
            "0x",
            value=settings.fund_reserve_wei,
            summary="reserve funding (ETH)",
        )
    if settings.fund_reserve_token and not test_token:
        say("note: token reserve funding skipped: only the test token can be minted for it")
    elif settings.fund_reserve_token:
        token = _common.contract_at("TestToken", manager.approvedToken(), brownie.TestToken.abi)
        amount = settings.fund_reserve_token
        _common.send(
            ctx, token, "mint", (ctx.account.address, amount), summary="test tokens for the reserve"
        )
        _common.send(
            ctx, token, "transfer", (manager.address, amount), summary="reserve funding (tokens)"
        )
    say(
        f"hub reserve: {fmt_units(manager.getHubReserveWei())} ETH, {fmt_units(manager.getHubReserveTokens())} tokens"
    )
    return {"wei": str(settings.fund_reserve_wei), "token": str(settings.fund_reserve_token)}
