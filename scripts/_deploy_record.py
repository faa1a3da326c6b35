"""The deployment record of scripts/deploy.py (`deployments/[dev/]<chain-id>-<genesis8>.json`, see
`_deployment.record_path`): the pending record
written the moment the creation transaction is sent, the final record (address, transaction,
block, constructor arguments, compiler, bytecode hashes, git commit), an adopted deployment's
record (CM_ADOPT), written atomically and set aside, never deleted."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import brownie
from brownie import chain, web3
from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address
from web3.exceptions import TransactionNotFound

from channel_manager.ops import OpsError
from channel_manager.ops.inputs import flag, parse_address
from scripts import _common, _deployment
from scripts._common import Context, say

CONSTRUCTOR_TYPES = ["address", "uint256", "address"]


def create_address(sender: str, nonce: int) -> str:
    """The address a CREATE from `sender` at `nonce` gives (why a replacement keeps it)."""
    import rlp  # brownie's dependency (eth-rlp)

    return to_checksum_address(keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:])


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
    hub, period, token = decode(CONSTRUCTOR_TYPES, bytes.fromhex(code[len(bytecode) :]))
    address = str(receipt["contractAddress"])
    head = int(web3.eth.block_number)
    have = head - int(receipt["blockNumber"]) + 1
    if have < ctx.confirmations:
        raise OpsError(
            f"CM_ADOPT: {txid} has {have} of {ctx.confirmations} confirmations: adopt it later"
        )
    existing = _deployment.read_record(path, ctx)
    if (
        existing is not None
        and existing.get("address") == address
        and existing.get("status") == "deployed"
    ):
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
    say(
        f"adopted ChannelManager {address} (tx {txid}, block {record['block']}): record written to {path}"
    )
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


def build_record(
    ctx: Context, pending: Mapping[str, Any], receipt: Mapping[str, Any]
) -> dict[str, Any]:
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
