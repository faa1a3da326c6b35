"""Check a deployed ChannelManager against this repository's build and its deployment record.

    python tools/run_script.py scripts/verify_deployment.py --network NAME
    CM_MANAGER=0x… python tools/run_script.py scripts/verify_deployment.py --network NAME

It only reads: no account is loaded and no hub or token needs to be configured.

Checks, each printed as ok/FAIL, then one verdict line (exit status 0 on MATCH, 1 on MISMATCH):
- runtime code: the chain's code equals the build's deployed bytecode everywhere except at the
  immutable positions solc reports (`immutableReferences`, obtained by recompiling with the
  build's settings; cached in build/immutable_references.json);
- immutables: every immutable holds the value it must (hub, challenge period, token from the
  record; EIP-712's cached chain id, address, domain separator, hashed and short name/version);
- views: hub(), challengePeriod(), approvedToken() and eip712Domain() agree;
- record: the creation transaction's input is the build's bytecode plus the recorded
  constructor arguments, it created this address in the recorded block, and the recorded
  bytecode hash is the current build's;
- expected settings: a hub, token or challenge period you state (CM_HUB, CM_TOKEN,
  CM_CHALLENGE_PERIOD, or the network's entry in deployments/config.yaml) is the contract's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import brownie
from brownie import chain, web3
from eth_abi import encode
from eth_utils import keccak

from channel_manager.eip712 import DOMAIN_NAME, DOMAIN_VERSION, Domain
from channel_manager.ops import OpsError
from channel_manager.ops.inputs import parse_address
from channel_manager.ops.settings import DEPLOYER, TEST_TOKEN
from scripts import _common, _deployment, deploy_export
from scripts._common import command, say

CACHE = _common.ROOT / "build" / "immutable_references.json"


@dataclass
class Report:
    address: str
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    def check(self, name: str, ok: bool, detail: str) -> bool:
        self.checks.append((name, bool(ok), detail))
        say(f"  {'ok  ' if ok else 'FAIL'}  {name}: {detail}")
        return bool(ok)

    @property
    def matches(self) -> bool:
        return bool(self.checks) and all(ok for _, ok, _ in self.checks)

    def failed(self) -> list[str]:
        return [name for name, ok, _ in self.checks if not ok]


def main() -> None:
    report = verify()
    if not report.matches:
        raise SystemExit(1)


@command
def verify(*, env: Mapping[str, str] | None = None) -> Report:
    ctx = _common.context(env, need_account=False)
    record_file = _deployment.record_path(ctx)
    record = _deployment.read_record(record_file, ctx)
    raw = ctx.env.get("CM_MANAGER", "").strip()
    if raw:
        address = parse_address(raw, "CM_MANAGER")
    elif record is not None:
        _deployment.require_finished(record, record_file)
        address = parse_address(record.get("address"), f"address in {record_file}")
    else:
        raise OpsError(
            f"no deployment record {record_file}: set CM_MANAGER to the address to verify"
        )
    if record is not None and (
        record.get("address") != address or record.get("status", "deployed") != "deployed"
    ):
        say(
            f"note: {record_file} names {record.get('address')}, not {address}: the record is not used"
        )
        record = None

    say(f"verifying ChannelManager at {address} on {ctx.settings.network} (chain {chain.id})")
    report = Report(address)
    code = bytes(web3.eth.get_code(address))
    if not report.check(
        "code", bool(code), f"{len(code):,} bytes" if code else "no code at this address"
    ):
        return finish(report)

    build = brownie.ChannelManager._build
    runtime = bytes.fromhex(build["deployedBytecode"].removeprefix("0x"))
    references = immutable_references(build)
    expected_args = expected_constructor_args(address, record)
    check_runtime(report, code, runtime, references, address, expected_args)
    check_views(report, address, expected_args)
    check_stated_settings(report, ctx, address, record)
    if record is not None:
        check_record(report, record, build)
    else:
        say(
            "  note: no deployment record for this address: the creation transaction is not checked"
        )
    return finish(report)


def finish(report: Report) -> Report:
    if report.matches:
        say(
            f"MATCH: {report.address} runs this repository's ChannelManager build with the expected settings"
        )
    else:
        say(f"MISMATCH: {report.address} failed {', '.join(report.failed())}")
    return report


# ------------------------------------------------------------------ expectations


def expected_constructor_args(address: str, record: Mapping[str, Any] | None) -> dict[str, Any]:
    if record is not None:
        args = dict(record["constructor_args"])
        args["challengePeriod"] = int(args["challengePeriod"])
        return args
    say("  note: no record: the constructor arguments are taken from the contract's own views")
    contract = _common.contract_at("ChannelManager", address, brownie.ChannelManager.abi)
    try:
        return {
            "hub": contract.hub(),
            "challengePeriod": int(contract.challengePeriod()),
            "approvedToken": contract.approvedToken(),
        }
    except Exception:  # not a ChannelManager: check_views reports it
        return {"hub": None, "challengePeriod": None, "approvedToken": None}


def _short_string(text: str) -> bytes:
    """OpenZeppelin ShortString: the bytes left-aligned, the length in the last byte."""
    raw = text.encode()
    return raw.ljust(31, b"\x00") + bytes([len(raw)])


def expected_immutables(address: str, args: Mapping[str, Any]) -> dict[str, bytes | None]:
    """Name → the 32-byte word each immutable must hold (None where the value is unknown)."""

    def word(kind: str, value: Any) -> bytes | None:
        return None if value is None else encode([kind], [value])

    domain = Domain(chain.id, address)
    return {
        "hub": word("address", args.get("hub")),
        "challengePeriod": word("uint256", args.get("challengePeriod")),
        "approvedToken": word("address", args.get("approvedToken")),
        "_cachedThis": word("address", address),
        "_cachedChainId": word("uint256", chain.id),
        "_cachedDomainSeparator": domain.separator,
        "_hashedName": keccak(text=DOMAIN_NAME),
        "_hashedVersion": keccak(text=DOMAIN_VERSION),
        "_name": _short_string(DOMAIN_NAME),
        "_version": _short_string(DOMAIN_VERSION),
    }


# ------------------------------------------------------------------ checks


def check_runtime(
    report: Report,
    code: bytes,
    runtime: bytes,
    references: Mapping[str, list[tuple[int, int]]],
    address: str,
    args: Mapping[str, Any],
) -> None:
    masked = set()
    for ranges in references.values():
        for start, length in ranges:
            masked.update(range(start, start + length))
    if len(code) != len(runtime):
        report.check(
            "runtime code", False, f"{len(code):,} bytes on chain, {len(runtime):,} in the build"
        )
        return
    differing = [i for i in range(len(code)) if code[i] != runtime[i] and i not in masked]
    report.check(
        "runtime code",
        not differing,
        f"equal to the build outside {len(masked)} immutable bytes"
        if not differing
        else f"{len(differing)} bytes differ from the build (first at offset {differing[0]})",
    )
    expected = expected_immutables(address, args)
    problems = []
    for name, ranges in references.items():
        values = {code[start : start + length] for start, length in ranges}
        if len(values) != 1:
            problems.append(f"{name} holds different values at its {len(ranges)} positions")
            continue
        value = values.pop()
        want = expected.get(name)
        if name not in expected:
            problems.append(f"unexpected immutable {name}")
        elif want is not None and value != want:
            problems.append(f"{name} is 0x{value.hex()}, expected 0x{want.hex()}")
    report.check(
        "immutables",
        not problems,
        "; ".join(problems)
        if problems
        else f"{len(references)} immutables hold the expected values",
    )


def check_views(report: Report, address: str, args: Mapping[str, Any]) -> None:
    contract = _common.contract_at("ChannelManager", address, brownie.ChannelManager.abi)
    try:
        got = (contract.hub(), int(contract.challengePeriod()), contract.approvedToken())
        domain = contract.eip712Domain()
    except Exception:
        report.check("views", False, "the contract does not answer ChannelManager's views")
        return
    want = (args.get("hub"), args.get("challengePeriod"), args.get("approvedToken"))
    report.check(
        "constructor settings",
        got == want,
        f"hub {got[0]}, challengePeriod {got[1]}, approvedToken {got[2]}"
        + ("" if got == want else f"; expected {want[0]}, {want[1]}, {want[2]}"),
    )
    _fields, name, version, chain_id, verifying, *_ = domain
    ok = (name, version, int(chain_id), verifying) == (
        DOMAIN_NAME,
        DOMAIN_VERSION,
        chain.id,
        address,
    )
    report.check("eip712Domain", ok, f"{name!r} v{version}, chain {chain_id}, contract {verifying}")


def check_stated_settings(
    report: Report, ctx: _common.Context, address: str, record: Mapping[str, Any] | None
) -> None:
    """What the operator states (environment or config) must be what the contract holds: a
    verify run with the wrong CM_HUB must not say MATCH. `deployer` and `test-token` mean the
    record's deployer and test token; without a record they state nothing."""
    settings = ctx.settings
    record = record or {}
    stated: dict[str, tuple[Any, str]] = {}
    hub = record.get("deployer") if settings.hub == DEPLOYER else settings.hub
    token = (
        (record.get("test_token") or {}).get("address")
        if settings.token == TEST_TOKEN
        else settings.token
    )
    for name, value, key in (
        ("hub", hub, "hub"),
        ("approvedToken", token, "token"),
        ("challengePeriod", settings.challenge_period, "challenge_period"),
    ):
        if value is not None:
            stated[name] = (value, settings.sources.get(key, "config"))
    if not stated:
        return
    contract = _common.contract_at("ChannelManager", address, brownie.ChannelManager.abi)
    try:
        actual = {
            "hub": contract.hub(),
            "approvedToken": contract.approvedToken(),
            "challengePeriod": int(contract.challengePeriod()),
        }
    except Exception:
        actual = {}
    wrong = [
        f"{name} is {actual.get(name)}, {source} says {value}"
        for name, (value, source) in stated.items()
        if actual.get(name) != value
    ]
    report.check(
        "stated settings",
        not wrong,
        "; ".join(wrong)
        if wrong
        else ", ".join(f"{name} as {source} says" for name, (_v, source) in stated.items()),
    )


