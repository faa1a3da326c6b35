"""The default run's adversarial stateful campaign on revm (issue 12): the brownie machine in
tests/stateful stays as the short chain-backed fidelity run, and this one goes deep in the same
minutes. Fixed seed and step budget, so it is the same run on every machine: 40,000 steps judged
by the protocol properties and, step by step, by the reference model (`oracle="both"`), with
every dispute path reached."""

from __future__ import annotations

from fuzzing.engine.campaign import run_campaign
from fuzzing.engine.paths import DISPUTE_PATHS

SEED = 20261207
STEPS = 40_000


def test_deep_default_campaign_on_v3_passes_both_oracles_and_reaches_every_dispute_path(
    v3_artifact,
):
    verdict = run_campaign(v3_artifact, seed=SEED, max_steps=STEPS, oracle="both")
    assert verdict.passed, f"{verdict.failure}: {verdict.detail}\n" + "\n".join(
        verdict.counterexample
    )
    assert verdict.steps >= STEPS and verdict.property_checks >= STEPS
    unreached = [path for path in DISPUTE_PATHS if verdict.path_hits.get(path, 0) == 0]
    assert not unreached, unreached
