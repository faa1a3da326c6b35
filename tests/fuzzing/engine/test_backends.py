"""The fuzzing engine on both chains (fuzzing/engine/backends.py): the same seeded campaign on
the in-process revm chain and on a private anvil node sends the same transactions and gets the
same outcome for every one of them — every function × outcome count, every dispute-path count
and the verdict are equal. This is the short anvil run that vouches for the fast revm runs
(anvil executes EIP-7702 delegation for real; revm emulates it)."""

from __future__ import annotations

import pytest

from fuzzing.engine.backends import AnvilEpisodes
from fuzzing.engine.campaign import run_campaign


@pytest.mark.parametrize("seed", [1, 7])
def test_same_campaign_gives_the_same_outcomes_on_revm_and_anvil(v3_artifact, seed):
    with AnvilEpisodes() as factory:
        on_anvil = run_campaign(v3_artifact, seed=seed, max_steps=1500, chain_factory=factory)
    on_revm = run_campaign(v3_artifact, seed=seed, max_steps=1500)

    assert on_anvil.passed and on_revm.passed, (on_anvil.failure, on_revm.failure)
    assert on_anvil.steps == on_revm.steps >= 1500
    assert on_anvil.outcomes == on_revm.outcomes
    assert on_anvil.path_hits == on_revm.path_hits
    assert sum(on_revm.path_hits.values()) > 0