def check_record(report: Report, record: Mapping[str, Any], build: Mapping[str, Any]) -> None:
    build_hash = "0x" + keccak(hexstr=build["deployedBytecode"]).hex()
    report.check(
        "build",
        record.get("deployed_bytecode_keccak") == build_hash,
        "the record's bytecode hash is the current build's"
        if record.get("deployed_bytecode_keccak") == build_hash
        else "the record was made from another build (sources or compiler settings changed since)",
    )
    try:
        tx = web3.eth.get_transaction(record["transaction"])
        receipt = web3.eth.get_transaction_receipt(record["transaction"])
    except Exception:
        report.check(
            "creation transaction", False, f"{record.get('transaction')} is not on this chain"
        )
        return
    data = _common.hex0x(tx["input"])
    expected = (
        "0x"
        + build["bytecode"].removeprefix("0x").lower()
        + record["constructor_args_encoded"][2:].lower()
    )
    args = record["constructor_args"]
    encoded = encode(
        ["address", "uint256", "address"],
        [args["hub"], int(args["challengePeriod"]), args["approvedToken"]],
    )
    problems = []
    if "0x" + encoded.hex() != record["constructor_args_encoded"].lower():
        problems.append("the record's constructor_args and constructor_args_encoded disagree")
    if data != expected:
        problems.append("its input is not the build's bytecode with the recorded arguments")
    if receipt["contractAddress"] != record["address"]:
        problems.append(f"it created {receipt['contractAddress']}")
    if int(receipt["blockNumber"]) != int(record["block"]):
        problems.append(f"it was mined in block {receipt['blockNumber']}, not {record['block']}")
    report.check(
        "creation transaction",
        not problems,
        "; ".join(problems)
        if problems
        else f"{record['transaction']} created it with the recorded arguments",
    )


