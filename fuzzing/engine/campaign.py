"""The campaign runner: episodes of seeded steps on the in-process revm chain, judged by the
property oracle (and, optionally, the reference model) after every step.

A campaign with seed S is a sequence of episodes. Each episode's shape (challenge period, reserve,
parties, swarm of enabled actions, length, its own random seed) is drawn from `Random(S)`, and
everything inside it from the episode's own seed, so episode E can be replayed alone. Runs are
deterministic: the same seed and step count replay the same transactions, whatever the machine's
speed. `run_campaign` is the entry point; `research/fuzz.py` is its command line.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from fuzzing.artifacts import Artifact
from fuzzing.engine.episode import Episode, StepLimit
from fuzzing.engine.paths import PathCounter
from fuzzing.engine.properties import PropertyFailure
from fuzzing.engine.swarm import Actors, draw_swarm
from fuzzing.engine.world import Config

ORACLES = ("properties", "model", "both")
EPISODE_LENGTHS = (60, 150, 400, 1000)
IDLE_LIMIT = 50  # consecutive actions that did nothing before time is moved on
PROGRESS_EVERY = 1.0  # seconds between progress reports
DEFAULT_BUDGET_SECONDS = 60.0


@dataclass
class Verdict:
    passed: bool
    steps: int
    seconds: float
    seed: int
    failure: str | None
    detail: str
    counterexample: list[str]
    path_hits: dict[str, int]
    outcomes: dict[str, dict[str, int]]
    #: `--steps` that replays this run from its start (the last episode's finale comes after).
    replay_steps: int = 0
    #: the failing episode (replay it alone with `--episode`) and its step count to the failure.
    episode: int | None = None
    episode_steps: int = 0
    episodes: int = 0
    property_checks: int = 0
    never_reached: list[str] = field(default_factory=list)
    #: CPU time of this process: steps / cpu_seconds is the rate per core, whatever the load.
    cpu_seconds: float = 0.0


class Progress(NamedTuple):
    elapsed: float
    steps: int
    steps_per_second: float
    episodes: int


class EpisodePlan(NamedTuple):
    index: int
    config: Config
    swarm: dict[str, float]
    length: int
    seed: int


def plans(seed: int) -> Any:
    """The campaign's episodes, drawn in order from `Random(seed)`."""
    rng = random.Random(seed)
    index = 0
    while True:
        config = Config.draw(rng)
        swarm = draw_swarm(rng)
        yield EpisodePlan(index, config, swarm, rng.choice(EPISODE_LENGTHS), rng.getrandbits(64))
        index += 1


def default_artifact() -> Artifact:
    from fuzzing.compile import load_channel_manager

    return load_channel_manager()


def _differential(oracle: str) -> Any:
    if oracle == "properties":
        return None
    from fuzzing.engine.differential import ModelDifferential

    return ModelDifferential.factory(check_properties=oracle == "both")


class _Run:
    """One episode: steps until its length or the campaign's budget, then the finale."""

    def __init__(
        self,
        artifact: Artifact,
        plan: EpisodePlan,
        paths: PathCounter,
        step_limit: int,
        oracle: str,
        check_rules: bool,
        chain_factory: Callable[[], Any] | None = None,
    ) -> None:
        self.plan = plan
        self.trace: list[str] = [
            f"episode {plan.index}: period {plan.config.challenge_period} s, reserve "
            f"({plan.config.reserve_wei}, {plan.config.reserve_token}), parties "
            f"{plan.config.honest} honest / {plan.config.cheaters} cheaters / "
            f"{plan.config.puppets} puppets, actions {sorted(plan.swarm)}"
        ]
        self.ep = Episode(
            artifact,
            plan.config,
            random.Random(plan.seed),
            paths,
            self.trace,
            step_limit=step_limit,
            check_rules=check_rules,
            differential=_differential(oracle),
            chain=chain_factory() if chain_factory is not None else None,
        )
        if oracle == "model":
            self.ep.oracle.enabled = False
        self.actors = Actors(self.ep)
        self.main_steps: int | None = None

    def play(self, stop: Callable[[], bool]) -> None:
        ep, actors = self.ep, self.actors
        names = list(self.plan.swarm)
        weights = [self.plan.swarm[n] for n in names]
        actions = [getattr(actors, f"act_{n}") for n in names]
        rng = ep.rng
        idle = 0
        try:
            while ep.steps < ep.step_limit and not stop():
                actors.expire_proposals()
                before = ep.steps
                act = rng.choices(actions, weights)[0]
                act()
                if ep.steps == before:
                    idle += 1
                    if idle > IDLE_LIMIT:
                        actors.act_tick()
                        idle = 0
                else:
                    idle = 0
        except StepLimit:
            pass
        self.main_steps = ep.steps

    def finale(self) -> None:
        ep, actors = self.ep, self.actors
        ep.step_limit = ep.steps + 200
        try:
            for _ in range(20):
                if not actors.act_finale_exits():
                    break
        except StepLimit:
            pass
        ep.drive_to_end()


