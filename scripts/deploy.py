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
18 decimals) and funds the hub reserve from the deployer. Records: see `_common.record_path`.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import brownie
from brownie import chain, web3
from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address
from web3.exceptions import TransactionNotFound

from channel_manager.ops import OpsError
from channel_manager.ops.inputs import flag, parse_address
from channel_manager.ops.settings import DEPLOYER, TEST_TOKEN
from scripts import _common
from scripts._common import Context, command, fmt_duration, fmt_units, say
from scripts.ops_tx import Fees, TxFailed, gwei, unknown

TEST_TOKEN_ARGS = ("Test Dai", "TDAI")
CONSTRUCTOR_TYPES = ["address", "uint256", "address"]
# Gas of each reserve-funding transaction on a local chain (ETH transfer, mint, transfer).
FUNDING_GAS = 120_000


@dataclass
class Plan:
    """Everything the deployment will send, decided and checked before anything is sent."""

    ctx: Context
    deployer: Any
    hub: str
    token: str | None  # None: the test token is deployed first (local chains)
    challenge_period: int
    record_path: Path
    gas_token: int = 0
    gas_manager: int = 0
    fees: Fees | None = None
    token_info: str = ""
    replaces: dict[str, Any] | None = None  # a record CM_FORCE=1 sets aside
    nonce: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def gas_total(self) -> int:
        funding = FUNDING_GAS * 3 if self.ctx.development else 0
        return self.gas_token + self.gas_manager + funding

    @property
    def cost(self) -> int:
        """The most it can cost: every gas unit at the max fee, plus local reserve funding."""
        assert self.fees is not None
        return self.gas_total * self.fees.max_fee + self.ctx.settings.fund_reserve_wei


def main() -> None:
    run()


@command
def run(*, env: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """Deploy (or, with CM_DRY_RUN=1, only check and estimate). Returns the record written."""
    ctx = _common.context(env, deploying=True)
    path = _common.record_path(ctx)
    if ctx.env.get("CM_ADOPT", "").strip():
        return adopt(ctx, path, ctx.env["CM_ADOPT"].strip())
    existing = _common.read_record(path, ctx)
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


# ------------------------------------------------------------------ pre-flight


def plan_deployment(ctx: Context, path: Path) -> Plan:
    """Resolve hub and token and check them against the chain."""
    settings = ctx.settings
    deployer = ctx.account
    assert settings.hub is not None and settings.token is not None
    assert settings.challenge_period is not None
    hub = deployer.address if settings.hub == DEPLOYER else settings.hub
    if not ctx.development and web3.eth.get_code(hub):
        raise OpsError(
            f"hub {hub} is a contract: the hub signs states with a key (docs/protocol.md §3), use an EOA"
        )
    plan = Plan(
        ctx=ctx,
        deployer=deployer,
        hub=hub,
        token=None if settings.token == TEST_TOKEN else settings.token,
        challenge_period=settings.challenge_period,
        record_path=path,
    )
    if plan.token is not None:
        plan.token_info = check_token(plan.token, hub)
    else:
        plan.token_info = (
            f"TestToken {TEST_TOKEN_ARGS[1]} (deployed first, 18 decimals, local chains only)"
        )
    return plan


def check_token(address: str, hub: str) -> str:
    """The token has code and answers decimals/totalSupply/balanceOf."""
    _common.require_code(address, "token")
    token = web3.eth.contract(address=address, abi=_common.ERC20_ABI)
    try:
        decimals = token.functions.decimals().call()
        supply = token.functions.totalSupply().call()
        token.functions.balanceOf(hub).call()
    except _common.CONNECTION_ERRORS:
        raise
    except Exception:
        raise OpsError(
            f"token {address} does not answer ERC20 calls (decimals, totalSupply, balanceOf)"
        ) from None
    try:
        symbol = token.functions.symbol().call()
    except Exception:
        symbol = "?"
    return f"{symbol} at {address} ({decimals} decimals, supply {fmt_units(supply, decimals)})"


def check_existing_record(plan: Plan, record: Mapping[str, Any] | None) -> None:
    """One deployment per chain: a record stops a second deployment unless CM_FORCE=1, which
    says which record it replaces (the old file is kept aside, never overwritten)."""
    if record is None:
        return
    path = plan.record_path
    current = _common.record_is_current(record)
    where = (
        f"in block {record.get('block')} (tx {record.get('transaction')}) on this chain"
        if current
        else "but does not match this chain (its block is not on it)"
    )
    what = f"deployment record {path} names ChannelManager {record.get('address')} {where}"
    if not flag(plan.ctx.env, "CM_FORCE"):
        raise OpsError(f"{what}: set CM_FORCE=1 to deploy another")
    say(f"note: CM_FORCE=1: {what}; it will be kept aside and replaced by the new record")
    plan.replaces = dict(record)


def estimate_gas(plan: Plan) -> None:
    """Gas of the deployment transactions, estimated by the node."""
    deployer = plan.deployer.address
    ChannelManager = brownie.ChannelManager
    token = plan.token
    override: dict[str, Any] = {}
    nonce = int(web3.eth.get_transaction_count(deployer, "pending"))
    if token is None:
        TestToken = brownie.TestToken
        plan.gas_token = _estimate(
            {"from": deployer, "data": TestToken.deploy.encode_input(*TEST_TOKEN_ARGS)}
        )
        # the manager's constructor needs the token's code: lend it to the address the token
        # will get (the deployer's next CREATE) for the estimate only, estimated at the nonce after
        token = create_address(deployer, nonce)
        override = {
            token: {"code": "0x" + TestToken._build["deployedBytecode"].removeprefix("0x")},
            deployer: {"nonce": nonce + 1},
        }
        nonce += 1
    plan.nonce = nonce
    data = ChannelManager.deploy.encode_input(plan.hub, plan.challenge_period, token)
    plan.gas_manager = _estimate({"from": deployer, "data": data}, override)


def _estimate(tx: dict[str, Any], override: dict[str, Any] | None = None) -> int:
    try:
        if override:
            return int(web3.eth.estimate_gas(tx, "latest", override))
        return int(web3.eth.estimate_gas(tx))
    except _common.CONNECTION_ERRORS:
        raise
    except Exception as exc:
        raise OpsError(
            f"the deployment would fail: gas estimate refused ({_common.short(exc)})"
        ) from None


def create_address(sender: str, nonce: int) -> str:
    """The address a CREATE from `sender` at `nonce` gives (why a replacement keeps it)."""
    import rlp  # brownie's dependency (eth-rlp)

    return to_checksum_address(keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:])


