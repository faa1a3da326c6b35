"""scripts/deploy.py on the local chain: the record, one deployment per chain, the dry run,
and every bad input refused with one line, a non-zero exit and nothing sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from brownie import ChannelManager, accounts, chain, network, web3
from eth_utils import keccak

from channel_manager.ops import OpsError
from channel_manager.ops.settings import Settings
from scripts import _common, _deploy_plan, _deploy_record, deploy, hub, verify_deployment
from tests.scripts.helpers import ETHER, nonce, record_file, records_env, refused


@pytest.fixture
def fresh(tmp_path: Path) -> dict[str, str]:
    """An environment whose records folder is empty (every test deploys on its own)."""
    return records_env(tmp_path)


def test_deploy_writes_the_record(fresh, tmp_path):
    deployer = accounts[0]
    record = deploy.run(env=fresh)
    path = record_file(tmp_path)
    assert json.loads(path.read_text()) == record
    assert record["status"] == "deployed" and record["genesis_hash"].startswith("0x")

    manager = ChannelManager.at(record["address"])
    tx = web3.eth.get_transaction(record["transaction"])
    receipt = web3.eth.get_transaction_receipt(record["transaction"])
    assert receipt["contractAddress"] == record["address"]
    assert record["block"] == receipt["blockNumber"]
    assert record["block_hash"] == _common.hex0x(web3.eth.get_block(record["block"])["hash"])
    assert record["chain_id"] == chain.id == 31337
    assert record["network"] == network.show_active()
    assert record["deployer"] == deployer.address == tx["from"]
    token = record["test_token"]["address"]
    assert record["constructor_args"] == {
        "hub": deployer.address,
        "challengePeriod": 3600,
        "approvedToken": token,
    }
    assert (manager.hub(), manager.challengePeriod(), manager.approvedToken()) == (
        deployer.address,
        3600,
        token,
    )
    assert _common.hex0x(tx["input"]).endswith(record["constructor_args_encoded"][2:])
    assert record["compiler"] == {
        "version": ChannelManager._build["compiler"]["version"],
        "evm_version": "cancun",
        "optimizer": {"enabled": True, "runs": 200},
    }
    assert (
        record["bytecode_keccak"] == "0x" + keccak(hexstr=ChannelManager._build["bytecode"]).hex()
    )
    assert record["codehash"] == "0x" + keccak(bytes(web3.eth.get_code(manager.address))).hex()
    assert len(record["git_commit"]) == 40 and isinstance(record["git_dirty"], bool)
    # local chains: the reserve is funded so the demo and operations have collateral
    assert manager.getHubReserveWei() == 100 * ETHER
    assert manager.getHubReserveTokens() == 100_000 * ETHER


def test_second_deploy_is_refused_without_force(fresh, tmp_path, capsys):
    first = deploy.run(env=fresh)
    refused(
        capsys,
        lambda: deploy.run(env=fresh),
        "deployment record",
        first["address"],
        "CM_FORCE=1",
        sender=accounts[0],
    )
    second = deploy.run(env={**fresh, "CM_FORCE": "1"})
    assert second["address"] != first["address"]
    out = capsys.readouterr().out
    assert (
        f"CM_FORCE=1: deployment record {record_file(tmp_path)} names ChannelManager {first['address']}"
        in out
    )
    # the replaced record is kept aside, never overwritten
    [kept] = (tmp_path / "dev").glob("*.replaced-*.json")
    assert json.loads(kept.read_text()) == first and f"kept as {kept}" in out
    assert json.loads(record_file(tmp_path).read_text()) == second


def test_a_deploy_waiting_for_confirmations_stops_and_resumes(fresh, deployed, tmp_path, capsys):
    """The node mines no further block: the deploy does not hang; it stops (exit 3) with a
    `mined` record naming the address, operate commands refuse that record, and a rerun after
    the next block finishes it without a second contract."""
    config = _config(tmp_path, DEV.format(chain=31337))  # no local reserve funding
    env = {
        **fresh, "CM_CONFIG": config, "CM_TOKEN": deployed["test_token"]["address"],
        "CM_CONFIRMATIONS": "2", "CM_TX_TIMEOUT": "1",
    }  # fmt: skip
    deployer_nonce = nonce(accounts[0])
    with pytest.raises(SystemExit) as stopped:
        deploy.run(env=env)
    assert stopped.value.code == 3
    err = capsys.readouterr().err
    assert "has 1 of 2 confirmations after 1 s" in err and err.count("\n") == 1
    pending = json.loads(record_file(tmp_path).read_text())
    assert pending["status"] == "mined" and pending["address"] == _deploy_record.create_address(
        accounts[0].address, deployer_nonce
    )
    refused(capsys, lambda: hub.status(env=fresh), "is mined", "run scripts/deploy.py again")
    chain.mine()
    record = deploy.run(env=env)
    assert (record["status"], record["address"], record["transaction"]) == (
        "deployed", pending["address"], pending["transaction"],
    )  # fmt: skip
    assert "resuming the pending deployment" in capsys.readouterr().out
    assert nonce(accounts[0]) == deployer_nonce + 1  # one ChannelManager deployed


def test_a_stuck_deployment_is_replaced_with_higher_fees(fresh, deployed, tmp_path, capsys):
    """The node mines nothing: the deploy stops with a pending record; CM_REPLACE=1 resends it
    with the same nonce and fees 12.5 % higher, so the replacement creates the same address."""
    config = _config(tmp_path, DEV.format(chain=31337))
    env = {
        **fresh, "CM_CONFIG": config, "CM_TOKEN": deployed["test_token"]["address"],
        "CM_TX_TIMEOUT": "1", "CM_MAX_FEE": "2 gwei", "CM_PRIORITY_FEE": "1 gwei",
    }  # fmt: skip
    deployer_nonce = nonce(accounts[0])
    web3.provider.make_request("evm_setAutomine", [False])
    try:
        for extra in ({}, {"CM_REPLACE": "1"}):  # sent, then replaced: neither is mined
            with pytest.raises(SystemExit) as stopped:
                deploy.run(env={**env, **extra})
            assert stopped.value.code == 3
        pending = json.loads(record_file(tmp_path).read_text())
        web3.provider.make_request("evm_mine", [])
    finally:
        web3.provider.make_request("evm_setAutomine", [True])
    record = deploy.run(env=env)
    out = capsys.readouterr().out
    assert "replacing it with higher fees" in out and "max fee 2.25 gwei" in out
    first, second = pending["attempts"]
    assert record["address"] == pending["address"] and record["transaction"] == second != first
    replaced = web3.eth.get_transaction(second)
    assert (replaced["nonce"], replaced["maxFeePerGas"]) == (deployer_nonce, 2_250_000_000)
    assert nonce(accounts[0]) == deployer_nonce + 1


def test_adopt_an_existing_deployment(fresh, deployed, tmp_path, capsys):
    token = deployed["test_token"]["address"]
    manual = ChannelManager.deploy(accounts[0], 7200, token, {"from": accounts[0]})
    record = deploy.run(env={**fresh, "CM_ADOPT": manual.tx.txid})
    assert (record["address"], record["adopted"], record["constructor_args"]["challengePeriod"]) == (
        manual.address, True, 7200,
    )  # fmt: skip
    assert verify_deployment.verify(env={**fresh, "CM_CHALLENGE_PERIOD": "7200"}).matches
    # by address: the creation block is found from historical state
    other = tmp_path / "other"
    by_address = deploy.run(env={"CM_DEPLOYMENTS_DIR": str(other), "CM_ADOPT": manual.address})
    assert (
        by_address["transaction"] == manual.tx.txid
        and by_address["block"] == manual.tx.block_number
    )
    refused(
        capsys,
        lambda: deploy.run(
            env={**fresh, "CM_ADOPT": deployed["test_token"]["transaction"], "CM_FORCE": "1"}
        ),
        "did not deploy this build's ChannelManager",
        sender=accounts[0],
    )


def test_dry_run_shows_the_fees_the_real_run_uses(fresh, capsys):
    assert deploy.run(env={**fresh, "CM_DRY_RUN": "1", "CM_PRIORITY_FEE": "2 gwei"}) is None
    out = capsys.readouterr().out
    assert (
        "fees             EIP-1559: max fee 2 gwei [node], priority fee 2 gwei [env CM_PRIORITY_FEE]"
        in out
    )
    assert "at most" in out and "address          0x" in out


def test_record_of_another_chain_with_the_same_id_is_not_used(fresh, tmp_path, capsys):
    """Records are named by chain id and genesis hash: a record of another chain that reuses
    this chain id lies in another file, and a file whose genesis disagrees is refused."""
    other = tmp_path / "dev" / f"{chain.id}-deadbeef.json"
    other.parent.mkdir(parents=True)
    other.write_text(json.dumps({"address": accounts[5].address, "genesis_hash": "0xdeadbeef"}))
    record = deploy.run(env=fresh)
    assert (
        record_file(tmp_path) != other
        and json.loads(other.read_text())["address"] == accounts[5].address
    )
    record_file(tmp_path).write_text(json.dumps(dict(record, genesis_hash="0x" + "ab" * 32)))
    refused(capsys, lambda: deploy.run(env=fresh), "was made on another chain", sender=accounts[0])


def test_dry_run_sends_nothing(fresh, tmp_path, capsys):
    before = nonce(accounts[0])
    height = web3.eth.block_number
    assert deploy.run(env={**fresh, "CM_DRY_RUN": "1"}) is None
    out = capsys.readouterr().out
    assert "gas" in out and "dry run: nothing was sent" in out
    assert nonce(accounts[0]) == before and web3.eth.block_number == height
    assert not (tmp_path / "dev").exists()


def test_overrides_from_the_environment(fresh):
    record = deploy.run(env={**fresh, "CM_HUB": accounts[7].address, "CM_CHALLENGE_PERIOD": "7200"})
    assert record["constructor_args"]["hub"] == accounts[7].address
    assert ChannelManager.at(record["address"]).challengePeriod() == 7200


def test_existing_token_is_used_and_checked(fresh, deployed):
    token = deployed["test_token"]["address"]
    record = deploy.run(env={**fresh, "CM_TOKEN": token})
    assert record["constructor_args"]["approvedToken"] == token
    assert "test_token" not in record


# ------------------------------------------------------------------ bad input


def _config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return str(path)


DEV = "development:\n  chain_id: {chain}\n  hub: deployer\n  token: test-token\n  challenge_period: 3600\n  account: local:0\n"


@pytest.mark.parametrize(
    "extra, fragments",
    [
        ({"CM_HUB": "0x1234"}, ["hub", "is not an address"]),
        ({"CM_HUB": "0x" + "0" * 40}, ["hub is the zero address"]),
        (
            {"CM_HUB": "0x52908400098527886E0F7030069857D2E4169EE7".replace("E7", "e7")},
            ["wrong checksum"],
        ),
        ({"CM_TOKEN": "0x000000000000000000000000000000000000dEaD"}, ["token", "has no code"]),
        ({"CM_TOKEN": "not-an-address"}, ["token", "is not an address"]),
        ({"CM_CHALLENGE_PERIOD": "0"}, ["challenge period 0 s is below the minimum"]),
        ({"CM_CHALLENGE_PERIOD": str(365 * 86400 + 1)}, ["above the maximum"]),
        ({"CM_CHALLENGE_PERIOD": "1h"}, ["not a whole number"]),
        ({"CM_ACCOUNT": "privkey"}, ["CM_PRIVATE_KEY is not set"]),
        ({"CM_ACCOUNT": "privkey", "CM_PRIVATE_KEY": "0x1234"}, ["not a 32-byte hex key"]),
        ({"CM_ACCOUNT": "keystore:no-such-account"}, ["no brownie keystore account"]),
        ({"CM_ACCOUNT": "local:99"}, ["local:99"]),
        ({"CM_ACCOUNT": "ledger"}, ["not local:N, keystore:ID or privkey"]),
        ({"CM_DRY_RUN": "maybe"}, ["CM_DRY_RUN"]),
        ({"CM_REPLACE": "perhaps"}, ["CM_REPLACE='perhaps' is not a yes/no value"]),
        ({"CM_CONFIRMATIONS": "0"}, ["confirmations 0 is below 1"]),
        ({"CM_MAX_FEE": "lots"}, ["max fee 'lots' is not an amount"]),
        ({"CM_ADOPT": "0x1234"}, ["CM_ADOPT '0x1234' is not an address"]),
    ],
    ids=[
        "short-hub",
        "zero-hub",
        "bad-checksum",
        "token-without-code",
        "token-not-address",
        "period-zero",
        "period-too-long",
        "period-not-number",
        "missing-key",
        "malformed-key",
        "unknown-keystore",
        "unknown-local-account",
        "unknown-account-kind",
        "bad-flag",
        "bad-replace-flag",
        "zero-confirmations",
        "bad-fee",
        "bad-adopt",
    ],
)
def test_bad_input_is_refused_and_nothing_sent(fresh, tmp_path, capsys, extra, fragments):
    refused(capsys, lambda: deploy.run(env={**fresh, **extra}), *fragments, sender=accounts[0])
    assert not (tmp_path / "dev").exists()
    assert "deployment on" not in capsys.readouterr().out  # refused before the summary


def _deploy_refused(capsys, env: dict[str, str], *fragments: str) -> None:
    """deploy.run(env) refuses with every fragment and the deployer sends nothing."""
    refused(capsys, lambda: deploy.run(env=env), *fragments, sender=accounts[0])


def test_token_that_is_not_an_erc20_is_refused(fresh, deployed, capsys):
    not_a_token = deployed["address"]  # a ChannelManager: code, but no decimals()
    _deploy_refused(capsys, {**fresh, "CM_TOKEN": not_a_token}, "does not answer ERC20 calls")


def test_unknown_network_is_refused(fresh, tmp_path, capsys):
    config = _config(tmp_path, "networks:\n  mainnet:\n    chain_id: 1\n")
    _deploy_refused(
        capsys, {**fresh, "CM_CONFIG": config}, "has no entry in deployments/config.yaml"
    )


def test_wrong_chain_id_is_refused(fresh, tmp_path, capsys):
    config = _config(tmp_path, DEV.format(chain=11155111))
    _deploy_refused(capsys, {**fresh, "CM_CONFIG": config}, "wrong chain id", "11155111", "31337")


def test_config_that_does_not_parse_is_refused(fresh, tmp_path, capsys):
    config = _config(tmp_path, "development: [unclosed\n")
    _deploy_refused(capsys, {**fresh, "CM_CONFIG": config}, "do not parse")


def test_deployer_that_cannot_pay_is_refused(fresh, capsys):
    poor_key = "0x" + "11" * 32  # a key whose address holds no ETH on the local chain
    env = {**fresh, "CM_ACCOUNT": "privkey", "CM_PRIVATE_KEY": poor_key}
    err = refused(capsys, lambda: deploy.run(env=env), "holds 0 ETH but the deployment needs")
    assert "11" * 32 not in err  # the key is never printed
    assert web3.eth.get_transaction_count(_address_of(poor_key)) == 0


def _address_of(key: str) -> str:
    from eth_account import Account

    return Account.from_key(key).address


def test_public_network_asks_for_confirmation(monkeypatch):
    """On a public network without CM_YES the deployer must type `deploy`; no answer, no deploy."""
    settings = Settings("sepolia", False, 11155111, "deployer", "test-token", 3600, "keystore:x")
    ctx = _common.Context(settings, {})
    monkeypatch.setattr("builtins.input", lambda _prompt: (_ for _ in ()).throw(EOFError))
    with pytest.raises(OpsError, match="not confirmed"):
        _deploy_plan.confirm(ctx)
    monkeypatch.setattr("builtins.input", lambda _prompt: "yes")
    with pytest.raises(OpsError, match="not confirmed"):
        _deploy_plan.confirm(ctx)
    monkeypatch.setattr("builtins.input", lambda _prompt: "deploy")
    _deploy_plan.confirm(ctx)
    _deploy_plan.confirm(_common.Context(settings, {"CM_YES": "1"}))  # no question asked
