"""Brownie glue shared by the deploy and operate scripts: the connected network's settings, the
signing account, the deployment record, reading the contract, and sending a transaction only
after the reference model and a simulation (eth_call) both accept it.

The checks themselves live in `channel_manager.ops` (no brownie). Every refusal is an
`OpsError`; `command` turns it into one line on stderr and exit status 2, with nothing sent.
Environment variables (all optional; docs/operations.md has the table):

    CM_CONFIG            deploy settings file (default deployments/config.yaml)
    CM_DEPLOYMENTS_DIR   where records live (default deployments/; local chains use <dir>/dev/)
    CM_ACCOUNT           local:N | keystore:ID | privkey   (overrides `account:` in the config)
    CM_PRIVATE_KEY       the key for `privkey` (environment or .env file; never printed)
    CM_KEYSTORE_PASSWORD password for `keystore:ID` when there is no terminal to ask on
    CM_MANAGER           the ChannelManager address (default: the deployment record's)
    CM_DRY_RUN=1         check and simulate, print what would be sent, send nothing
"""

from __future__ import annotations

import functools
import getpass
import json
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import brownie
from brownie import accounts, chain, network, web3
from brownie._config import CONFIG, _get_data_folder
from brownie.exceptions import VirtualMachineError
from eth_utils import event_abi_to_log_topic

from channel_manager import ops
from channel_manager.ops import ChainView, OpsError, Settings
from channel_manager.watchtower_store import StoreError

ROOT = Path(__file__).resolve().parents[1]
EXIT_REFUSED = 2

T = TypeVar("T")


# ------------------------------------------------------------------ errors and output


def command(func: Callable[..., T]) -> Callable[..., T]:
    """A script entry point: a refusal prints `error: <one line>` and exits with status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return func(*args, **kwargs)
        except (OpsError, StoreError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise SystemExit(EXIT_REFUSED) from None

    return wrapper


def short(exc: BaseException, limit: int = 160) -> str:
    """An exception as one short line (node errors can carry whole bytecodes)."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def hex0x(value: Any) -> str:
    """Bytes or hex text as 0x-prefixed lower-case hex."""
    if isinstance(value, str):
        return "0x" + value.lower().removeprefix("0x")
    return "0x" + bytes(value).hex()


def say(text: str = "") -> None:
    print(text, flush=True)


def fmt_units(amount: int, decimals: int = 18) -> str:
    whole, frac = divmod(int(amount), 10**decimals)
    text = f"{whole:,}"
    if frac:
        text += "." + str(frac).rjust(decimals, "0").rstrip("0")
    return text


def fmt_time(timestamp: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(int(timestamp)))


def fmt_duration(seconds: int) -> str:
    seconds = int(seconds)
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    parts += [f"{hours}h"] if hours or days else []
    parts += [f"{minutes}m", f"{secs}s"]
    return sign + " ".join(parts)


# ------------------------------------------------------------------ context


@dataclass
class Context:
    """The connected network, its settings, and (when asked for) the signing account."""

    settings: Settings
    env: Mapping[str, str]
    account: Any = None

    @property
    def development(self) -> bool:
        return self.settings.development

    @property
    def chain_id(self) -> int:
        return self.settings.chain_id

    @property
    def dry_run(self) -> bool:
        return ops.flag(self.env, "CM_DRY_RUN")

    @property
    def confirmations(self) -> int:
        return self.settings.confirmations


def environment(env: Mapping[str, str] | None) -> dict[str, str]:
    return dict(os.environ if env is None else env)


def config_path(env: Mapping[str, str]) -> Path:
    return Path(env.get("CM_CONFIG") or ROOT / "deployments" / "config.yaml")


def context(env: Mapping[str, str] | None = None, *, need_account: bool = True) -> Context:
    """Settings of the connected network after env overrides; the chain id checked."""
    env = environment(env)
    name = network.show_active()
    if not name or not network.is_connected():
        raise OpsError(
            "not connected to a network: run through `brownie run <script> --network NAME`"
        )
    development = CONFIG.network_type == "development"
    settings = ops.resolve_settings(
        ops.load_config(config_path(env)), name, development=development, env=env
    )
    actual = chain.id
    if actual != settings.chain_id:
        raise OpsError(
            f"wrong chain id: network {name!r} is configured for chain {settings.chain_id}"
            f" but the node reports chain {actual}"
        )
    ctx = Context(settings, env)
    if need_account:
        ctx.account = load_account(settings.account, env, development=development)
    return ctx