def check_funds(plan: Plan) -> None:
    assert plan.fees is not None
    balance = int(web3.eth.get_balance(plan.deployer.address))
    if balance < plan.cost:
        raise OpsError(
            f"deployer {plan.deployer.address} holds {fmt_units(balance)} ETH but the deployment needs"
            f" up to {fmt_units(plan.cost)} ETH ({plan.gas_total:,} gas at a max fee of {gwei(plan.fees.max_fee)}"
            + (
                f" + {fmt_units(plan.ctx.settings.fund_reserve_wei)} ETH reserve funding)"
                if plan.ctx.settings.fund_reserve_wei
                else ")"
            )
        )


def print_summary(plan: Plan) -> None:
    settings = plan.ctx.settings
    src = settings.sources
    assert plan.fees is not None
    say(
        f"ChannelManager deployment on {settings.network} (chain {plan.ctx.chain_id}"
        f"{', local' if plan.ctx.development else ''}, genesis {plan.ctx.genesis[:10]}…)"
    )
    say(
        f"  deployer         {plan.deployer.address} (balance {fmt_units(web3.eth.get_balance(plan.deployer.address))} ETH)"
    )
    say(f"  hub              {plan.hub}  [{src.get('hub', 'config')}]")
    say(f"  token            {plan.token_info}  [{src.get('token', 'config')}]")
    say(
        f"  challenge period {plan.challenge_period} s ({fmt_duration(plan.challenge_period)})"
        f"  [{src.get('challenge_period', 'config')}]"
    )
    if plan.ctx.development and (settings.fund_reserve_wei or settings.fund_reserve_token):
        say(
            f"  reserve funding  {fmt_units(settings.fund_reserve_wei)} ETH, {fmt_units(settings.fund_reserve_token)} tokens"
        )
    say(f"  gas              {plan.gas_total:,} (token {plan.gas_token:,}, manager {plan.gas_manager:,})")
    say(f"  fees             {plan.fees.describe()}")
    likely = plan.gas_total * plan.fees.likely_price()
    say(
        f"  cost             ≈ {fmt_units(likely)} ETH at the current base fee,"
        f" at most {fmt_units(plan.gas_total * plan.fees.max_fee)} ETH"
    )
    say(
        f"  waits            {settings.confirmations} confirmation(s), at most {settings.tx_timeout} s"
        " for mining and again for the confirmations"
    )
    compiler = brownie.ChannelManager._build["compiler"]
    say(
        f"  compiler         solc {compiler['version']}, evm {compiler['evm_version']}, optimizer {compiler['optimizer']}"
    )
    commit, dirty = git_state()
    say(f"  git commit       {commit}{' (uncommitted changes in contracts/)' if dirty else ''}")
    say(
        f"  address          {create_address(plan.deployer.address, plan.nonce)}"
        f" (deployer nonce {plan.nonce})"
    )
    say(f"  record           {plan.record_path}")


