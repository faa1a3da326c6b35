"""scripts/verify_deployment.py: a deployment matches its build and record; other code, other
constructor settings or a doctored record do not."""

from __future__ import annotations

from pathlib import Path

import pytest
from brownie import ChannelManager, accounts

from scripts import verify_deployment
from tests.scripts.helpers import records_env, refused, write_record

CHECKS = {
    "stated settings",
    "code",
    "runtime code",
    "immutables",
    "constructor settings",
    "eip712Domain",
    "build",
    "creation transaction",
}


def test_deployment_matches(base_env, deployed, capsys):
    report = verify_deployment.verify(env=base_env)
    assert report.matches, report.checks
    assert {name for name, _, _ in report.checks} == CHECKS
    assert f"MATCH: {deployed['address']}" in capsys.readouterr().out


def test_immutable_positions_come_from_solc(base_env, deployed):
    references = verify_deployment.immutable_references(ChannelManager._build)
    assert {
        "hub",
        "challengePeriod",
        "approvedToken",
        "_cachedDomainSeparator",
        "_cachedThis",
    } <= set(references)
    assert all(length == 32 for ranges in references.values() for _, length in ranges)


def test_other_code_does_not_match(base_env, deployed, capsys):
    report = verify_deployment.verify(
        env={**base_env, "CM_MANAGER": deployed["test_token"]["address"]}
    )
    assert not report.matches
    assert "runtime code" in report.failed()
    assert "MISMATCH" in capsys.readouterr().out


def test_other_constructor_settings_do_not_match(tmp_path, deployed):
    """A record claiming another challenge period than the contract was built with."""
    doctored = dict(
        deployed, constructor_args={**deployed["constructor_args"], "challengePeriod": 7200}
    )
    write_record(tmp_path, doctored)
    report = verify_deployment.verify(env=records_env(tmp_path))
    assert not report.matches
    assert {"immutables", "constructor settings", "creation transaction"} <= set(report.failed())
    assert "runtime code" not in report.failed()  # same build: only the settings differ


def test_same_build_other_arguments_do_not_match_the_record(tmp_path, deployed):
    other = ChannelManager.deploy(
        accounts[3], 7200, deployed["test_token"]["address"], {"from": accounts[0]}
    )
    env = {"CM_DEPLOYMENTS_DIR": str(tmp_path), "CM_MANAGER": other.address}
    # without a record the views are the expectation: code and immutables are consistent; the
    # config's challenge period (3600) is a stated setting, so state the contract's instead
    report = verify_deployment.verify(env={**env, "CM_CHALLENGE_PERIOD": "7200"})
    assert report.matches, report.checks
    report = verify_deployment.verify(env=env)
    assert report.failed() == ["stated settings"]
    write_record(tmp_path, dict(deployed, address=other.address))
    report = verify_deployment.verify(env=records_env(tmp_path))
    assert {"immutables", "constructor settings", "creation transaction"} <= set(report.failed())


@pytest.mark.parametrize(
    "variable, value",
    [("CM_HUB", 7), ("CM_TOKEN", 8), ("CM_CHALLENGE_PERIOD", "7200")],
    ids=["hub", "token", "period"],
)
def test_a_wrong_stated_setting_does_not_match(base_env, deployed, capsys, variable, value):
    """verify reads CM_HUB / CM_TOKEN / CM_CHALLENGE_PERIOD when set, and holds the contract
    to them: the wrong hub set in the environment is a MISMATCH, never ignored."""
    stated = accounts[value].address if isinstance(value, int) else value
    report = verify_deployment.verify(env={**base_env, variable: stated})
    assert report.failed() == ["stated settings"], report.checks
    out = capsys.readouterr().out
    assert f"env {variable} says {stated}" in out and "MISMATCH" in out


def test_verify_needs_no_account_hub_or_token(base_env, deployed, tmp_path):
    """A read-only command on a network whose entry leaves hub and token unset (like sepolia's)
    and names no account still runs."""
    config = tmp_path / "config.yaml"
    config.write_text("development:\n  chain_id: 31337\n  hub: null\n  token: null\n")
    report = verify_deployment.verify(env={**base_env, "CM_CONFIG": str(config)})
    assert report.matches, report.checks


def test_main_exits_non_zero_on_mismatch(base_env, deployed, monkeypatch):
    monkeypatch.setenv("CM_DEPLOYMENTS_DIR", base_env["CM_DEPLOYMENTS_DIR"])
    monkeypatch.setenv("CM_MANAGER", deployed["test_token"]["address"])
    with pytest.raises(SystemExit) as info:
        verify_deployment.main()
    assert info.value.code == 1


@pytest.mark.parametrize(
    "address, fragment",
    [("0x12", "is not an address"), ("0x000000000000000000000000000000000000dEaD", None)],
    ids=["malformed", "no-code"],
)
def test_bad_address(base_env, capsys, address, fragment):
    env = {**base_env, "CM_MANAGER": address}
    if fragment:
        refused(capsys, lambda: verify_deployment.verify(env=env), fragment)
    else:
        report = verify_deployment.verify(env=env)
        assert report.failed() == ["code"]


def test_no_record_and_no_address(tmp_path: Path, capsys):
    refused(
        capsys, lambda: verify_deployment.verify(env=records_env(tmp_path)), "no deployment record"
    )