def load_account(spec: str, env: Mapping[str, str], *, development: bool) -> Any:
    """The account that signs transactions (the key itself is never printed)."""
    kind, rest = ops.parse_account_spec(spec, development=development)
    if kind == "local":
        index = int(rest)
        if index >= len(accounts):
            raise OpsError(
                f"account local:{index}: the node has only {len(accounts)} unlocked accounts"
            )
        return accounts[index]
    if kind == "keystore":
        keystore = _get_data_folder() / "accounts" / f"{rest}.json"
        if not keystore.exists():
            raise OpsError(f"no brownie keystore account {rest!r} (see `brownie accounts list`)")
        password = env.get("CM_KEYSTORE_PASSWORD")
        if password is None:
            if not sys.stdin.isatty():
                raise OpsError(
                    f"keystore account {rest!r} needs its password: run in a terminal or set CM_KEYSTORE_PASSWORD"
                )
            password = getpass.getpass(f"password for keystore account {rest!r}: ")
        try:
            return accounts.load(rest, password=password)
        except ValueError:
            raise OpsError(f"the password for keystore account {rest!r} is wrong") from None
    key = env.get("CM_PRIVATE_KEY") or _dotenv().get("CM_PRIVATE_KEY")
    if not key:
        raise OpsError("account `privkey`: CM_PRIVATE_KEY is not set (environment or .env)")
    return accounts.add(ops.check_private_key(key))


def _dotenv() -> dict[str, str]:
    path = ROOT / ".env"
    if not path.exists():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


# ------------------------------------------------------------------ deployment records


def record_path(env: Mapping[str, str], chain_id: int, development: bool) -> Path:
    """deployments/<chain-id>.json; local chains' records go to deployments/dev/ (gitignored)."""
    base = Path(env.get("CM_DEPLOYMENTS_DIR") or ROOT / "deployments")
    return (base / "dev" if development else base) / f"{chain_id}.json"