def print_transactions(plan: Plan) -> None:
    """What a real run would send, in order."""
    init_code = len(bytes.fromhex(brownie.ChannelManager.bytecode.removeprefix("0x"))) + 96
    sends = []
    if plan.token is None:
        sends.append(f"create TestToken{TEST_TOKEN_ARGS} (gas ≈ {plan.gas_token:,})")
    sends.append(
        f"create ChannelManager({plan.hub}, {plan.challenge_period}, {plan.token or 'the test token'})"
        f" from {plan.deployer.address}: {init_code:,} bytes of init code (gas ≈ {plan.gas_manager:,})"
    )
    settings = plan.ctx.settings
    if plan.ctx.development and settings.fund_reserve_wei:
        sends.append(f"send {fmt_units(settings.fund_reserve_wei)} ETH to the reserve")
    if plan.ctx.development and settings.fund_reserve_token and plan.token is None:
        sends.append(
            f"mint and send {fmt_units(settings.fund_reserve_token)} test tokens to the reserve"
        )
    for number, text in enumerate(sends, 1):
        say(f"would send {number}: {text}")


def confirm(ctx: Context) -> None:
    """Public networks ask first (CM_YES=1 skips the question); local chains never ask."""
    if ctx.development or flag(ctx.env, "CM_YES"):
        return
    try:
        answer = input(
            f"Deploy to {ctx.settings.network} (chain {ctx.chain_id})? Type 'deploy' to continue: "
        )
    except EOFError:
        answer = ""
    if answer.strip() != "deploy":
        raise OpsError("deployment not confirmed: nothing was sent (CM_YES=1 skips the question)")


# ------------------------------------------------------------------ sending


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
    pending = pending_record(ctx, plan.deployer.address, nonce, plan.hub, plan.challenge_period, token)
    pending.update(extra, fees=sender.fees.to_json())
    data = creation_code(plan.hub, plan.challenge_period, token)
    txid, raw = sender.submit(None, data, value=0, gas=_common.gas_limit(plan.gas_manager), nonce=nonce)
    note_sent(plan.record_path, pending, txid, raw)
    return await_deployment(ctx, plan.record_path, pending)


def creation_code(hub: str, period: int, token: str) -> str:
    return brownie.ChannelManager.deploy.encode_input(hub, period, token)


def pending_record(
    ctx: Context, deployer: str, nonce: int, hub: str, period: int, token: str
) -> dict[str, Any]:
    encoded = encode(CONSTRUCTOR_TYPES, [hub, period, token])
    return {
        "contract": "ChannelManager",
        "status": "pending",
        "network": ctx.settings.network,
        "chain_id": ctx.chain_id,
        "genesis_hash": ctx.genesis,
        "address": create_address(deployer, nonce),
        "deployer": deployer,
        "nonce": nonce,
        "constructor_args": {"hub": hub, "challengePeriod": period, "approvedToken": token},
        "constructor_args_encoded": "0x" + encoded.hex(),
        "attempts": [],
    }


