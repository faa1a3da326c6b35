"""Brownie glue shared by the deploy and operate scripts: the connected network's settings, the
signing account, contract objects, and sending a transaction only after the reference model and
a simulation (eth_call) both accept it (scripts/ops_tx.py). Which contract (the deployment
record, CM_MANAGER) is scripts/_deployment.py; what is read from the chain, scripts/_chain_reads.py.

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
    CM_CONFIRMATIONS, CM_TX_TIMEOUT, CM_MAX_FEE, CM_PRIORITY_FEE, CM_GAS_PRICE, CM_NONCE
                         confirmations, the bound of each wait, fees, a nonce to replace
"""

from __future__ import annotations

import functools
import getpass
import inspect
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import brownie
from brownie import accounts, chain, network, web3
from brownie._config import CONFIG, _get_data_folder

from channel_manager.ops import OpsError
from channel_manager.ops.display import fmt_units, short
from channel_manager.ops.inputs import flag
from channel_manager.ops.settings import (
    Settings,
    check_flags,
    check_private_key,
    load_config,
    parse_account_spec,
    require_account,
    resolve_settings,
)
from channel_manager.watchtower_store import StoreError
from scripts import ops_tx
from scripts._fees import current_fees
from scripts.ops_tx import CONNECTION_ERRORS, Sender, Sent, TxFailed, TxUnfinished

ROOT = Path(__file__).resolve().parents[1]
EXIT_FAILED = 1  # sent and reverted, or (verify) a mismatch
EXIT_REFUSED = 2  # refused: nothing was sent
EXIT_UNFINISHED = 3  # sent, but not mined or not confirmed in time: look before sending again

T = TypeVar("T")


# ------------------------------------------------------------------ errors and output


def command(func: Callable[..., T]) -> Callable[..., T]:
    """A script entry point. Its positional parameters are the command line's arguments (a wrong
    number is refused, not fed into `env`); `env` is keyword-only, for the tests. A refusal prints
    `error: <one line>` and exits with status 2; a transaction sent but not finished exits 3; one
    that reverted, 1. A node that stops answering is one line too."""
    signature = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        sent_before = len(ops_tx.SENT)
        try:
            try:
                signature.bind(*args, **kwargs)
            except TypeError as exc:
                raise OpsError(f"{func.__name__}: {exc}") from None
            return func(*args, **kwargs)
        except (OpsError, StoreError) as exc:
            fail(str(exc), EXIT_REFUSED if len(ops_tx.SENT) == sent_before else EXIT_UNFINISHED)
        except TxUnfinished as exc:
            fail(str(exc), EXIT_UNFINISHED)
        except TxFailed as exc:
            fail(str(exc), EXIT_FAILED)
        except CONNECTION_ERRORS as exc:
            sent = ops_tx.SENT[sent_before:]
            if sent:
                fail(
                    f"the node stopped answering after {sent[-1]} was sent ({short(exc, 80)}):"
                    " check it before sending again",
                    EXIT_UNFINISHED,
                )
            fail(f"the node does not answer ({short(exc, 120)}): nothing was sent", EXIT_REFUSED)

    wrapper.is_command = True  # type: ignore[attr-defined]
    return wrapper


