"""Saved failures: a failing campaign saves its failures in the store; the next campaign on the
same contract replays them first and stops on one that still fails (no new shards); `--fresh`
ignores the store and fuzzes with the new seed; a saved failure that no longer fails is removed
and the campaign goes on."""

from __future__ import annotations

import json

from fuzzing.replay import ReplaySpec, bytecode_sha256, sha256_file
from tests.fuzzing.campaigns.support import V3_CONTRACT, verdict_line


def test_saved_failure_replays_first_unless_fresh(campaign, pre_v3_contract, store, tmp_path):
    first = campaign("--contract", str(pre_v3_contract), "--steps", "4000", "--workers", "1", "--seed", "20",
                     "--out", str(tmp_path / "first"))
    assert first.returncode == 1, first.stdout + first.stderr
    saved = sorted(store.glob("*.json"))
    assert saved, "the failure was not saved"
    saved_seeds = {json.loads(p.read_text())["seed"] for p in saved}

    again = campaign("--contract", str(pre_v3_contract), "--steps", "4000", "--workers", "1", "--seed", "500",
                     "--out", str(tmp_path / "again"))
    assert again.returncode == 1, again.stdout + again.stderr
    assert "replaying saved failure" in again.stderr and "still fails" in again.stderr
    assert "starting a local Dask cluster" not in again.stderr  # it stopped before fuzzing anything new
    verdict = verdict_line(again)
    assert "(saved failure, seed " in verdict and int(verdict.rsplit("seed ", 1)[1].rstrip(")")) in saved_seeds
    report = json.loads((tmp_path / "again" / "report.json").read_text())
    assert report["saved_failures"] and report["saved_failures"][0]["outcome"] == "still fails"
    assert report["failures"][0]["shard"] is None and report["totals"]["shards_planned"] == 0

    fresh = campaign("--contract", str(pre_v3_contract), "--steps", "4000", "--workers", "1", "--seed", "500",
                     "--fresh", "--out", str(tmp_path / "fresh"))
    assert fresh.returncode == 1, fresh.stdout + fresh.stderr
    assert "saved failure" not in fresh.stderr + fresh.stdout
    verdict = verdict_line(fresh)
    assert "(shard " in verdict and int(verdict.rsplit("seed ", 1)[1].rstrip(")")) in (500, 501)


def test_saved_failure_that_no_longer_fails_is_removed(campaign, store, tmp_path):
    from fuzzing.compile import load_channel_manager

    artifact = load_channel_manager(V3_CONTRACT)
    # a failure "found" on an older version of the contract: on v3 this shard passes
    spec = ReplaySpec(str(V3_CONTRACT), "0" * 16, "0" * 16, "properties", 7, "first", 300, "honest-receiver-safety")
    from fuzzing.replay import FailureStore

    entry = FailureStore(store).save(spec, "seen on an older version")
    assert sha256_file(V3_CONTRACT) != spec.source_sha256 and bytecode_sha256(artifact) != spec.bytecode_sha256
    run = campaign("--steps", "1000", "--workers", "1", "--seed", "3", "--out", str(tmp_path / "out"))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "no longer fails: removed from the store" in run.stderr
    assert not entry.exists()
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["saved_failures"][0]["outcome"].startswith("no longer fails")
    assert report["totals"]["main_play_steps"] == 1000
