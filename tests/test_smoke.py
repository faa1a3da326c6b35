"""Smoke test of the toolchain: the offline compiler is the pinned one, and a contract
compiled by it deploys and answers on the local chain."""

import json
from pathlib import Path

import yaml
from brownie import ChannelManager, TestToken, accounts, chain, web3

ROOT = Path(__file__).resolve().parents[1]


def test_compiler_is_pinned_version():
    pinned = yaml.safe_load((ROOT / "brownie-config.yaml").read_text())["compiler"]["solc"][
        "version"
    ]
    npm_version = json.loads((ROOT / "node_modules/solc/package.json").read_text())["version"]
    assert npm_version == pinned
    # the build artifact records the compiler that produced it: the shim reports solc-js's version
    assert ChannelManager._build["compiler"]["version"].startswith(pinned + "+commit.")


def test_contract_deploys_and_answers_on_local_chain():
    assert chain.id == 31337  # anvil
    hub = accounts[0]
    token = TestToken.deploy("Test", "TST", {"from": hub})
    manager = ChannelManager.deploy(hub, 3600, token, {"from": hub})
    assert len(web3.eth.get_code(manager.address)) > 0
    assert manager.hub() == hub
    assert manager.challengePeriod() == 3600
    assert manager.approvedToken() == token
