"""Short campaigns of the fuzzing engine against the rediscovery targets: the properties alone
must fail the pre-v3 contract and a representative mutant of each kind, and must pass the
unmutated contract with the same seed and step budget (so a kill is the mutant's doing).

Step budgets, not time budgets: a campaign with a given seed and `max_steps` plays the same
transactions on any machine. The budgets leave room above the steps each kill took when the
mutants were chosen (docs/fuzzing-rediscovery.md has the full benchmark).
"""

from __future__ import annotations

import sys

import pytest

from fuzzing.artifacts import PROJECT_ROOT
from fuzzing.compile import load_channel_manager
from fuzzing.engine.campaign import run_campaign
from fuzzing.mutants import all_mutants, build_mutant

sys.path.insert(0, str(PROJECT_ROOT / "research"))
from rediscover import PRE_V3, classify

SEED = 1
#: The slowest kill below takes 4,425 steps at seed 1 (v3-h1-binding-dropped: the engine's
#: boundary, token and re-entrancy actions share the steps with the thread attack).
STEPS = 6000
#: One mutant per kind of edit, each killed well inside STEPS at seed 1.
REPRESENTATIVE = (
    "rule-transfer-failed",
    "time-empty-late",
    "asm-channel-hash-offset",
    "unchecked-global-total",
    "pack-token-user-wrong-field",
    "thread-side-swapped",
    "v3-l1-surplus-channel",
    "v3-h1-binding-dropped",
)
BY_ID = {m.id: m for m in all_mutants()}


@pytest.fixture(scope="module")
def v3():
    return load_channel_manager()


def test_the_unmutated_contract_passes_the_short_campaign(v3):
    verdict = run_campaign(v3, seed=SEED, max_steps=STEPS, oracle="properties")
    assert verdict.passed, f"{verdict.failure}: {verdict.detail}"
    assert verdict.steps >= STEPS


@pytest.mark.parametrize("mutant_id", REPRESENTATIVE)
def test_a_representative_mutant_is_killed(mutant_id, v3):
    artifact = build_mutant(BY_ID[mutant_id], v3)
    verdict = run_campaign(artifact, seed=SEED, max_steps=STEPS, oracle="properties")
    assert not verdict.passed, f"{mutant_id} survived {verdict.steps} steps"
    assert verdict.failure and verdict.counterexample


def test_the_representative_mutants_cover_every_hand_written_kind():
    kinds = {BY_ID[i].category for i in REPRESENTATIVE}
    assert kinds == {"rule", "time", "assembly", "unchecked", "packing", "thread", "v3-fix"}


def test_the_pre_v3_contract_fails_a_short_campaign_with_a_known_finding():
    verdict = run_campaign(
        load_channel_manager(PRE_V3), seed=SEED, max_steps=STEPS, oracle="properties"
    )
    assert not verdict.passed
    assert classify(verdict.failure, verdict.detail, verdict.counterexample) in {
        "H-1",
        "M-2",
        "M-1",
        "L-1",
    }
