"""research/fuzz.py: exit status 0 for a passing campaign, 1 for a property failure (with a
replay command that reproduces it when pasted), 2 with one line for a contract that does not
compile or lacks the ChannelManager ABI."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PYTHON = (
    str(ROOT / ".venv" / "bin" / "python")
    if (ROOT / ".venv" / "bin" / "python").exists()
    else sys.executable
)


def fuzz(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "research/fuzz.py", "--quiet", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_passing_campaign_exits_0_with_the_verdict_line_last():
    run = fuzz("--seed", "3", "--steps", "300")
    assert run.returncode == 0, run.stdout + run.stderr
    last = run.stdout.strip().splitlines()[-1]
    assert last.startswith("PASSED ") and " steps in " in last and "steps/s)" in last
    assert "Dispute paths (hits)" in run.stdout and "Never reached:" in run.stdout
    assert "--seed 3 --steps" in run.stdout


def test_property_failure_exits_1_and_its_replay_command_reproduces_it(pre_v3_path):
    run = fuzz("--contract", str(pre_v3_path), "--seed", "10", "--steps", "3000")
    assert run.returncode == 1, run.stdout + run.stderr
    verdict = run.stdout.strip().splitlines()[-1]
    # With this seed the first pre-v3 bug met is L-1 (a surplus stranded in a reopened channel).
    assert verdict.startswith("FAILED no-stranded-surplus after ") and verdict.endswith("(seed 10)")
    replay = next(
        line.strip()
        for line in run.stdout.splitlines()
        if line.strip().startswith(".venv/bin/python research/fuzz.py")
    )
    argv = shlex.split(replay)
    assert argv[:2] == [".venv/bin/python", "research/fuzz.py"]
    again = subprocess.run(
        [PYTHON, *argv[1:], "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 1
    assert again.stdout.strip().splitlines()[-1].split(" in ")[0] == verdict.split(" in ")[0]


def test_contract_that_does_not_compile_exits_2_with_one_line(tmp_path):
    broken = tmp_path / "Broken.sol"
    broken.write_text(
        "// SPDX-License-Identifier: MIT\npragma solidity 0.8.30;\ncontract Broken { function f( }\n"
    )
    run = fuzz("--contract", str(broken), "--steps", "10")
    assert run.returncode == 2
    assert run.stdout == "" and len(run.stderr.strip().splitlines()) == 1
    assert "does not compile" in run.stderr


def test_contract_without_the_abi_or_file_exits_2_with_one_line(tmp_path):
    run = fuzz("--contract", "contracts/test/TestToken.sol", "--steps", "10")
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1
    assert "lacks the ChannelManager ABI" in run.stderr
    missing = fuzz("--contract", str(tmp_path / "Nope.sol"), "--steps", "10")
    assert missing.returncode == 2 and "no such Solidity file" in missing.stderr
