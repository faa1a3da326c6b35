"""fuzzing.replay and fuzzing.cluster without a cluster: the blob round-trips and refuses damaged
input, a step budget is split exactly over the shards, a shard runs in this process with its
counts, the shrink keeps a prefix that fails with the same property, and every failure of a
hunting (--keep-going) shard replays from its own blob."""

from __future__ import annotations

import pytest

from fuzzing.cluster import ContractRef, plan_shards, run_shard
from fuzzing.replay import BlobError, ReplaySpec, bytecode_sha256, replay_episode, sha256_file, shrink
from tests.fuzzing.campaigns.support import PRE_V3_CONTRACT, V3_CONTRACT


def test_blob_round_trips_and_refuses_damage():
    spec = ReplaySpec("/a/b.sol", "ab" * 8, "cd" * 8, "both", 42, "hunt", 1234, "solvency", 3, 57)
    blob = spec.to_blob()
    assert ReplaySpec.from_blob(blob) == spec and "=" not in blob and " " not in blob
    for damaged in (blob[:-5], "x" + blob, "%%%"):
        with pytest.raises(BlobError):
            ReplaySpec.from_blob(damaged)


def test_step_budget_is_split_exactly():
    shards = plan_shards([5, 6, 7], oracle="properties", mode="first", total_steps=1000)
    assert [s.max_steps for s in shards] == [334, 333, 333] and [s.seed for s in shards] == [5, 6, 7]
    assert [s.max_steps for s in plan_shards([1, 2, 3], oracle="model", mode="hunt", total_steps=2)] == [1, 1]


def test_a_shard_runs_here_and_its_failure_is_shrunk_and_replayable():
    from fuzzing.compile import load_channel_manager

    artifact = load_channel_manager(PRE_V3_CONTRACT)
    ref = ContractRef(str(PRE_V3_CONTRACT), sha256_file(PRE_V3_CONTRACT), bytecode_sha256(artifact))
    [spec] = plan_shards([10], oracle="properties", mode="first", total_steps=3000)
    result = run_shard(spec, artifact, ref)
    assert result["status"] == "failed" and len(result["failures"]) == 1
    failure = result["failures"][0]
    replay = ReplaySpec.from_blob(failure["blob"])
    assert (replay.seed, replay.property, replay.steps) == (10, failure["property"], result["replay_steps"])
    shrunk = failure["shrunk"]
    assert shrunk is not None and 1 <= shrunk["steps"] <= shrunk["from_steps"]
    alone = replay_episode(artifact, seed=10, oracle="properties", episode=replay.episode, steps=replay.episode_steps)
    assert alone.failure == failure["property"]
    assert result["rules"] and sum(r["calls"] for r in result["rules"].values()) > 0


def test_shrink_gives_up_when_the_episode_alone_does_not_fail():
    from fuzzing.compile import load_channel_manager

    artifact = load_channel_manager(V3_CONTRACT)
    assert shrink(artifact, seed=1, oracle="properties", prop="solvency", episode=0, upper=30) is None


def test_a_hunting_shard_records_each_property_once_and_each_replays():
    from fuzzing.compile import load_channel_manager
    from fuzzing.replay import replay_shard

    artifact = load_channel_manager(PRE_V3_CONTRACT)
    ref = ContractRef(str(PRE_V3_CONTRACT), sha256_file(PRE_V3_CONTRACT), bytecode_sha256(artifact))
    [spec] = plan_shards([9], oracle="properties", mode="hunt", total_steps=1500)
    result = run_shard(spec, artifact, ref)
    properties = [f["property"] for f in result["failures"]]
    assert len(properties) >= 2 and len(set(properties)) == len(properties), properties
    assert result["replay_steps"] == 1500  # a hunt spends its whole budget
    for failure in result["failures"]:
        replay = ReplaySpec.from_blob(failure["blob"])
        assert replay.mode == "hunt"
        again = replay_shard(replay, artifact)
        assert again.reproduces(replay) and again.steps == failure["steps"], failure["property"]
