"""Fuzz a ChannelManager on the in-process revm chain, judged by the protocol's properties.

    .venv/bin/python research/fuzz.py                                  # 60 s on the v3 contract
    .venv/bin/python research/fuzz.py --contract my/Variant.sol --budget-seconds 600 --workers 2
    .venv/bin/python research/fuzz.py --seed 7 --steps 20000 --oracle both

`--contract` takes any Solidity file with the ChannelManager ABI; it is compiled with the
project's own compiler set-up (fuzzing.compile). Progress goes to stderr while the campaign runs;
at the end come the dispute-path and outcome tables, the counterexample of a failure, the
commands that replay the run, and one verdict line:

    FAILED <property or disagreement> after N steps in T s (seed S)      exit status 1
    PASSED N steps in T s (X steps/s)                                    exit status 0

A contract that does not compile or lacks the ABI gets one line on stderr and exit status 2.
See docs/fuzzing-engine.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import shlex
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fuzzing.cli_options import add_contract_oracle_seed  # noqa: E402
from fuzzing.engine.paths import DISPUTE_PATHS  # noqa: E402

DEFAULT_CONTRACT = "contracts/ChannelManager.sol"
DEFAULT_BUDGET = 60.0
PATH_GOAL = 100


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_contract_oracle_seed(
        parser,
        contract_default=DEFAULT_CONTRACT,
        contract_help="Solidity file to fuzz (default: %(default)s)",
        seed_help="campaign seed (default: from the clock)",
    )
    parser.add_argument(
        "--budget-seconds",
        type=float,
        default=None,
        help=f"wall-clock budget per worker (default {DEFAULT_BUDGET:g} s unless --steps is given)",
    )
    parser.add_argument(
        "--steps", type=int, default=None, help="stop after this many transactions per worker"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes, each with its own seed (seed, seed+1, ...)",
    )
    parser.add_argument(
        "--episode",
        type=int,
        default=None,
        help="replay only this episode of the campaign (printed with a failure)",
    )
    parser.add_argument(
        "--hunt",
        action="store_true",
        help="do not stop at the first failure: end its episode, go on, and report the first "
        "failure of every property (time and steps from the start)",
    )
    parser.add_argument(
        "--backend",
        choices=("revm", "anvil"),
        default="revm",
        help="revm: in-process, fast (default); anvil: the same episodes on a private anvil "
        "node, about 10x slower, for fidelity",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    if args.steps is None and args.budget_seconds is None:
        args.budget_seconds = DEFAULT_BUDGET
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.steps is not None and args.steps < 1:
        parser.error("--steps must be at least 1")
    if args.seed is None:
        args.seed = int(time.time()) % 1_000_000
    return args


def deployable(artifact: Any) -> None:
    """Deploy once on a scratch chain: a constructor that reverts is bad input, not a finding."""
    import random

    from fuzzing.chain.base import DeployFailed
    from fuzzing.compile import ContractSourceError
    from fuzzing.engine.world import Config, World

    try:
        World(artifact, Config.draw(random.Random(0)))
    except DeployFailed as exc:
        raise ContractSourceError(
            f"{artifact.name} cannot be deployed as a ChannelManager "
            f"(hub, challengePeriod, token): {exc.result.revert_text() or 'reverted'}"
        ) from None


def shown_path(path: str) -> str:
    """The contract path as the replay command should name it (run from the project root)."""
    resolved = Path(path).expanduser().resolve()
    try:
        return str(resolved.relative_to(ROOT))
    except ValueError:
        return str(resolved)


# ---------------------------------------------------------------------------- workers
def _on_backend(backend: str, play: Any) -> Any:
    """`play(chain_factory)` on the chosen backend (None: the engine's default, revm)."""
    if backend == "revm":
        return play(None)
    from fuzzing.engine.backends import AnvilEpisodes

    with AnvilEpisodes() as factory:
        return play(factory)


def _worker(job: tuple[str, int, float | None, int | None, str, int | None, bool, Any, str]) -> Any:
    path, seed, budget, steps, oracle, episode, hunting, queue, backend = job
    from fuzzing.compile import load_channel_manager
    from fuzzing.engine.campaign import _campaign

    artifact = load_channel_manager(path)

    def report(p: Any) -> None:
        if queue is not None:
            queue.put((seed, p.steps, p.elapsed))

    verdict, findings = _on_backend(
        backend,
        lambda factory: _campaign(
            artifact,
            seed=seed,
            budget_seconds=budget,
            max_steps=steps,
            oracle=oracle,
            progress=report,
            only_episode=episode,
            keep_going=hunting,
            chain_factory=factory,
        ),
    )
    if queue is not None:
        queue.put((seed, verdict.steps, verdict.seconds))
    return verdict, findings


def run(args: argparse.Namespace, started: float) -> list[Any]:
    seeds = [args.seed + i for i in range(args.workers)]
    if args.workers == 1:

        def report(p: Any) -> None:
            if not args.quiet:
                print(
                    f"[progress] {p.elapsed:6.0f} s  {p.steps:9d} steps  {p.steps_per_second:7.0f} steps/s  "
                    f"{p.episodes} episodes",
                    file=sys.stderr,
                    flush=True,
                )

        from fuzzing.compile import load_channel_manager
        from fuzzing.engine.campaign import _campaign

        artifact = load_channel_manager(args.contract)
        return [
            _on_backend(
                args.backend,
                lambda factory: _campaign(
                    artifact,
                    seed=seeds[0],
                    budget_seconds=args.budget_seconds,
                    max_steps=args.steps,
                    oracle=args.oracle,
                    progress=report,
                    only_episode=args.episode,
                    keep_going=args.hunt,
                    chain_factory=factory,
                ),
            )
        ]
    context = multiprocessing.get_context("fork")
    queue = context.Manager().Queue()
    jobs = [
        (
            args.contract,
            s,
            args.budget_seconds,
            args.steps,
            args.oracle,
            args.episode,
            args.hunt,
            queue,
            args.backend,
        )
        for s in seeds
    ]
    progress: dict[int, int] = {}
    results: list[Any] = []
    with context.Pool(args.workers) as pool:
        pending = pool.imap_unordered(_worker, jobs)
        last = 0.0
        while len(results) < len(jobs):
            try:
                result = pending.next(timeout=0.25)
            except multiprocessing.TimeoutError:
                result = None
            while not queue.empty():
                seed, steps, _ = queue.get()
                progress[seed] = steps
            if result is not None:
                results.append(result)
                if not result[0].passed and not args.hunt:
                    pool.terminate()  # the first failure decides; the other workers stop
                    break
            now = time.perf_counter() - started
            if not args.quiet and now - last >= 1.0 and progress:
                last = now
                total = sum(progress.values())
                print(
                    f"[progress] {now:6.0f} s  {total:9d} steps  {total / now:7.0f} steps/s  "
                    f"({args.workers} workers)",
                    file=sys.stderr,
                    flush=True,
                )
    return sorted(results, key=lambda r: r[0].seed)


# ---------------------------------------------------------------------------- report
def merge_counts(verdicts: list[Any]) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    paths: dict[str, int] = {}
    outcomes: dict[str, dict[str, int]] = {}
    for v in verdicts:
        for name, n in v.path_hits.items():
            paths[name] = paths.get(name, 0) + n
        for fn, counts in v.outcomes.items():
            row = outcomes.setdefault(fn, {})
            for outcome, n in counts.items():
                row[outcome] = row.get(outcome, 0) + n
    return paths, outcomes


def print_tables(paths: dict[str, int], outcomes: dict[str, dict[str, int]]) -> None:
    print("\nDispute paths (hits)")
    for name in DISPUTE_PATHS:
        n = paths.get(name, 0)
        mark = "" if n >= PATH_GOAL else f"   < {PATH_GOAL}"
        print(f"  {n:8d}  {name}{mark}")
    details = {k: v for k, v in paths.items() if k not in DISPUTE_PATHS}
    for name, n in sorted(details.items()):
        print(f"  {n:8d}  {name}")
    print("\nOutcomes by function")
    never = [name for name in DISPUTE_PATHS if paths.get(name, 0) == 0]
    for fn in sorted(outcomes):
        row = outcomes[fn]
        cells = ", ".join(
            f"{o} {n}" for o, n in sorted(row.items(), key=lambda kv: (kv[0] != "success", kv[0]))
        )
        print(f"  {fn}: {cells}")
        never += [f"{fn} -> {o}" for o, n in row.items() if n == 0]
    print("\nNever reached: " + (", ".join(never) if never else "nothing"))


def print_findings(args: argparse.Namespace, results: list[Any]) -> None:
    print("\nFirst failure of each property (hunt)")
    for verdict, findings in results:
        if not findings:
            print(f"  seed {verdict.seed}: none in {verdict.steps} steps, {verdict.seconds:.0f} s")
        for f in findings:
            print(
                f"  seed {verdict.seed}: {f.failure} after {f.steps} steps in {f.seconds:.1f} s (episode {f.episode}): "
                f"{f.detail}"
            )


def replay_command(
    args: argparse.Namespace, seed: int, steps: int, episode: int | None = None
) -> str:
    parts = [
        ".venv/bin/python",
        "research/fuzz.py",
        "--contract",
        shown_path(args.contract),
        "--seed",
        str(seed),
        "--steps",
        str(steps),
        "--oracle",
        args.oracle,
    ]
    if args.backend != "revm":
        parts += ["--backend", args.backend]
    if episode is not None:
        parts += ["--episode", str(episode)]
    return " ".join(shlex.quote(p) for p in parts)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from fuzzing.artifacts import ArtifactError
    from fuzzing.compile import ContractSourceError, load_channel_manager

    try:
        artifact = load_channel_manager(args.contract)  # compiled once here; workers read the cache
        deployable(artifact)
    except (ContractSourceError, ArtifactError) as exc:
        print(f"fuzz.py: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    results = run(args, started)
    seconds = time.perf_counter() - started
    verdicts = [verdict for verdict, _ in results]
    if args.hunt:
        print_findings(args, results)
    paths, outcomes = merge_counts(verdicts)
    print_tables(paths, outcomes)
    steps = sum(v.steps for v in verdicts)
    failed = [v for v in verdicts if not v.passed]
    print("\nReplay:")
    for v in verdicts:
        print(f"  {replay_command(args, v.seed, v.replay_steps, args.episode)}")
    if failed:
        v = failed[0]
        print(
            f"\nCounterexample (seed {v.seed}, episode {v.episode}; steps of the parties involved):"
        )
        for line in v.counterexample:
            print(f"  {line}")
        print(f"\n{v.failure}: {v.detail}")
        print(
            f"Replay the failing episode alone: "
            f"{replay_command(args, v.seed, v.episode_steps, v.episode)}"
        )
        print(f"FAILED {v.failure} after {v.steps} steps in {v.seconds:.1f} s (seed {v.seed})")
        return 1
    cpu = sum(v.cpu_seconds for v in verdicts)
    checks = sum(v.property_checks for v in verdicts)
    if cpu > 0:
        print(
            f"\n{checks} steps judged; {cpu:.1f} CPU s in the campaign loop: {steps / cpu:.0f} steps per core-second"
        )
    rate = steps / seconds if seconds > 0 else 0.0
    print(f"PASSED {steps} steps in {seconds:.1f} s ({rate:.0f} steps/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
