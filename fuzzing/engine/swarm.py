"""Swarm selection: each episode enables a random subset of the action kinds, with random
weights, so that rare combinations (and the paths only they reach) get whole episodes to
themselves instead of being diluted by everything else."""

from __future__ import annotations

import random

from fuzzing.engine.malformed import Malformed


class Actors(Malformed):
    """Every actor of the engine: honest parties, adversaries, malformed inputs."""


#: Every action kind with its base weight, in feature bundles: a swarm enables whole bundles
#: (so that the actions one attack needs tend to come together) and drops single actions.
BUNDLES: dict[str, dict[str, float]] = {
    "channels": {"deposit": 3, "collateral": 2, "withdraw": 1.5, "execute": 1, "pay": 3},
    "disputes": {"exit": 1.5, "answer_now": 1, "concede": 0.7, "empty_channel": 2, "tick": 2},
    "threads": {
        "open_thread": 3,
        "thread_pay": 3,
        "close_thread": 0.7,
        "thread_start": 2,
        "empty_thread": 2.5,
        "nuke": 1,
        "challenge_now": 0.5,
    },
    "stale": {"exit_stale": 1.5, "cheater_answer": 0.7},
    "puppets": {"puppet_update": 2, "puppet_exit": 2, "puppet_answer": 1, "replay_pending": 0.5},
    "forgery": {"forge_initial": 1.5, "adv_thread_start": 2, "adv_thread_challenge": 1.5},
    "delegation": {"delegate": 0.3},
    "token": {"token_mischief": 0.5},
    "malformed": {"malformed": 1},
    "money": {"reserve": 0.5, "claim": 0.5},
}
ACTIONS: dict[str, float] = {name: w for bundle in BUNDLES.values() for name, w in bundle.items()}
#: Always enabled: without them no dispute would ever start or end.
CORE = frozenset({"deposit", "exit", "empty_channel", "tick", "empty_thread", "nuke"})

for _name in ACTIONS:
    assert hasattr(Actors, f"act_{_name}"), _name


def draw_swarm(rng: random.Random) -> dict[str, float]:
    """The enabled action kinds of one episode and their weights."""
    chosen = {}
    for bundle in BUNDLES.values():
        on = rng.random() < 0.7
        for name, weight in bundle.items():
            if name in CORE or (on and rng.random() < 0.85):
                chosen[name] = weight * rng.choice((0.5, 1, 1, 2))
    return chosen