def note_sent(path: Path, pending: dict[str, Any], txid: str, raw: str | None) -> None:
    """Written before anything is waited for: a crash, a kill or a timeout from here on leaves a
    record a rerun resumes from."""
    pending.update(transaction=txid, raw_transaction=raw, sent_at=int(time.time()))
    pending["attempts"] = [*pending.get("attempts", []), txid]
    write_record(path, pending)
    say(
        f"sent ChannelManager deployment: {txid} (nonce {pending['nonce']});"
        f" the contract will be at {pending['address']}"
    )
    say(f"  pending record written to {path}: if this run is cut short, run it again to resume")


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
    say(f"  mined in block {receipt['blockNumber']}; waiting for {ctx.confirmations} confirmation(s)")
    receipt = sender.wait_confirmed(pending["transaction"], receipt, summary="ChannelManager deployment")
    return finish(ctx, path, pending, receipt)


def resume(ctx: Context, path: Path, pending: dict[str, Any]) -> dict[str, Any] | None:
    """A pending record from an earlier run: finish it, never deploy a second contract."""
    if flag(ctx.env, "CM_FORCE"):
        raise OpsError(
            f"{path} holds a pending deployment ({pending.get('transaction')}): it may still be mined;"
            " run without CM_FORCE to finish it (CM_REPLACE=1 raises its fees)"
        )
    txid, nonce, address = pending["transaction"], int(pending["nonce"]), pending["address"]
    say(f"resuming the pending deployment of {path}: {txid} (nonce {nonce}), ChannelManager at {address}")
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
            say(f"  replacing it with higher fees ({sender.fees.describe()}), same nonce, same address")
        else:
            say("  the node does not know it: sending it again (same nonce, same address)")
        args = pending["constructor_args"]
        data = creation_code(args["hub"], int(args["challengePeriod"]), args["approvedToken"])
        gas = _common.gas_limit(_estimate({"from": pending["deployer"], "data": data}))
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
    say(f"ChannelManager deployed at {address} (tx {record['transaction']}, block {record['block']})")
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
            ctx, manager.address, "0x", value=settings.fund_reserve_wei, summary="reserve funding (ETH)"
        )
    if settings.fund_reserve_token and not test_token:
        say("note: token reserve funding skipped: only the test token can be minted for it")
    elif settings.fund_reserve_token:
        token = _common.contract_at("TestToken", manager.approvedToken(), brownie.TestToken.abi)
        amount = settings.fund_reserve_token
        _common.send(ctx, token, "mint", (ctx.account.address, amount), summary="test tokens for the reserve")
        _common.send(ctx, token, "transfer", (manager.address, amount), summary="reserve funding (tokens)")
    say(
        f"hub reserve: {fmt_units(manager.getHubReserveWei())} ETH, {fmt_units(manager.getHubReserveTokens())} tokens"
    )
    return {"wei": str(settings.fund_reserve_wei), "token": str(settings.fund_reserve_token)}


# ------------------------------------------------------------------ adopting a deployment


def adopt(ctx: Context, path: Path, value: str) -> dict[str, Any]:
    """CM_ADOPT: the record of a ChannelManager deployed from this build by other means (or a
    deployment whose record was lost): its creation transaction, or its address (then the
    creation block is searched with historical eth_getCode: an archive node is needed)."""
    text = value.strip()
    if len(text) == 66 and text.startswith("0x"):
        txid = text.lower()
    else:
        address = parse_address(text, "CM_ADOPT")
        txid = find_creation(address)
    try:
        tx = web3.eth.get_transaction(txid)
        receipt = web3.eth.get_transaction_receipt(txid)
    except TransactionNotFound:
        raise OpsError(f"CM_ADOPT: transaction {txid} is not mined on this chain") from None
    if int(receipt["status"]) != 1 or not receipt.get("contractAddress"):
        raise OpsError(f"CM_ADOPT: transaction {txid} created no contract")
    code = _common.hex0x(tx["input"])
    bytecode = "0x" + brownie.ChannelManager.bytecode.removeprefix("0x").lower()
    if not code.startswith(bytecode) or len(code) != len(bytecode) + 192:
        raise OpsError(
            f"CM_ADOPT: {txid} did not deploy this build's ChannelManager (its creation code differs)"
        )
    hub, period, token = decode(CONSTRUCTOR_TYPES, bytes.fromhex(code[len(bytecode):]))
    address = str(receipt["contractAddress"])
    head = int(web3.eth.block_number)
    have = head - int(receipt["blockNumber"]) + 1
    if have < ctx.confirmations:
        raise OpsError(f"CM_ADOPT: {txid} has {have} of {ctx.confirmations} confirmations: adopt it later")
    existing = _common.read_record(path, ctx)
    if existing is not None and existing.get("address") == address and existing.get("status") == "deployed":
        say(f"{path} already records {address}")
        return existing
    if existing is not None:
        what = f"{path} names {existing.get('address')} ({existing.get('status', 'deployed')})"
        if not flag(ctx.env, "CM_FORCE"):
            raise OpsError(f"CM_ADOPT: {what}: set CM_FORCE=1 to replace it")
        say(f"note: CM_FORCE=1: {what}; kept as {set_aside(path, 'replaced')}")
    pending = pending_record(
        ctx, to_checksum_address(tx["from"]), int(tx["nonce"]), to_checksum_address(hub), int(period),
        to_checksum_address(token),
    )  # fmt: skip
    pending["transaction"] = txid
    record = build_record(ctx, pending, receipt) | {"adopted": True}
    write_record(path, record)
    say(f"adopted ChannelManager {address} (tx {txid}, block {record['block']}): record written to {path}")
    return record