def run_campaign(
    artifact: Artifact | None = None,
    *,
    seed: int,
    budget_seconds: float | None = None,
    max_steps: int | None = None,
    oracle: str = "properties",
    progress: Callable[[Progress], Any] | None = None,
    chain_factory: Callable[[], Any] | None = None,
) -> Verdict:
    """Run episodes until `budget_seconds` or `max_steps` (neither given: 60 s) or the first
    failure. `artifact`: the ChannelManager to test (None: contracts/ChannelManager.sol).
    `oracle`: "properties" (docs/protocol.md §10), "model" (differential against
    channel_manager.model), or "both". `progress`, if given, is called about once a second with
    a `Progress(elapsed, steps, steps_per_second, episodes)`. `chain_factory`, if given, returns
    the fresh chain each episode runs on (default: a new in-process `RevmChain`;
    `fuzzing.engine.backends.AnvilEpisodes` runs the same campaign on anvil)."""
    verdict, _ = _campaign(
        artifact,
        seed=seed,
        budget_seconds=budget_seconds,
        max_steps=max_steps,
        oracle=oracle,
        progress=progress,
        chain_factory=chain_factory,
    )
    return verdict


@dataclass
class Finding:
    """The first failure of one property in a hunt."""

    failure: str
    detail: str
    seconds: float
    steps: int
    episode: int
    counterexample: list[str]


def hunt(
    artifact: Artifact | None = None,
    *,
    seed: int,
    budget_seconds: float | None = None,
    max_steps: int | None = None,
    oracle: str = "properties",
    want: set[str] | None = None,
    progress: Callable[[Progress], Any] | None = None,
) -> tuple[Verdict, list[Finding]]:
    """Like run_campaign, but a failure ends only its episode: the hunt goes on and records the
    first failure of every property (time and steps from the start), until the budget is spent
    or every property in `want` has failed. For measuring how fast known bugs are found when
    other bugs are found first."""
    return _campaign(
        artifact,
        seed=seed,
        budget_seconds=budget_seconds,
        max_steps=max_steps,
        oracle=oracle,
        progress=progress,
        keep_going=True,
        want=want,
    )


