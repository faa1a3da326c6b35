"""Deploy a ChannelManager and write its deployment record.

    brownie run scripts/deploy.py --network NAME
    CM_DRY_RUN=1 brownie run scripts/deploy.py --network sepolia      # check, estimate, send nothing

Settings come from deployments/config.yaml (per network, local chains share its `development`
entry) and these environment variables, which override the file:

    CM_HUB, CM_TOKEN, CM_CHALLENGE_PERIOD   constructor arguments
    CM_ACCOUNT, CM_PRIVATE_KEY              the deployer (see scripts/_common.py)
    CM_DRY_RUN=1   pre-flight and gas estimate only     CM_YES=1    no confirmation question
    CM_FORCE=1     deploy although this chain already has a deployment record

On local chains it first deploys the test token (contracts/test/TestToken.sol, Dai-like,
18 decimals) and funds the hub reserve from the deployer. The record goes to
deployments/<chain-id>.json (local chains: deployments/dev/<chain-id>.json, gitignored).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import brownie
from brownie import chain, web3
from eth_abi import encode
from eth_utils import keccak

from channel_manager import ops
from channel_manager.ops import OpsError
from scripts import _common
from scripts._common import Context, command, fmt_duration, fmt_units, say

TEST_TOKEN_ARGS = ("Test Dai", "TDAI")
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
    gas_price: int = 0
    token_info: str = ""

    @property
    def gas_total(self) -> int:
        funding = FUNDING_GAS * 3 if self.ctx.development else 0
        return self.gas_token + self.gas_manager + funding

    @property
    def cost(self) -> int:
        return self.gas_total * self.gas_price + self.ctx.settings.fund_reserve_wei


def main() -> None:
    run()


@command
def run(env: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """Deploy (or, with CM_DRY_RUN=1, only check and estimate). Returns the record written."""
    ctx = _common.context(env)
    plan = plan_deployment(ctx)
    check_existing_record(plan)
    estimate_gas(plan)
    check_funds(plan)
    print_summary(plan)
    if ctx.dry_run:
        print_transactions(plan)
        say("dry run: nothing was sent")
        return None
    confirm(ctx)
    record = send_deployment(plan)
    write_record(plan.record_path, record)
    say(f"record written to {plan.record_path}")
    return record


# ------------------------------------------------------------------ steps


def plan_deployment(ctx: Context) -> Plan:
    """Resolve hub and token and check them against the chain."""
    settings = ctx.settings
    deployer = ctx.account
    hub = deployer.address if settings.hub == ops.DEPLOYER else settings.hub
    if not ctx.development and web3.eth.get_code(hub):
        raise OpsError(
            f"hub {hub} is a contract: the hub signs states with a key (SPEC §3), use an EOA"
        )
    plan = Plan(
        ctx=ctx,
        deployer=deployer,
        hub=hub,
        token=None if settings.token == ops.TEST_TOKEN else settings.token,
        challenge_period=settings.challenge_period,
        record_path=_common.record_path(ctx.env, ctx.chain_id, ctx.development),
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
    except Exception:
        raise OpsError(
            f"token {address} does not answer ERC20 calls (decimals, totalSupply, balanceOf)"
        ) from None
    try:
        symbol = token.functions.symbol().call()
    except Exception:
        symbol = "?"
    return f"{symbol} at {address} ({decimals} decimals, supply {fmt_units(supply, decimals)})"


def check_existing_record(plan: Plan) -> None:
    """One deployment per chain: a record naming a live contract on this chain stops a second
    deployment unless CM_FORCE=1. A local record from a chain that was since reset is stale
    and is replaced."""
    record = _common.read_record(plan.record_path)
    if record is None:
        return
    current = _common.record_is_current(record)
    forced = ops.flag(plan.ctx.env, "CM_FORCE")
    if not current and plan.ctx.development:
        say(
            f"note: {plan.record_path} names {record.get('address')} on a local chain that was reset; it will be replaced"
        )
        return
    if forced:
        say(
            f"note: CM_FORCE=1: deploying although {plan.record_path} names {record.get('address')}"
        )
        return
    where = (
        f"in block {record.get('block')} on this chain"
        if current
        else "but does not match this chain"
    )
    raise OpsError(
        f"deployment record {plan.record_path} names ChannelManager {record.get('address')} {where}:"
        " set CM_FORCE=1 to deploy another"
    )


def estimate_gas(plan: Plan) -> None:
    """Gas of the deployment transactions, estimated by the node."""
    deployer = plan.deployer.address
    plan.gas_price = int(web3.eth.gas_price)
    ChannelManager = brownie.ChannelManager
    token = plan.token
    override: dict[str, Any] = {}
    if token is None:
        TestToken = brownie.TestToken
        plan.gas_token = _estimate(
            {"from": deployer, "data": TestToken.deploy.encode_input(*TEST_TOKEN_ARGS)}
        )
        # the manager's constructor needs the token's code: lend it to the address the token
        # will get (the deployer's next CREATE) for the estimate only, estimated at the nonce after
        nonce = web3.eth.get_transaction_count(deployer)
        token = _create_address(deployer, nonce)
        override = {
            token: {"code": "0x" + TestToken._build["deployedBytecode"].removeprefix("0x")},
            deployer: {"nonce": nonce + 1},
        }
    data = ChannelManager.deploy.encode_input(plan.hub, plan.challenge_period, token)
    plan.gas_manager = _estimate({"from": deployer, "data": data}, override)


def _estimate(tx: dict[str, Any], override: dict[str, Any] | None = None) -> int:
    try:
        if override:
            return int(web3.eth.estimate_gas(tx, "latest", override))
        return int(web3.eth.estimate_gas(tx))
    except Exception as exc:
        raise OpsError(
            f"the deployment would fail: gas estimate refused ({_common.short(exc)})"
        ) from None


def _create_address(sender: str, nonce: int) -> str:
    import rlp  # brownie's dependency (eth-rlp)
    from eth_utils import to_checksum_address

    return to_checksum_address(keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:])


def check_funds(plan: Plan) -> None:
    balance = int(web3.eth.get_balance(plan.deployer.address))
    if balance < plan.cost:
        raise OpsError(
            f"deployer {plan.deployer.address} holds {fmt_units(balance)} ETH but the deployment needs"
            f" about {fmt_units(plan.cost)} ETH ({plan.gas_total:,} gas at {plan.gas_price:,} wei"
            + (
                f" + {fmt_units(plan.ctx.settings.fund_reserve_wei)} ETH reserve funding)"
                if plan.ctx.settings.fund_reserve_wei
                else ")"
            )
        )


def print_summary(plan: Plan) -> None:
    settings = plan.ctx.settings
    src = settings.sources
    say(
        f"ChannelManager deployment on {settings.network} (chain {plan.ctx.chain_id}"
        f"{', local' if plan.ctx.development else ''})"
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
    say(
        f"  gas              {plan.gas_total:,} (token {plan.gas_token:,}, manager {plan.gas_manager:,})"
        f" at {plan.gas_price:,} wei ≈ {fmt_units(plan.gas_total * plan.gas_price)} ETH"
    )
    compiler = brownie.ChannelManager._build["compiler"]
    say(
        f"  compiler         solc {compiler['version']}, evm {compiler['evm_version']}, optimizer {compiler['optimizer']}"
    )
    commit, dirty = git_state()
    say(f"  git commit       {commit}{' (uncommitted changes in contracts/)' if dirty else ''}")
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
    if ctx.development or ops.flag(ctx.env, "CM_YES"):
        return
    try:
        answer = input(
            f"Deploy to {ctx.settings.network} (chain {ctx.chain_id})? Type 'deploy' to continue: "
        )
    except EOFError:
        answer = ""
    if answer.strip() != "deploy":
        raise OpsError("deployment not confirmed: nothing was sent (CM_YES=1 skips the question)")


def send_deployment(plan: Plan) -> dict[str, Any]:
    ctx = plan.ctx
    tx_params = {"from": plan.deployer, "required_confs": ctx.confirmations}
    record: dict[str, Any] = {}
    token_address = plan.token
    if token_address is None:
        test_token = brownie.TestToken.deploy(*TEST_TOKEN_ARGS, tx_params, silent=True)
        token_address = test_token.address
        record["test_token"] = {"address": token_address, "transaction": test_token.tx.txid}
        say(f"test token deployed at {token_address}")
    manager = brownie.ChannelManager.deploy(
        plan.hub, plan.challenge_period, token_address, tx_params, silent=True
    )
    say(
        f"ChannelManager deployed at {manager.address} (tx {manager.tx.txid}, block {manager.tx.block_number})"
    )
    if (manager.hub(), manager.challengePeriod(), manager.approvedToken()) != (
        plan.hub,
        plan.challenge_period,
        token_address,
    ):
        raise OpsError(
            f"deployed contract {manager.address} reports other constructor settings than sent"
        )
    if ctx.development:
        record["reserve_funded"] = fund_local_reserve(plan, manager, token_address)
    return build_record(plan, manager, token_address) | record


def fund_local_reserve(plan: Plan, manager: Any, token_address: str) -> dict[str, str]:
    """Local chains: the deployer sends ETH and freshly minted test tokens to the reserve."""
    settings = plan.ctx.settings
    tx_params = {"from": plan.deployer, "required_confs": plan.ctx.confirmations}
    if settings.fund_reserve_wei:
        plan.deployer.transfer(
            manager, settings.fund_reserve_wei, required_confs=plan.ctx.confirmations, silent=True
        )
    if settings.fund_reserve_token and plan.token is not None:
        say("note: token reserve funding skipped: only the test token can be minted for it")
    elif settings.fund_reserve_token:
        token = brownie.TestToken.at(token_address)
        token.mint(plan.deployer, settings.fund_reserve_token, tx_params, silent=True)
        token.transfer(manager, settings.fund_reserve_token, tx_params, silent=True)
    say(
        f"hub reserve: {fmt_units(manager.getHubReserveWei())} ETH, {fmt_units(manager.getHubReserveTokens())} tokens"
    )
    return {"wei": str(settings.fund_reserve_wei), "token": str(settings.fund_reserve_token)}


# ------------------------------------------------------------------ the record


def build_record(plan: Plan, manager: Any, token_address: str) -> dict[str, Any]:
    build = brownie.ChannelManager._build
    tx = manager.tx
    block = web3.eth.get_block(tx.block_number)
    commit, dirty = git_state()
    args = {
        "hub": plan.hub,
        "challengePeriod": plan.challenge_period,
        "approvedToken": token_address,
    }
    encoded = encode(
        ["address", "uint256", "address"], [plan.hub, plan.challenge_period, token_address]
    )
    return {
        "contract": "ChannelManager",
        "network": plan.ctx.settings.network,
        "chain_id": chain.id,
        "address": manager.address,
        "transaction": tx.txid,
        "block": tx.block_number,
        "block_hash": _common.hex0x(block["hash"]),
        "timestamp": int(block["timestamp"]),
        "deployer": plan.deployer.address,
        "constructor_args": args,
        "constructor_args_encoded": "0x" + encoded.hex(),
        "compiler": {
            "version": build["compiler"]["version"],
            "evm_version": build["compiler"]["evm_version"],
            "optimizer": build["compiler"]["optimizer"],
        },
        "bytecode_keccak": "0x" + keccak(hexstr=build["bytecode"]).hex(),
        "deployed_bytecode_keccak": "0x" + keccak(hexstr=build["deployedBytecode"]).hex(),
        "codehash": "0x" + keccak(bytes(web3.eth.get_code(manager.address))).hex(),
        "git_commit": commit,
        "git_dirty": dirty,
    }


def git_state() -> tuple[str, bool]:
    """HEAD's commit, and whether the contract sources differ from it."""
    root = _common.ROOT
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "--",
                "contracts",
                "interfaces",
                "brownie-config.yaml",
            ],
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
