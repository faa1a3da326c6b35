"""Which contract the scripts talk to: this chain's deployment record (named by chain id and
genesis hash), or CM_MANAGER, checked to be a ChannelManager on this very chain."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import brownie
from brownie import chain, web3

from channel_manager.ops import OpsError
from channel_manager.ops.inputs import parse_address
from channel_manager.ops.records import record_describes_chain
from scripts._common import ROOT, Context, contract_at, hex0x
from scripts.ops_tx import CONNECTION_ERRORS


def record_path(ctx: Context) -> Path:
    """deployments/<chain-id>-<genesis>.json, named by the chain id and the first 8 hex digits of
    the genesis hash, so a rehearsal chain that reuses a public chain id (an anvil started with
    --chain-id 11155111) never shares a record with the real chain. Local chains' records go to
    deployments/dev/ (gitignored): a restarted local chain has a new genesis, so a new record."""
    base = Path(ctx.env.get("CM_DEPLOYMENTS_DIR") or ROOT / "deployments")
    folder = base / "dev" if ctx.development else base
    return folder / f"{ctx.chain_id}-{ctx.genesis[2:10]}.json"


def read_record(path: Path, ctx: Context | None = None) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise OpsError(f"deployment record {path} does not parse: {exc.msg}") from None
    if not isinstance(record, dict):
        raise OpsError(f"deployment record {path} is not a JSON object")
    if ctx is not None and record.get("genesis_hash") not in (None, ctx.genesis):
        raise OpsError(
            f"deployment record {path} was made on another chain (genesis {record.get('genesis_hash')},"
            f" this node's is {ctx.genesis})"
        )
    return record


def require_finished(record: Mapping[str, Any], path: Path) -> None:
    """A record of a deployment still waiting for its transaction names no usable contract."""
    if record.get("status", "deployed") != "deployed":
        raise OpsError(
            f"deployment record {path} is {record.get('status')} (transaction {record.get('transaction')}):"
            " run scripts/deploy.py again to finish it, or set CM_MANAGER"
        )


def record_is_current(record: Mapping[str, Any]) -> bool:
    """The record names a contract on this very chain (the recorded block is on it)."""
    try:
        block = web3.eth.get_block(int(record["block"]))
        code = bytes(web3.eth.get_code(record["address"]))
    except CONNECTION_ERRORS:
        raise
    except Exception:
        return False
    return record_describes_chain(record, hex0x(block["hash"]) if block else None, code)


def require_code(address: str, what: str) -> bytes:
    code = bytes(web3.eth.get_code(address))
    if not code:
        raise OpsError(f"{what} {address} has no code on chain {chain.id}")
    return code


def manager_address(ctx: Context) -> str:
    """CM_MANAGER, else the address in this chain's finished deployment record."""
    raw = ctx.env.get("CM_MANAGER", "").strip()
    if raw:
        return parse_address(raw, "CM_MANAGER")
    path = record_path(ctx)
    record = read_record(path, ctx)
    if record is None:
        raise OpsError(f"no deployment record {path}: deploy first or set CM_MANAGER")
    require_finished(record, path)
    address = parse_address(record.get("address"), f"address in {path}")
    if not record_is_current(record):
        raise OpsError(
            f"deployment record {path} does not match this chain (block {record.get('block')}"
            " has another hash or the address no code): deploy again or set CM_MANAGER"
        )
    return address


def manager(ctx: Context) -> Any:
    """The ChannelManager named by CM_MANAGER, else by this chain's deployment record."""
    address = manager_address(ctx)
    require_code(address, "ChannelManager")
    contract = contract_at("ChannelManager", address, brownie.ChannelManager.abi)
    try:
        contract.hub()
        contract.challengePeriod()
    except CONNECTION_ERRORS:
        raise
    except Exception:
        raise OpsError(f"{address} does not answer as a ChannelManager") from None
    return contract


def deployment_block(ctx: Context, contract: Any) -> int:
    """Where to start reading events: CM_FROM_BLOCK, else the record's block, else 0."""
    if ctx.env.get("CM_FROM_BLOCK", "").strip():
        try:
            return int(ctx.env["CM_FROM_BLOCK"])
        except ValueError:
            raise OpsError(
                f"CM_FROM_BLOCK={ctx.env['CM_FROM_BLOCK']!r} is not a block number"
            ) from None
    record = read_record(record_path(ctx), ctx)
    if record and record.get("address") == contract.address and "block" in record:
        return int(record["block"])
    return 0
