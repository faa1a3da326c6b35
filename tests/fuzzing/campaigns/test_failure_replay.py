"""A campaign on two Dask workers against the known-bad pre-v3 contract fails, and the one
command it prints for the failure reproduces the same property failure on one machine when pasted
into a fresh shell: `bash -c` with nothing in the environment but PATH and HOME, from another
folder. The shrunk-episode command and the research/fuzz.py equivalent reproduce it too."""

from __future__ import annotations

import json
import shlex
import os
import subprocess

from tests.fuzzing.campaigns.support import command_after, verdict_line

SEED = 20


def fresh_shell(command: str, cwd) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root")}
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_failure_on_two_workers_replays_from_the_printed_command(campaign, pre_v3_contract, tmp_path):
    out = tmp_path / "report"
    run = campaign("--contract", str(pre_v3_contract), "--steps", "20000", "--workers", "2", "--seed", str(SEED),
                   "--out", str(out))
    assert run.returncode == 1, run.stdout + run.stderr
    verdict = verdict_line(run)
    assert verdict.startswith("FAILED ") and verdict.endswith(")"), verdict
    prop = verdict.split()[1]
    steps = verdict.split(" after ")[1].split(" steps")[0]
    seed = verdict.rsplit("seed ", 1)[1].rstrip(")")
    assert "shrinking failure of shard" in run.stderr

    report = json.loads((out / "report.json").read_text())
    root = report["failures"][0]
    assert root["role"] == "first failure" and root["property"] == prop and str(root["seed"]) == seed
    assert len({w["worker"] for w in report["workers"]}) == 2
    assert (out / "time_to_failure.png").stat().st_size > 0
    assert prop in report["time_to_failure"]

    command = command_after("Replay on one machine", run.stdout)
    assert command == root["replay_command"] and " --replay " in command
    assert shlex.split(command)[0].startswith("/")  # absolute, quoted when the path has spaces
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    again = fresh_shell(command, elsewhere)
    assert again.returncode == 1, again.stdout + again.stderr
    assert verdict_line(again).startswith(f"FAILED {prop} after {steps} steps in ")
    assert verdict_line(again).endswith(f"(seed {seed})")
    assert "Root cause: " + prop in again.stdout

    episode = fresh_shell(command_after("The shrunk episode alone", run.stdout), elsewhere)
    assert episode.returncode == 1 and verdict_line(episode).startswith(f"FAILED {prop} after ")

    fuzz = fresh_shell(command_after("The same with research/fuzz.py", run.stdout), elsewhere)
    assert fuzz.returncode == 1, fuzz.stdout + fuzz.stderr
    assert verdict_line(fuzz).startswith(f"FAILED {prop} after {steps} steps in ")
