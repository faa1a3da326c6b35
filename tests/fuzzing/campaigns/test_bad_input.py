"""One line on stderr and exit status 2 for input the campaign cannot use: a contract that does
not compile, lacks the ABI or is missing; a damaged replay blob; an unreachable scheduler."""

from __future__ import annotations

from tests.fuzzing.campaigns.support import free_port


def assert_one_line_exit_2(run, words: str) -> None:
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("campaign.py: ") and words in lines[0], run.stderr


def test_contract_that_does_not_compile(campaign, tmp_path):
    broken = tmp_path / "Broken.sol"
    broken.write_text("// SPDX-License-Identifier: MIT\npragma solidity 0.8.30;\ncontract Broken { function f( }\n")
    assert_one_line_exit_2(campaign("--contract", str(broken), "--steps", "10", "--quiet"), "does not compile")


def test_contract_without_the_abi_or_missing(campaign, tmp_path):
    assert_one_line_exit_2(campaign("--contract", "contracts/test/TestToken.sol", "--steps", "10", "--quiet"),
                           "lacks the ChannelManager ABI")
    assert_one_line_exit_2(campaign("--contract", str(tmp_path / "Nope.sol"), "--steps", "10", "--quiet"),
                           "no such Solidity file")


def test_damaged_blob(campaign):
    assert_one_line_exit_2(campaign("--replay", "not-a-blob!", "--quiet"), "replay blob")


def test_unreachable_scheduler(campaign):
    run = campaign("--scheduler", f"tcp://127.0.0.1:{free_port()}", "--connect-timeout", "2", "--steps", "10",
                   "--quiet")
    assert_one_line_exit_2(run, "cannot reach the Dask scheduler")
