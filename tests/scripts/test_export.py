"""scripts/deploy_export.py: the standard JSON input it writes compiles, with a compiler call of
its own, to exactly the creation code the deployment transaction carried (metadata hash
included), and the constructor arguments it gives are the ones sent: what an explorer or
Sourcify checks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import solcx
from brownie import ChannelManager, web3

from scripts import _common, deploy_export
from tests.scripts.helpers import records_env, refused, write_record


def test_export_reproduces_the_deployed_creation_code(base_env, deployed, tmp_path, capsys):
    folder = deploy_export.export(env={**base_env, "CM_EXPORT_DIR": str(tmp_path)})
    standard = json.loads((folder / "standard-input.json").read_text())
    info = json.loads((folder / "verification.json").read_text())
    metadata = json.loads((folder / "metadata.json").read_text())
    build = ChannelManager._build

    assert set(standard["sources"]) == set(build["allSourcePaths"].values())
    assert "@openzeppelin=node_modules/@openzeppelin" in standard["settings"]["remappings"]
    assert metadata["settings"]["compilationTarget"] == {build["sourcePath"]: "ChannelManager"}
    assert info["compiler"] == "v" + build["compiler"]["version"]
    assert info["contract"] == "contracts/ChannelManager.sol:ChannelManager"
    assert info["constructor_arguments"] == deployed["constructor_args_encoded"][2:]
    assert info["license"] == "MIT" and info["address"] == deployed["address"]

    # an explorer's check, with solc called directly on the exported file: bytecode + arguments
    # is the creation transaction's input
    version = build["compiler"]["version"].split("+")[0]
    solc = Path(os.environ.get("SOLCX_BINARY_PATH", _common.ROOT / ".solcx")) / f"solc-v{version}"
    output = solcx.compile_standard(standard, solc_binary=solc, allow_paths=str(folder))
    compiled = output["contracts"][build["sourcePath"]]["ChannelManager"]["evm"]["bytecode"][
        "object"
    ]
    creation = _common.hex0x(web3.eth.get_transaction(deployed["transaction"])["input"])
    assert creation == "0x" + compiled.lower() + info["constructor_arguments"]
    assert "verification input for" in capsys.readouterr().out


def test_a_record_of_another_build_is_not_exported(tmp_path, deployed, capsys):
    write_record(tmp_path, dict(deployed, deployed_bytecode_keccak="0x" + "00" * 32))
    refused(
        capsys,
        lambda: deploy_export.export(env=records_env(tmp_path)),
        "was made from another build",
    )
