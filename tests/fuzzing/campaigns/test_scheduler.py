"""`--scheduler tcp://127.0.0.1:PORT` runs the campaign on an existing Dask cluster: the test
starts a `dask scheduler` and two single-threaded `dask worker` processes on 127.0.0.1 (free
ports), runs a small v3 campaign on them, and stops them afterwards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.fuzzing.campaigns.support import ROOT, free_port, verdict_line

DASK = ROOT / ".venv" / "bin" / "dask"
READY_TIMEOUT = 60


def start(args: list[str], log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # workers import fuzzing.* from the checkout
    return subprocess.Popen([str(DASK), *args], cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # its own session: the worker and nothing else
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)


@pytest.fixture
def dask_cluster(tmp_path):
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    processes = [start(["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                       tmp_path / "scheduler.log")]
    try:
        for i in range(2):
            processes.append(start(["worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--nworkers", "1",
                                    "--no-nanny", "--no-dashboard", "--name", f"test-worker-{i}"],
                                   tmp_path / f"worker-{i}.log"))
        from distributed import Client

        with Client(address, timeout=READY_TIMEOUT) as client:
            client.wait_for_workers(2, timeout=READY_TIMEOUT)
        yield address
    finally:
        for process in reversed(processes):
            stop(process)


def test_campaign_runs_on_an_existing_scheduler_and_its_two_workers(campaign, dask_cluster, tmp_path):
    out = tmp_path / "report"
    began = time.perf_counter()
    run = campaign("--scheduler", dask_cluster, "--steps", "3000", "--shards", "4", "--seed", "11", "--out", str(out))
    assert run.returncode == 0, run.stdout + run.stderr
    assert verdict_line(run).startswith("PASSED ")
    assert f"on {dask_cluster}" in run.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["campaign"]["cluster"] == f"{dask_cluster}, 2 worker threads"
    assert {w["worker"] for w in report["workers"]} == {"test-worker-0", "test-worker-1"}
    assert report["totals"]["shards_passed"] == 4 and report["totals"]["main_play_steps"] == 3000
    assert time.perf_counter() - began < 120
