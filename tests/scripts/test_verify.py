"""scripts/verify_deployment.py: a deployment matches its build and record; other code, other
constructor settings or a doctored record do not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from brownie import ChannelManager, accounts, chain

from scripts import verify_deployment
from tests.scripts.conftest import refused

CHECKS = {
    "code",
    "runtime code",
    "immutables",
    "constructor settings",
    "eip712Domain",
    "build",
    "creation transaction",
}


def test_deployment_matches(base_env, deployed, capsys):
    report = verify_deployment.verify(base_env)
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
    report = verify_deployment.verify({**base_env, "CM_MANAGER": deployed["test_token"]["address"]})
    assert not report.matches
    assert "runtime code" in report.failed()
    assert "MISMATCH" in capsys.readouterr().out


def test_other_constructor_settings_do_not_match(tmp_path, deployed):
    """A record claiming another challenge period than the contract was built with."""
    doctored = dict(
        deployed, constructor_args={**deployed["constructor_args"], "challengePeriod": 7200}
    )
    folder = tmp_path / "dev"
    folder.mkdir()
    (folder / f"{chain.id}.json").write_text(json.dumps(doctored))
    report = verify_deployment.verify({"CM_DEPLOYMENTS_DIR": str(tmp_path)})
    assert not report.matches
    assert {"immutables", "constructor settings", "creation transaction"} <= set(report.failed())
    assert "runtime code" not in report.failed()  # same build: only the settings differ


def test_same_build_other_arguments_do_not_match_the_record(tmp_path, deployed):
    other = ChannelManager.deploy(
        accounts[3], 7200, deployed["test_token"]["address"], {"from": accounts[0]}
    )
    report = verify_deployment.verify(
        {"CM_DEPLOYMENTS_DIR": str(tmp_path), "CM_MANAGER": other.address}
    )
    # without a record the views are the expectation: code and immutables are consistent
    assert report.matches, report.checks
    path = tmp_path / "dev" / f"{chain.id}.json"
    path.parent.mkdir()
    path.write_text(json.dumps(dict(deployed, address=other.address)))
    report = verify_deployment.verify({"CM_DEPLOYMENTS_DIR": str(tmp_path)})
    assert {"immutables", "constructor settings", "creation transaction"} <= set(report.failed())


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
        refused(capsys, lambda: verify_deployment.verify(env), fragment)
    else:
        report = verify_deployment.verify(env)
        assert report.failed() == ["code"]


def test_no_record_and_no_address(tmp_path: Path, capsys):
    refused(
        capsys,
        lambda: verify_deployment.verify({"CM_DEPLOYMENTS_DIR": str(tmp_path)}),
        "no deployment record",
    )
