"""Export what a block explorer or Sourcify needs to verify the deployed ChannelManager's source.

    python tools/run_script.py scripts/deploy_export.py --network NAME

brownie's own route (`publish_source`, `get_verification_info()`) fails in its flattener on this
project, and a flattened file would not reproduce the metadata hash anyway. This writes, for the
chain's deployment record, into deployments/verification/<record name>/:

    standard-input.json   solc's standard JSON input: every source file (OpenZeppelin's too,
                          under the names the build used), optimizer, EVM version, remappings
    metadata.json         solc's metadata of the contract (what Sourcify matches)
    verification.json     compiler version in explorers' long form, the contract's full name,
                          the constructor arguments ABI-encoded, address, chain, licence

Before anything is written the input is compiled again and must give exactly the build's
creation and runtime bytecode, metadata hash included, and the record's constructor arguments
must be the encoding of its arguments: an export that would not verify is refused.
docs/operations.md ("Verify the source on an explorer") has the steps.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import brownie
from brownie._config import CONFIG
from eth_abi import encode
from eth_utils import keccak

from channel_manager.ops import OpsError
from scripts import _common, _deployment
from scripts._common import command, say

CONTRACT = "ChannelManager"
# Metadata is what Sourcify matches; asking for it changes nothing in the bytecode.
# The AST and immutableReferences are for scripts/verify_deployment.py, which compiles the same way.
OUTPUT = [
    "abi",
    "evm.bytecode.object",
    "evm.deployedBytecode.object",
    "evm.deployedBytecode.immutableReferences",
    "metadata",
]


def main() -> None:
    export()


@command
def export(*, env: Mapping[str, str] | None = None) -> Path:
    ctx = _common.context(env, need_account=False)
    path = _deployment.record_path(ctx)
    record = _deployment.read_record(path, ctx)
    if record is None:
        raise OpsError(f"no deployment record {path}: deploy first (or adopt with CM_ADOPT)")
    _deployment.require_finished(record, path)
    build = brownie.ChannelManager._build
    if record.get("deployed_bytecode_keccak") != _common.hex0x(
        keccak(hexstr=build["deployedBytecode"])
    ):
        raise OpsError(
            f"{path} was made from another build than build/ (sources or settings changed):"
            " check out the recorded git commit and compile first"
        )
    check_constructor_args(record)
    standard = standard_input(build)
    say(
        "compiling the standard JSON input to check it reproduces the build (solc-js: a few seconds)"
    )
    output = compile_input(standard, build)
    folder = Path(ctx.env.get("CM_EXPORT_DIR") or path.parent / "verification" / path.stem)
    folder.mkdir(parents=True, exist_ok=True)
    contract = output["contracts"][build["sourcePath"]][CONTRACT]
    files = {
        "standard-input.json": standard,
        "metadata.json": json.loads(contract["metadata"]),
        "verification.json": verification_info(record, build),
    }
    for name, data in files.items():
        (folder / name).write_text(json.dumps(data, indent=2) + "\n")
    say(f"verification input for {record['address']} written to {folder}:")
    info = files["verification.json"]
    say(f"  compiler {info['compiler']}, contract {info['contract']}, licence {info['license']}")
    say(f"  constructor arguments (ABI-encoded) {info['constructor_arguments']}")
    return folder


def check_constructor_args(record: Mapping[str, Any]) -> None:
    args = record["constructor_args"]
    encoded = encode(
        ["address", "uint256", "address"],
        [args["hub"], int(args["challengePeriod"]), args["approvedToken"]],
    )
    if "0x" + encoded.hex() != str(record["constructor_args_encoded"]).lower():
        raise OpsError("the record's constructor_args and constructor_args_encoded disagree")


def standard_input(build: Mapping[str, Any]) -> dict[str, Any]:
    """solc's standard JSON input of the build: every source under the name the build used, and
    the build's compiler settings (which, with the sources, decide the metadata hash)."""
    from brownie.project import compiler

    sources = {path: (_common.ROOT / path).read_text() for path in build["allSourcePaths"].values()}
    settings = CONFIG.settings["compiler"]
    standard = compiler.generate_input_json(
        sources,
        evm_version=build["compiler"]["evm_version"],
        remappings=settings["solc"].get("remappings"),
        optimizer=build["compiler"]["optimizer"],
    )
    standard["settings"]["outputSelection"] = {"*": {"*": OUTPUT, "": ["ast"]}}
    return dict(standard)


def compile_input(standard: Mapping[str, Any], build: Mapping[str, Any]) -> dict[str, Any]:
    """Compile with the build's solc; refuse unless it gives the build's exact bytecode."""
    from brownie.project import compiler
    from brownie.project.compiler import solidity

    solidity.set_solc_version(str(build["compiler"]["version"]).split("+")[0])
    output = compiler.compile_from_input_json(
        dict(standard), silent=True, allow_paths=str(_common.ROOT)
    )
    evm = output["contracts"][build["sourcePath"]][CONTRACT]["evm"]
    same = (
        evm["bytecode"]["object"].lower() == build["bytecode"].removeprefix("0x").lower()
        and evm["deployedBytecode"]["object"].lower()
        == build["deployedBytecode"].removeprefix("0x").lower()
    )
    if not same:
        raise OpsError(
            "compiling the standard JSON input gave other bytecode than build/: run `brownie compile` first"
        )
    return dict(output)


def verification_info(record: Mapping[str, Any], build: Mapping[str, Any]) -> dict[str, Any]:
    source = (_common.ROOT / build["sourcePath"]).read_text()
    licence = re.search(r"SPDX-License-Identifier:\s*(\S+)", source)
    return {
        "address": record["address"],
        "chain_id": record["chain_id"],
        "transaction": record["transaction"],
        "compiler": "v" + str(build["compiler"]["version"]),
        "contract": f"{build['sourcePath']}:{CONTRACT}",
        "optimizer": build["compiler"]["optimizer"],
        "evm_version": build["compiler"]["evm_version"],
        "constructor_arguments": str(record["constructor_args_encoded"]).removeprefix("0x"),
        "license": licence.group(1) if licence else "UNLICENSED",
    }