def _campaign(
    artifact: Artifact | None,
    *,
    seed: int,
    budget_seconds: float | None,
    max_steps: int | None,
    oracle: str,
    progress: Callable[[Progress], Any] | None,
    only_episode: int | None = None,
    check_rules: bool = False,
    keep_going: bool = False,
    want: set[str] | None = None,
    chain_factory: Callable[[], Any] | None = None,
) -> tuple[Verdict, list[Finding]]:
    if oracle not in ORACLES:
        raise ValueError(f"oracle must be one of {', '.join(ORACLES)}, got {oracle!r}")
    if budget_seconds is None and max_steps is None:
        budget_seconds = DEFAULT_BUDGET_SECONDS
    artifact = artifact if artifact is not None else default_artifact()
    started = time.perf_counter()
    cpu_started = time.process_time()
    deadline = started + budget_seconds if budget_seconds is not None else None
    limit = max_steps if max_steps is not None else 2**62
    paths = PathCounter()
    steps = main_steps = checks = 0
    episodes = 0
    last_report = started
    findings: list[Finding] = []
    run: _Run | None = None

    def stop() -> bool:
        nonlocal last_report
        now = time.perf_counter()
        if progress is not None and now - last_report >= PROGRESS_EVERY:
            last_report = now
            done = steps + (run.ep.steps if run is not None else 0)
            progress(Progress(now - started, done, done / max(now - started, 1e-9), episodes))
        return deadline is not None and now >= deadline

    for plan in plans(seed):
        if only_episode is not None and plan.index != only_episode:
            if plan.index > only_episode:
                break
            continue
        if main_steps >= limit or (deadline is not None and time.perf_counter() >= deadline):
            break
        failure: PropertyFailure | None = None
        run = None
        try:
            run = _Run(
                artifact,
                plan,
                paths,
                min(plan.length, limit - main_steps),
                oracle,
                check_rules,
                chain_factory,
            )
            run.play(stop)
            run.finale()
        except PropertyFailure as exc:
            failure = exc  # (run is None: the contract could not even be read after deployment)
        if run is not None:
            main_steps += run.ep.steps if run.main_steps is None else run.main_steps
            steps += run.ep.steps
            checks += run.ep.oracle.checks
        episodes += 1
        if failure is not None:
            if not keep_going:
                verdict = _verdict(
                    False, steps, started, seed, paths, failure, run, main_steps, episodes, checks
                )
                verdict.cpu_seconds = time.process_time() - cpu_started
                return verdict, findings
            if all(f.failure != failure.name for f in findings):
                findings.append(
                    Finding(
                        failure.name,
                        failure.detail,
                        time.perf_counter() - started,
                        steps,
                        plan.index,
                        slice_trace(run.trace, failure) if run else [],
                    )
                )
            if want is not None and want <= {f.failure for f in findings}:
                break
        if only_episode is not None:
            break
    first = findings[0] if findings else None
    verdict = _verdict(
        first is None, steps, started, seed, paths, None, None, main_steps, episodes, checks
    )
    if first is not None:
        verdict.failure, verdict.detail, verdict.counterexample = (
            first.failure,
            first.detail,
            first.counterexample,
        )
        verdict.episode = first.episode
    verdict.cpu_seconds = time.process_time() - cpu_started
    return verdict, findings


def _verdict(
    passed: bool,
    steps: int,
    started: float,
    seed: int,
    paths: PathCounter,
    failure: PropertyFailure | None,
    run: _Run | None,
    main_steps: int,
    episodes: int,
    checks: int,
) -> Verdict:
    path_hits, outcomes = paths.as_dicts()
    counterexample: list[str] = []
    episode = None
    episode_steps = 0
    if failure is not None and run is not None:
        counterexample = slice_trace(run.trace, failure)
        episode = run.plan.index
        episode_steps = run.ep.steps if run.main_steps is None else run.main_steps
    return Verdict(
        passed=passed,
        steps=steps,
        seconds=time.perf_counter() - started,
        seed=seed,
        failure=failure.name if failure else None,
        detail=failure.detail if failure else "",
        counterexample=counterexample,
        path_hits=path_hits,
        outcomes=outcomes,
        replay_steps=main_steps,
        episode=episode,
        episode_steps=episode_steps,
        episodes=episodes,
        property_checks=checks,
        never_reached=paths.never_reached(),
    )


def slice_trace(trace: list[str], failure: PropertyFailure, keep_tail: int = 3) -> list[str]:
    """The steps that name a party of the failure (the cheap shrink: a failure involves a few
    channels and threads; everything else in the episode is noise). The episode header and the
    last few steps are always kept."""
    words = set()
    last = trace[-1] if trace else ""
    for token in (
        (failure.detail + " " + last)
        .replace("->", " ")
        .replace("'s", " ")
        .replace("#", " ")
        .split()
    ):
        token = token.strip(",.:;()")
        if len(token) >= 2 and token[0] in "HCP" and token[1:].isdigit():
            words.add(token)
    kept = [trace[0]] if trace else []
    omitted = 0
    body = trace[1:]
    for i, line in enumerate(body):
        relevant = any(
            w in line.replace("->", " ").replace("'s", " ").replace("#", " ").split()
            or f" {w} " in f" {line} "
            or f"{w}." in line
            or f"{w}'" in line
            or f"{w}-" in line
            or f">{w}" in line
            for w in words
        )
        if relevant or i >= len(body) - keep_tail or not words:
            if omitted:
                kept.append(f"... ({omitted} steps not involving {', '.join(sorted(words))})")
                omitted = 0
            kept.append(line)
        else:
            omitted += 1
    return kept
