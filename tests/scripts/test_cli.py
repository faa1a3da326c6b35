"""The scripts as a deployer runs them: `brownie run <script> [command args…] --network NAME`
in a separate process attached to the test chain. Bad input: one line on stderr, exit status 2,
nothing sent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from brownie import accounts, network

from tests.scripts.conftest import nonce

ROOT = Path(__file__).resolve().parents[2]


def brownie_run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    brownie = Path(sys.executable).with_name("brownie")
    return subprocess.run(
        [str(brownie), "run", *args, "--network", network.show_active()],
        cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "ignore", **env},
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    "script_args, extra, fragment",
    [
        (["scripts/deploy.py"], {"CM_HUB": "0x" + "0" * 40}, "hub is the zero address"),
        (["scripts/channel.py", "show", "0x12"], {}, "user '0x12' is not an address"),
    ],
    ids=["deploy-zero-hub", "channel-bad-user"],
)
def test_bad_input_exits_2_with_one_line(base_env, deployed, script_args, extra, fragment):
    before = nonce(accounts[0])
    result = brownie_run(*script_args, env={**base_env, **extra})
    assert result.returncode == 2, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and fragment in errors[0], result.stderr
    assert nonce(accounts[0]) == before


def test_dry_run_and_status_from_the_command_line(base_env, deployed):
    result = brownie_run("scripts/deploy.py", env={**base_env, "CM_DRY_RUN": "1", "CM_FORCE": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dry run: nothing was sent" in result.stdout
    result = brownie_run("scripts/hub.py", "status", env=base_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"ChannelManager {deployed['address']}" in result.stdout and "reserve" in result.stdout
