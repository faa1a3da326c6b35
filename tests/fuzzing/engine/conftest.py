"""Fixtures of the fuzzing-engine tests (fuzzing/engine/, docs/fuzzing-engine.md).

- `v3_artifact`: contracts/ChannelManager.sol compiled by fuzzing.compile (cached in build/).
- `pre_v3_artifact`: the pre-v3 contract of commit 0e20cbd (fuzz_targets/pre_v3_0e20cbd/), the
  one the audit exploited; extracted from git into a temporary folder if that target is missing.
- `scripted(artifact)`: an engine Episode to play calls by hand, judged by the property oracle.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from fuzzing.compile import load_channel_manager
from fuzzing.engine.episode import Episode
from fuzzing.engine.paths import PathCounter
from fuzzing.engine.world import Config

ROOT = Path(__file__).resolve().parents[3]
PRE_V3 = ROOT / "fuzz_targets" / "pre_v3_0e20cbd" / "contracts" / "ChannelManager.sol"
PRE_V3_COMMIT = "0e20cbd"


@pytest.fixture(scope="session")
def v3_artifact():
    return load_channel_manager(ROOT / "contracts" / "ChannelManager.sol")


@pytest.fixture(scope="session")
def pre_v3_path(tmp_path_factory) -> Path:
    if PRE_V3.is_file():
        return PRE_V3
    folder = tmp_path_factory.mktemp("pre_v3")
    for source in ("contracts/ChannelManager.sol", "interfaces/IChannelManager.sol"):
        target = folder / source
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(
            subprocess.run(
                ["git", "show", f"{PRE_V3_COMMIT}:{source}"],
                cwd=ROOT,
                capture_output=True,
                check=True,
            ).stdout
        )
    return folder / "contracts" / "ChannelManager.sol"


@pytest.fixture(scope="session")
def pre_v3_artifact(pre_v3_path):
    return load_channel_manager(pre_v3_path)


@pytest.fixture
def scripted():
    def make(
        artifact, *, period: int = 10, reserve_wei: int = 10**22, reserve_token: int = 10**22
    ) -> Episode:
        config = Config(
            challenge_period=period,
            reserve_wei=reserve_wei,
            reserve_token=reserve_token,
            honest=2,
            cheaters=1,
            puppets=2,
        )
        return Episode(
            artifact,
            config,
            random.Random(0),
            PathCounter(),
            [],
            step_limit=10**6,
            check_rules=True,
        )

    return make
