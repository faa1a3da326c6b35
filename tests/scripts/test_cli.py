"""The scripts as a deployer runs them: `python tools/run_script.py <script> [command args…]
--network NAME` in a separate process attached to the test chain, from a copy of the project
whose path has a dot (`src.example.org/repo`), where `brownie run` itself cannot import a
script. Bad input: one line on stderr, exit status 2, nothing sent."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from brownie import accounts, network

from channel_manager.ops.envelopes import write_envelope
from tests.scripts.helpers import nonce
from tests.scripts.rehearsal import BROWNIE, PYTHON, dotted_checkout, error_lines, script_env


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dotted_checkout(tmp_path_factory.mktemp("cli"))


def run_script(
    checkout: Path, *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The runner with the developer's own brownie home, where the test networks are."""
    return subprocess.run(
        [
            str(PYTHON),
            str(checkout / "tools" / "run_script.py"),
            *args,
            "--network",
            network.show_active(),
        ],
        cwd=cwd or checkout,
        env={**script_env(Path.home()), **env},
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def test_brownie_run_cannot_import_a_script_under_a_dotted_path(checkout, base_env, deployed):
    """The trap the runner exists for, reproduced: the path brownie sees has the dot."""
    result = subprocess.run(
        [str(BROWNIE), "run", "scripts/hub.py", "status", "--network", network.show_active()],
        cwd=checkout,
        env={**script_env(Path.home()), **base_env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert "ModuleNotFoundError" in result.stdout + result.stderr


@pytest.mark.parametrize(
    "script_args, extra, fragment",
    [
        (["scripts/deploy.py"], {"CM_HUB": "0x" + "0" * 40}, "hub is the zero address"),
        (["scripts/channel.py", "show", "0x12"], {}, "user '0x12' is not an address"),
        (["scripts/hub.py", "withdraw", "1", "2", "3"], {}, "wrong number of arguments"),
        (["scripts/channel.py", "shwo", "0x12"], {}, "has no command 'shwo'"),
        (["scripts/nothing.py"], {}, "no script 'scripts/nothing.py'"),
    ],
    ids=[
        "deploy-zero-hub",
        "channel-bad-user",
        "extra-argument",
        "misspelt-command",
        "no-such-script",
    ],
)
def test_bad_input_exits_2_with_one_line(
    checkout, base_env, deployed, script_args, extra, fragment
):
    before = nonce(accounts[0])
    result = run_script(checkout, *script_args, env={**base_env, **extra})
    assert result.returncode == 2, result.stdout + result.stderr
    lines = error_lines(result)
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], (
        result.stderr
    )
    assert nonce(accounts[0]) == before


def test_dry_run_and_status_from_the_command_line(checkout, base_env, deployed):
    result = run_script(
        checkout, "scripts/deploy.py", env={**base_env, "CM_DRY_RUN": "1", "CM_FORCE": "1"}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dry run: nothing was sent" in result.stdout and "fees" in result.stdout
    result = run_script(checkout, "scripts/hub.py", "status", env=base_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"ChannelManager {deployed['address']}" in result.stdout and "reserve" in result.stdout
    assert "Running '" not in result.stdout  # no brownie run chatter


def test_runs_from_any_folder_with_file_arguments_relative_to_it(
    checkout, base_env, deployed, signed, tmp_path
):
    """Started from another folder, the runner still finds the project (the script path is the
    project's), and a state file named relative to that folder is read from it."""
    from brownie import accounts as accs

    from channel_manager.states import ChannelState

    alice = accs[1]
    write_envelope(
        tmp_path / "newest.json",
        signed(ChannelState(alice.address, alice.address, tx_count=(4, 1))),
    )
    env = {**base_env, "CM_WATCH_DB": str(tmp_path / "tower.sqlite")}
    result = run_script(
        checkout, "scripts/watchtower.py", "add", "newest.json", env=env, cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "kept: channel state of" in result.stdout