def find_creation(address: str) -> str:
    """The transaction that created `address`: the first block with its code (binary search on
    historical state), then that block's creation receipts."""
    if not web3.eth.get_code(address):
        raise OpsError(f"CM_ADOPT: {address} has no code on chain {chain.id}")
    low, high = 0, int(web3.eth.block_number)
    try:
        while low < high:
            middle = (low + high) // 2
            if web3.eth.get_code(address, middle):
                high = middle
            else:
                low = middle + 1
    except _common.CONNECTION_ERRORS:
        raise
    except Exception:
        raise OpsError(
            "CM_ADOPT: this node cannot read old state (not an archive node): give the creation"
            " transaction hash instead"
        ) from None
    block = web3.eth.get_block(low, full_transactions=True)
    for tx in block["transactions"]:
        if tx.get("to") is None:
            receipt = web3.eth.get_transaction_receipt(tx["hash"])
            if receipt.get("contractAddress") == address:
                return "0x" + bytes(tx["hash"]).hex()
    raise OpsError(
        f"CM_ADOPT: {address} was not created by a plain creation transaction in block {low}"
        " (a factory?): give the creation transaction hash"
    )


# ------------------------------------------------------------------ the record


def build_record(ctx: Context, pending: Mapping[str, Any], receipt: Mapping[str, Any]) -> dict[str, Any]:
    build = brownie.ChannelManager._build
    block = web3.eth.get_block(int(receipt["blockNumber"]))
    commit, dirty = git_state()
    record = {
        key: pending[key]
        for key in (
            "contract", "network", "chain_id", "genesis_hash", "address", "deployer", "nonce",
            "constructor_args", "constructor_args_encoded", "test_token", "reserve_funded",
        )
        if key in pending
    }  # fmt: skip
    record.update(
        {
            "status": "deployed",
            "transaction": "0x" + bytes(receipt["transactionHash"]).hex(),
            "block": int(receipt["blockNumber"]),
            "block_hash": _common.hex0x(block["hash"]),
            "timestamp": int(block["timestamp"]),
            "compiler": {
                "version": build["compiler"]["version"],
                "evm_version": build["compiler"]["evm_version"],
                "optimizer": build["compiler"]["optimizer"],
            },
            "bytecode_keccak": "0x" + keccak(hexstr=build["bytecode"]).hex(),
            "deployed_bytecode_keccak": "0x" + keccak(hexstr=build["deployedBytecode"]).hex(),
            "codehash": "0x" + keccak(bytes(web3.eth.get_code(record["address"]))).hex(),
            "git_commit": commit,
            "git_dirty": dirty,
        }
    )
    return record


def git_state() -> tuple[str, bool]:
    """HEAD's commit, and whether the contract sources differ from it."""
    root = _common.ROOT
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", "contracts", "interfaces", "brownie-config.yaml"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown", False
    return commit, bool(status.strip())


def write_record(path: Path, record: Mapping[str, Any]) -> None:
    """Write atomically: a crash never leaves half a record."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(path)


def set_aside(path: Path, why: str) -> Path:
    """Move a record out of the way (never delete one): <stem>.<why>-<UTC time>.json."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = path.with_name(f"{path.stem}.{why}-{stamp}.json")
    counter = 1
    while target.exists():
        counter += 1
        target = path.with_name(f"{path.stem}.{why}-{stamp}-{counter}.json")
    path.replace(target)
    return target
