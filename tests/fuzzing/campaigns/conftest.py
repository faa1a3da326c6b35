"""Fixtures of the sharded-campaign tests (research/campaign.py, fuzzing/cluster.py,
docs/fuzzing-campaigns.md). These tests need no chain: the autouse `isolation` fixture of
tests/conftest.py is replaced here by one that does nothing, so no snapshot is taken or reverted.

- `campaign(*args, cwd=...)`: runs research/campaign.py in a subprocess (its own Dask cluster),
  with a private saved-failure store, and returns the CompletedProcess.
- `pre_v3_contract`: the known-bad pre-v3 target fuzz_targets/pre_v3_0e20cbd.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.fuzzing.campaigns.support import PRE_V3_CONTRACT, PYTHON, ROOT, SCRIPT, TIMEOUT


@pytest.fixture(autouse=True)
def isolation():
    """No chain snapshot: nothing here touches the brownie network."""


@pytest.fixture
def store(tmp_path) -> Path:
    return tmp_path / "saved-failures"


@pytest.fixture
def campaign(store):
    def run(*args: str, cwd: Path = ROOT, with_store: bool = True) -> subprocess.CompletedProcess:
        extra = ["--store", str(store)] if with_store else []
        return subprocess.run([PYTHON, SCRIPT, "--progress-seconds", "1", *extra, *args], cwd=cwd,
                              capture_output=True, text=True, timeout=TIMEOUT)

    return run


@pytest.fixture(scope="session")
def pre_v3_contract() -> Path:
    assert PRE_V3_CONTRACT.is_file(), f"{PRE_V3_CONTRACT} is missing (the known-bad fuzz target)"
    return PRE_V3_CONTRACT
