"""Pre-flight of scripts/deploy.py: what the deployment will send, decided and checked against
the chain before anything is sent (hub, token, an existing record, gas, funds), the printed
summary and the confirmation asked on public networks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import brownie
from brownie import web3

from channel_manager.ops import OpsError
from channel_manager.ops.display import fmt_duration, fmt_units, short
from channel_manager.ops.inputs import flag
from channel_manager.ops.settings import DEPLOYER, TEST_TOKEN
from scripts import _common, _deployment
from scripts._common import Context, say
from scripts._deploy_record import create_address, git_state
from scripts._fees import Fees, gwei

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
    fees: Fees | None = None
    token_info: str = ""
    replaces: dict[str, Any] | None = None  # a record CM_FORCE=1 sets aside
    nonce: int = 0

    @property
    def gas_total(self) -> int:
        funding = FUNDING_GAS * 3 if self.ctx.development else 0
        return self.gas_token + self.gas_manager + funding

    @property
    def cost(self) -> int:
        """The most it can cost: every gas unit at the max fee, plus local reserve funding."""
        assert self.fees is not None
        return self.gas_total * self.fees.max_fee + self.ctx.settings.fund_reserve_wei


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
    _deployment.require_code(address, "token")
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
    current = _deployment.record_is_current(record)
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
        plan.gas_token = estimate(
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
    plan.gas_manager = estimate({"from": deployer, "data": data}, override)


def estimate(tx: dict[str, Any], override: dict[str, Any] | None = None) -> int:
    try:
        if override:
            return int(web3.eth.estimate_gas(tx, "latest", override))
        return int(web3.eth.estimate_gas(tx))
    except _common.CONNECTION_ERRORS:
        raise
    except Exception as exc:
        raise OpsError(f"the deployment would fail: gas estimate refused ({short(exc)})") from None


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
    say(
        f"  gas              {plan.gas_total:,} (token {plan.gas_token:,}, manager {plan.gas_manager:,})"
    )
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