def read_record(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise OpsError(f"deployment record {path} does not parse: {exc.msg}") from None


def record_is_current(record: Mapping[str, Any]) -> bool:
    """The record names a contract on this very chain (not one from a reset local chain)."""
    try:
        block = web3.eth.get_block(int(record["block"]))
        code = bytes(web3.eth.get_code(record["address"]))
    except Exception:
        return False
    return ops.record_is_current(record, hex0x(block["hash"]) if block else None, code)


def require_code(address: str, what: str) -> bytes:
    code = bytes(web3.eth.get_code(address))
    if not code:
        raise OpsError(f"{what} {address} has no code on chain {chain.id}")
    return code


def manager(ctx: Context) -> Any:
    """The ChannelManager named by CM_MANAGER, else by this chain's deployment record."""
    raw = ctx.env.get("CM_MANAGER", "").strip()
    if raw:
        address = ops.parse_address(raw, "CM_MANAGER")
    else:
        path = record_path(ctx.env, ctx.chain_id, ctx.development)
        record = read_record(path)
        if record is None:
            raise OpsError(f"no deployment record {path}: deploy first or set CM_MANAGER")
        address = ops.parse_address(record.get("address"), f"address in {path}")
        if not record_is_current(record):
            # a local chain restarted since: the same address may now hold another deployment
            raise OpsError(
                f"deployment record {path} does not match this chain (block {record.get('block')}"
                " has another hash or the address no code): deploy again or set CM_MANAGER"
            )
    require_code(address, "ChannelManager")
    contract = brownie.ChannelManager.at(address)
    try:
        contract.hub()
        contract.challengePeriod()
    except Exception:
        raise OpsError(f"{address} does not answer as a ChannelManager") from None
    return contract


# ------------------------------------------------------------------ reading the chain


def next_timestamp(development: bool) -> int:
    """A lower bound of the next block's timestamp."""
    latest = int(web3.eth.get_block("latest")["timestamp"]) + 1
    return latest if development else max(latest, int(time.time()))


def chain_view(
    contract: Any,
    *,
    development: bool,
    users: Sequence[str] = (),
    threads: Sequence[tuple[str, str, int]] = (),
) -> ChainView:
    """What the reference model needs to judge a call on these channels and threads."""
    token = brownie.Contract.from_abi("Token", contract.approvedToken(), ERC20_ABI)
    view = ChainView(
        address=contract.address,
        chain_id=chain.id,
        hub=str(contract.hub()),
        challenge_period=int(contract.challengePeriod()),
        now=next_timestamp(development),
        eth_balance=int(web3.eth.get_balance(contract.address)),
        token_balance=int(token.balanceOf(contract.address)),
        total_channel_wei=int(contract.totalChannelWei()),
        total_channel_token=int(contract.totalChannelToken()),
        reserve_wei=int(contract.getHubReserveWei()),
        reserve_token=int(contract.getHubReserveTokens()),
    )
    for user in users:
        view.channels[user] = (
            tuple(contract.getChannelBalances(user)),
            tuple(contract.getChannelDetails(user)),
        )
        if web3.eth.get_code(user):
            view.contract_signers.add(user)
    for sender, receiver, thread_id in threads:
        view.threads[(sender, receiver, int(thread_id))] = tuple(
            contract.getThread(sender, receiver, thread_id)
        )
        for party in (sender, receiver):
            if web3.eth.get_code(party):
                view.contract_signers.add(party)
    return view


ERC20_ABI: list[dict[str, Any]] = [
    {
        "name": name,
        "type": "function",
        "stateMutability": "view",
        "inputs": inputs,
        "outputs": [{"name": "", "type": out}],
    }
    for name, inputs, out in (
        ("decimals", [], "uint8"),
        ("totalSupply", [], "uint256"),
        ("symbol", [], "string"),
        ("balanceOf", [{"name": "a", "type": "address"}], "uint256"),
        (
            "allowance",
            [{"name": "o", "type": "address"}, {"name": "s", "type": "address"}],
            "uint256",
        ),
    )
] + [
    {
        "name": name,
        "type": "function",
        "stateMutability": "nonpayable",
        "inputs": [{"name": "a", "type": "address"}, {"name": "v", "type": "uint256"}],
        "outputs": [{"name": "", "type": "bool"}],
    }
    for name in ("transfer", "approve")
]


def fetch_events(
    contract: Any, from_block: int, to_block: int, step: int = 2000
) -> list[dict[str, Any]]:
    """The contract's events in [from_block, to_block], decoded, in chain order:
    `{"event", "args", "block", "tx", "log_index"}`."""
    w3_contract = web3.eth.contract(address=contract.address, abi=contract.abi)
    by_topic = {
        "0x" + event_abi_to_log_topic(abi).hex(): abi["name"]
        for abi in contract.abi
        if abi.get("type") == "event"
    }
    out: list[dict[str, Any]] = []
    start = from_block
    while start <= to_block:
        end = min(start + step - 1, to_block)
        logs = web3.eth.get_logs({"address": contract.address, "fromBlock": start, "toBlock": end})
        for log in logs:
            topic = "0x" + bytes(log["topics"][0]).hex()
            name = by_topic.get(topic)
            if name is None:
                continue
            decoded = w3_contract.events[name]().process_log(log)
            out.append(
                {
                    "event": name,
                    "args": dict(decoded["args"]),
                    "block": int(log["blockNumber"]),
                    "tx": "0x" + bytes(log["transactionHash"]).hex(),
                    "log_index": int(log["logIndex"]),
                }
            )
        start = end + 1
    out.sort(key=lambda e: (e["block"], e["log_index"]))
    return out


def deployment_block(ctx: Context, contract: Any) -> int:
    """Where to start reading events: CM_FROM_BLOCK, else the record's block, else 0."""
    if ctx.env.get("CM_FROM_BLOCK", "").strip():
        try:
            return int(ctx.env["CM_FROM_BLOCK"])
        except ValueError:
            raise OpsError(
                f"CM_FROM_BLOCK={ctx.env['CM_FROM_BLOCK']!r} is not a block number"
            ) from None
    record = read_record(record_path(ctx.env, ctx.chain_id, ctx.development))
    if record and record.get("address") == contract.address:
        return int(record["block"])
    return 0


# ------------------------------------------------------------------ sending


def send(
    ctx: Context,
    contract: Any,
    function: str,
    args: Sequence[Any],
    *,
    value: int = 0,
    summary: str,
) -> Any:
    """Simulate the call from the context's account; refuse with the contract's own error if it
    would revert; in dry-run mode stop there; else send it and wait for the confirmations."""
    method = getattr(contract, function)
    tx_params = {"from": ctx.account, "value": value}
    try:
        method.call(*args, tx_params)
        gas = method.estimate_gas(*args, tx_params)
    except VirtualMachineError as exc:
        raise OpsError(
            f"refused before sending: the contract would revert: {exc.revert_msg or exc}"
        ) from None
    except ValueError as exc:
        raise OpsError(f"refused before sending: {short(exc)}") from None
    if ctx.dry_run:
        say(
            f"dry run: would send {summary}: {function} from {ctx.account.address}, value {value}, gas ≈ {gas:,}"
        )
        return None
    say(f"sending {summary}: {function} from {ctx.account.address} (gas ≈ {gas:,})")
    try:
        tx = method(*args, {**tx_params, "required_confs": ctx.confirmations}, silent=True)
    except VirtualMachineError as exc:
        raise OpsError(f"transaction reverted: {exc.revert_msg or exc}") from None
    say(f"  mined in block {tx.block_number}: {tx.txid} (gas used {tx.gas_used:,})")
    return tx
