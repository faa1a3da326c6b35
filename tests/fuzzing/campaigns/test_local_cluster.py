"""A small campaign end to end on a two-worker LocalCluster: the v3 contract passes, the report
(Markdown, JSON, PNGs, shards.json) is written, and its totals are counted consistently: the sum
over shards, equal to the calls counted by outcome and to the steps the oracle judged."""

from __future__ import annotations

import json

from tests.fuzzing.campaigns.support import verdict_line
from fuzzing.engine.paths import DISPUTE_PATHS, EXPECTED_OUTCOMES

STEPS = 4000


def test_two_worker_campaign_on_v3_passes_and_writes_a_consistent_report(campaign, tmp_path):
    out = tmp_path / "report"
    run = campaign("--steps", str(STEPS), "--workers", "2", "--shards", "4", "--seed", "3", "--out", str(out))
    assert run.returncode == 0, run.stdout + run.stderr
    verdict = verdict_line(run)
    assert verdict.startswith("PASSED ") and verdict.endswith("steps/s)")
    assert "[campaign]" in run.stderr and "steps/s  ETA" in run.stderr and "shards" in run.stderr

    for name in ("report.md", "report.json", "shards.json", "paths_over_time.png", "outcomes.png",
                 "steps_per_worker.png"):
        assert (out / name).stat().st_size > 0, name
    assert not (out / "time_to_failure.png").exists()
    report = json.loads((out / "report.json").read_text())
    totals, shards = report["totals"], report["shards"]

    assert report["passed"] and report["failures"] == [] and report["verdict"] == verdict
    assert totals["shards_planned"] == totals["shards_run"] == totals["shards_passed"] == len(shards) == 4
    assert [s["seed"] for s in shards] == [3, 4, 5, 6]
    assert totals["main_play_steps"] == sum(s["replay_steps"] for s in shards) == STEPS
    assert totals["steps"] == sum(s["steps"] for s in shards) >= STEPS
    assert verdict.startswith(f"PASSED {totals['steps']} steps in ")
    # every step is one call with one outcome, judged once by the properties
    assert totals["calls_by_outcome"] == sum(sum(c.values()) for c in report["outcomes"].values()) == totals["steps"]
    assert totals["property_checks"] == totals["steps"]
    assert totals["episodes"] == sum(s["episodes"] for s in shards) >= 4
    assert sum(w["steps"] for w in report["workers"]) == totals["steps"]
    assert len(report["workers"]) == 2, report["workers"]  # both worker processes ran shards

    # zeros are shown, and whatever stayed at zero is listed as never reached
    assert list(report["paths"]) == list(DISPUTE_PATHS)
    for fn, errors in EXPECTED_OUTCOMES.items():
        assert set(errors) | {"success"} <= set(report["outcomes"][fn]), fn
    zeros = [f"{fn} -> {o}" for fn, c in report["outcomes"].items() for o, n in c.items() if n == 0]
    assert set(zeros) <= set(report["never_reached"])
    rules = report["rules"]
    in_actions = sum(r["transactions"] for r in rules.values())  # the end-of-episode drive is outside them
    assert rules and totals["main_play_steps"] <= in_actions <= totals["steps"]
    assert report["steps_outside_actions"] == totals["steps"] - in_actions
    assert all(r["early_returns"] <= r["calls"] for r in rules.values())
    assert report["timeline"] and report["timeline"][-1]["steps"] == totals["steps"]

    markdown = (out / "report.md").read_text()
    for heading in ("## Totals", "## Workers", "## Dispute paths", "## Actions", "## Outcomes by function",
                    "## Refused calls", "## Never reached", "## Failures", "## Shards"):
        assert heading in markdown, heading
    assert f"| {totals['steps']:,} |" in markdown
