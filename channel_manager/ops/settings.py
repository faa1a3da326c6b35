"""A network's deploy and operate settings: deployments/config.yaml, overridden by CM_*
environment variables, checked into one `Settings`; and the account the scripts sign with."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from channel_manager.ops import OpsError
from channel_manager.ops.inputs import (
    check_challenge_period,
    flag,
    parse_address,
    parse_amount,
    parse_whole,
)

TEST_TOKEN = "test-token"  # config value: deploy contracts/test/TestToken.sol (local chains only)
DEPLOYER = "deployer"  # config value for `hub`: the deploying account is the hub


@dataclass(frozen=True)
class Settings:
    """Deploy and operate settings of one network, after environment overrides. Read-only and
    operate commands leave `hub`, `token` and `challenge_period` as None when they are not
    configured: the contract itself says what they are."""

    network: str
    development: bool
    chain_id: int
    hub: str | None  # an address, or DEPLOYER
    token: str | None  # an address, or TEST_TOKEN
    challenge_period: int | None
    account: str  # local:N | keystore:ID | privkey ("" when not configured)
    fund_reserve_wei: int = 0
    fund_reserve_token: int = 0
    confirmations: int = 1
    sources: dict[str, str] = field(default_factory=dict)  # field -> "config" | "env CM_…"
    # fees in wei per gas (None: from the node); EIP-1559 max fee and priority fee, or a legacy
    # gas price for nodes without a base fee
    max_fee: int | None = None
    priority_fee: int | None = None
    gas_price: int | None = None
    # seconds to wait for a transaction to be mined, and again for its confirmations
    tx_timeout: int = 60


ENV_OVERRIDES = {
    "hub": "CM_HUB",
    "token": "CM_TOKEN",
    "challenge_period": "CM_CHALLENGE_PERIOD",
    "account": "CM_ACCOUNT",
    "confirmations": "CM_CONFIRMATIONS",
    "max_fee": "CM_MAX_FEE",
    "priority_fee": "CM_PRIORITY_FEE",
    "gas_price": "CM_GAS_PRICE",
    "tx_timeout": "CM_TX_TIMEOUT",
}
# Every yes/no variable the scripts read: all are checked before anything is printed or sent.
FLAGS = ("CM_DRY_RUN", "CM_YES", "CM_FORCE", "CM_REPLACE")


def check_flags(env: Mapping[str, str]) -> None:
    for name in FLAGS:
        flag(env, name)


def load_config(path: Path) -> dict[str, Any]:
    import yaml  # brownie's dependency; imported here so the rest of the module stays light

    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise OpsError(f"deploy settings {path} not found") from None
    except yaml.YAMLError as exc:
        raise OpsError(f"deploy settings {path} do not parse: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise OpsError(f"deploy settings {path} must be a mapping")
    return data


def resolve_settings(
    config: Mapping[str, Any],
    network: str,
    *,
    development: bool,
    env: Mapping[str, str],
    deploying: bool = True,
) -> Settings:
    """The entry `networks.<network>` of deployments/config.yaml, else (local chains only) the
    `development` entry; then the CM_* variables of ENV_OVERRIDES override. Only a deployment
    needs `hub`, `token` and `challenge_period` (`deploying`); the other commands check those
    that are set and read the rest from the contract."""
    networks = config.get("networks") or {}
    if network in networks:
        entry = dict(networks[network] or {})
    elif development and config.get("development"):
        entry = dict(config["development"])
    else:
        raise OpsError(
            f"network {network!r} has no entry in deployments/config.yaml"
            " (add one under `networks:`; local chains use the `development` entry)"
        )
    sources = {key: "config" for key in entry}
    for key, var in ENV_OVERRIDES.items():
        if env.get(var, "").strip():
            entry[key] = env[var].strip()
            sources[key] = f"env {var}"

    if "chain_id" not in entry:
        raise OpsError(f"deployments/config.yaml: network {network!r} has no chain_id")
    hub = _optional(entry.get("hub"))
    if hub is None and deploying:
        raise OpsError(
            f"hub address for {network!r} is not set: set CM_HUB or `hub:` in deployments/config.yaml"
        )
    if hub is not None and hub != DEPLOYER:
        hub = parse_address(hub, "hub")
    token = _optional(entry.get("token"))
    if token is None and deploying:
        raise OpsError(
            f"token address for {network!r} is not set: set CM_TOKEN or `token:` in deployments/config.yaml"
        )
    if token == TEST_TOKEN:
        if not development:
            raise OpsError("token `test-token` (open-mint TestToken) is for local chains only")
    elif token is not None:
        token = parse_address(token, "token")
    period = None
    if "challenge_period" in entry and _optional(entry["challenge_period"]) is not None:
        period = check_challenge_period(entry["challenge_period"], development=development)
    elif deploying:
        raise OpsError(f"deployments/config.yaml: network {network!r} has no challenge_period")
    account = str(entry.get("account") or "").strip()
    fund = entry.get("fund_reserve") or {}
    if fund and not development:
        raise OpsError(
            "fund_reserve is for local chains only (fund a public deployment with scripts/hub.py)"
        )

    def fee(key: str) -> int | None:
        raw = _optional(entry.get(key))
        return None if raw is None else parse_amount(raw, key.replace("_", " "))

    return Settings(
        network=network,
        development=development,
        chain_id=int(entry["chain_id"]),
        hub=hub,
        token=token,
        challenge_period=period,
        account=account,
        fund_reserve_wei=parse_amount(fund.get("wei", 0), "fund_reserve.wei"),
        fund_reserve_token=parse_amount(fund.get("token", 0), "fund_reserve.token"),
        confirmations=parse_whole(
            entry.get("confirmations", 1 if development else 2), "confirmations", 1
        ),
        sources=sources,
        max_fee=fee("max_fee"),
        priority_fee=fee("priority_fee"),
        gas_price=fee("gas_price"),
        tx_timeout=parse_whole(
            entry.get("tx_timeout", 60 if development else 600), "tx_timeout", 1
        ),
    )


def _optional(value: Any) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


def require_account(settings: Settings) -> str:
    if not settings.account:
        raise OpsError(
            f"no account for {settings.network!r}: set CM_ACCOUNT or `account:` in deployments/config.yaml"
        )
    return settings.account


def parse_account_spec(spec: str, *, development: bool) -> tuple[str, str]:
    """`local:N` (the node's unlocked account N, local chains only), `keystore:ID` (a brownie
    keystore account) or `privkey` (CM_PRIVATE_KEY from the environment or `.env`)."""
    kind, _, rest = spec.partition(":")
    if kind == "local":
        if not development:
            raise OpsError("account `local:N` is for local chains only: use keystore:ID or privkey")
        if not rest.isdigit():
            raise OpsError(f"account {spec!r}: expected local:<index>")
        return kind, rest
    if kind == "keystore":
        if not rest:
            raise OpsError(f"account {spec!r}: expected keystore:<brownie account id>")
        return kind, rest
    if kind == "privkey" and not rest:
        return kind, ""
    raise OpsError(f"account {spec!r} is not local:N, keystore:ID or privkey")


def check_private_key(raw: str) -> str:
    """A 32-byte hex key; the message never contains the key."""
    text = raw.strip()
    hexpart = text[2:] if text.startswith("0x") else text
    if not re.fullmatch(r"[0-9a-fA-F]{64}", hexpart):
        raise OpsError("CM_PRIVATE_KEY is not a 32-byte hex key")
    return "0x" + hexpart