def fail(message: str, status: int = EXIT_REFUSED) -> Any:
    print(f"error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(status)


def hex0x(value: Any) -> str:
    """Bytes or hex text as 0x-prefixed lower-case hex."""
    if isinstance(value, str):
        return "0x" + value.lower().removeprefix("0x")
    return "0x" + bytes(value).hex()


def say(text: str = "") -> None:
    print(text, flush=True)


# ------------------------------------------------------------------ context


@dataclass
class Context:
    """The connected network, its settings, and (when asked for) the signing account."""

    settings: Settings
    env: Mapping[str, str]
    account: Any = None
    genesis: str = ""  # hash of block 0: tells apart chains that share a chain id
    _sender: Sender | None = field(default=None, repr=False)

    @property
    def development(self) -> bool:
        return self.settings.development

    @property
    def chain_id(self) -> int:
        return self.settings.chain_id

    @property
    def dry_run(self) -> bool:
        return flag(self.env, "CM_DRY_RUN")

    @property
    def confirmations(self) -> int:
        return self.settings.confirmations

    @property
    def sender(self) -> Sender:
        """The account's sender: fees read from the node now, bounded waits (scripts/ops_tx.py)."""
        if self._sender is None:
            if self.account is None:
                raise OpsError("this command sends nothing: no account was loaded")
            self._sender = Sender(
                self.account,
                current_fees(self.settings),
                self.confirmations,
                float(self.settings.tx_timeout),
                self.development,
                known_abis(),
                say,
            )
        return self._sender


def environment(env: Mapping[str, str] | None) -> dict[str, str]:
    return dict(os.environ if env is None else env)


def config_path(env: Mapping[str, str]) -> Path:
    return Path(env.get("CM_CONFIG") or ROOT / "deployments" / "config.yaml")


def context(
    env: Mapping[str, str] | None = None, *, need_account: bool = True, deploying: bool = False
) -> Context:
    """Settings of the connected network after env overrides; the chain id checked. Pre-flight
    order: yes/no flags, the network's entry, the node's chain id, then the account."""
    env = environment(env)
    check_flags(env)
    name = network.show_active()
    if not name or not network.is_connected():
        raise OpsError(
            "not connected to a network: run through `python tools/run_script.py <script> --network NAME`"
        )
    development = CONFIG.network_type == "development"
    settings = resolve_settings(
        load_config(config_path(env)), name, development=development, env=env, deploying=deploying
    )
    actual = chain.id
    if actual != settings.chain_id:
        raise OpsError(
            f"wrong chain id: network {name!r} is configured for chain {settings.chain_id}"
            f" but the node reports chain {actual}"
        )
    ctx = Context(settings, env, genesis=genesis_hash())
    if need_account:
        ctx.account = load_account(require_account(settings), env, development=development)
    return ctx


def genesis_hash() -> str:
    return hex0x(web3.eth.get_block(0)["hash"])


def load_account(spec: str, env: Mapping[str, str], *, development: bool) -> Any:
    """The account that signs transactions (the key itself is never printed)."""
    kind, rest = parse_account_spec(spec, development=development)
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
            key = web3.eth.account.decrypt(json.loads(keystore.read_text()), password)
        except ValueError:
            raise OpsError(f"the password for keystore account {rest!r} is wrong") from None
        return key_account(key)
    key = env.get("CM_PRIVATE_KEY") or _dotenv().get("CM_PRIVATE_KEY")
    if not key:
        raise OpsError("account `privkey`: CM_PRIVATE_KEY is not set (environment or .env)")
    return key_account(check_private_key(key))


def key_account(key: Any) -> Any:
    """An account that signs with its key here. Not `accounts.add`: for an address the node
    also unlocked (an anvil rehearsal) brownie returns the node's account, and the transaction
    would be signed by the node, with no signed copy to send again."""
    from brownie.network.account import LocalAccount

    local = web3.eth.account.from_key(key)
    return LocalAccount(local.address, local, local.key)


def _dotenv() -> dict[str, str]:
    path = ROOT / ".env"
    if not path.exists():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


# ------------------------------------------------------------------ contracts


def contract_at(name: str, address: str, abi: Sequence[Mapping[str, Any]]) -> Any:
    """A brownie contract object that is never persisted: on live networks brownie's own
    persisting (`ChannelManager.at`) fails and would be read back at every start."""
    return brownie.Contract.from_abi(name, address, list(abi), persist=False)


def token_of(contract: Any) -> Any:
    return contract_at("Token", contract.approvedToken(), ERC20_ABI)


def known_abis() -> list[Sequence[Mapping[str, Any]]]:
    """ABIs whose errors and events the scripts decode: the contract, the ERC20 surface and the
    local test token (OpenZeppelin's ERC20 errors)."""
    abis: list[Sequence[Mapping[str, Any]]] = [brownie.ChannelManager.abi, ERC20_ABI]
    test_token = getattr(brownie, "TestToken", None)
    if test_token is not None:
        abis.append(test_token.abi)
    return abis


ERC20_ABI: list[dict[str, Any]] = (
    [
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
    ]
    + [
        {
            "name": name,
            "type": "function",
            "stateMutability": "nonpayable",
            "inputs": [{"name": "a", "type": "address"}, {"name": "v", "type": "uint256"}],
            "outputs": [{"name": "", "type": "bool"}],
        }
        for name in ("transfer", "approve")
    ]
    + [
        {
            "name": name,
            "type": "event",
            "anonymous": False,
            "inputs": [
                {"name": a, "type": "address", "indexed": True},
                {"name": b, "type": "address", "indexed": True},
                {"name": "value", "type": "uint256", "indexed": False},
            ],
        }
        for name, a, b in (("Transfer", "from", "to"), ("Approval", "owner", "spender"))
    ]
)


# ------------------------------------------------------------------ sending


def send(
    ctx: Context,
    contract: Any,
    function: str,
    args: Sequence[Any],
    *,
    value: int = 0,
    summary: str,
    state_override: Mapping[str, Any] | None = None,
) -> Sent | None:
    """Simulate the call from the context's account; refuse with the contract's own error if it
    would revert; in dry-run mode stop there; else send it and wait (bounded) for the
    confirmations. `state_override` is for dry runs only: what an earlier, unsent step (a token
    approval) would have changed."""
    data = getattr(contract, function).encode_input(*args)
    return send_data(
        ctx, contract.address, data, value=value, summary=summary, call=function,
        state_override=state_override,
    )  # fmt: skip


def send_data(
    ctx: Context,
    to: str | None,
    data: str,
    *,
    value: int = 0,
    summary: str,
    call: str = "",
    state_override: Mapping[str, Any] | None = None,
    on_sent: Callable[[str, str | None], None] | None = None,
) -> Sent | None:
    sender = ctx.sender
    gas = sender.simulate(to, data, value, state_override)
    what = f"{summary}: {call + ' ' if call else ''}from {sender.address}"
    if value:
        what += f", value {fmt_units(value)} ETH"
    if ctx.dry_run:
        cost = gas * sender.fees.max_fee
        say(f"dry run: would send {what}, gas ≈ {gas:,}, at most {fmt_units(cost)} ETH in fees")
        return None
    if state_override:
        raise OpsError("internal: a state override is for dry runs only")
    limit = gas_limit(gas)
    tx = sender.send(
        to,
        data,
        value=value,
        gas=limit,
        nonce=sender.next_nonce(ctx.env),
        summary=summary,
        on_sent=on_sent,
    )
    say(f"  mined in block {tx.block_number} (gas used {tx.gas_used:,})")
    return tx


def gas_limit(estimate: int) -> int:
    """The estimate with a margin (a state read between estimate and mining can cost more),
    within the block's gas limit."""
    block_limit = int(web3.eth.get_block("latest")["gasLimit"])
    return min(estimate * 5 // 4 + 10_000, block_limit)