# ------------------------------------------------------------------ immutable positions


def immutable_references(build: Mapping[str, Any]) -> dict[str, list[tuple[int, int]]]:
    """Name → byte ranges of each immutable in the runtime code, from solc's own output.
    Brownie keeps no `immutableReferences`, so the contract is compiled once more with the
    build's settings; the result is cached per build."""
    key = "0x" + keccak(hexstr=build["deployedBytecode"]).hex()
    if CACHE.exists():
        cached = json.loads(CACHE.read_text())
        if cached.get("deployed_bytecode_keccak") == key:
            return {k: [tuple(r) for r in v] for k, v in cached["references"].items()}
    say("  (compiling once more for solc's immutableReferences; cached afterwards)")
    references = _compile_references(build)
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    CACHE.write_text(
        json.dumps({"deployed_bytecode_keccak": key, "references": references}, indent=1)
    )
    return references


def _compile_references(build: Mapping[str, Any]) -> dict[str, list[tuple[int, int]]]:
    # the same standard JSON input scripts/deploy_export.py gives explorers, checked the same way
    output = deploy_export.compile_input(deploy_export.standard_input(build), build)
    contract = output["contracts"][build["sourcePath"]]["ChannelManager"]
    deployed = contract["evm"]["deployedBytecode"]
    names: dict[int, str] = {}
    for source in output["sources"].values():
        _collect_names(source["ast"], names)
    return {
        names.get(int(node_id), f"#{node_id}"): [(r["start"], r["length"]) for r in ranges]
        for node_id, ranges in deployed.get("immutableReferences", {}).items()
    }


def _collect_names(node: Any, names: dict[int, str]) -> None:
    if isinstance(node, dict):
        if node.get("nodeType") == "VariableDeclaration" and node.get("mutability") == "immutable":
            names[int(node["id"])] = node["name"]
        for value in node.values():
            _collect_names(value, names)
    elif isinstance(node, list):
        for item in node:
            _collect_names(item, names)
