"""A sharded fuzzing campaign on Dask: seeds run as shards of the fuzzing engine, one report.

    .venv/bin/python research/campaign.py --steps 1000000                     # every local core
    .venv/bin/python research/campaign.py --budget-seconds 600 --workers 2
    .venv/bin/python research/campaign.py --scheduler tcp://10.0.0.5:8786 --steps 10000000
    .venv/bin/python research/campaign.py --contract path/Variant.sol --keep-going --budget-seconds 900
    .venv/bin/python research/campaign.py --replay BLOB                       # one failing shard, here

A shard is one campaign of fuzzing/engine (its seed, oracle and budget) run as a task on a Dask
`LocalCluster` of single-threaded worker processes (default: one per local core), or on an
existing cluster with `--scheduler`. Saved failures of earlier campaigns on the same contract and
oracle are replayed first (`--fresh` skips them). Progress goes to stderr; at the end come the
summary, each failure with its counterexample and the ONE command that replays it on one machine
from any folder, and one verdict line:

    FAILED <property> after N steps in T s (shard K, seed S)      exit status 1
    PASSED N steps in T s (X steps/s)                              exit status 0

Bad input (a contract that does not compile or lacks the ABI, a damaged blob, an unreachable
scheduler) gets one line on stderr and exit status 2. The report (report.md, report.json and
PNGs) goes to --out. See docs/fuzzing-campaigns.md.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fuzzing.cli_options import add_contract_oracle_seed  # noqa: E402

DEFAULT_CONTRACT = ROOT / "contracts" / "ChannelManager.sol"
DEFAULT_STORE = ROOT / "campaigns" / "saved-failures"
STEPS_PER_SHARD = (
    25_000  # default shard size of a step budget: a few minutes' work on a loaded core
)
SHARDS_PER_WORKER = 4  # default shards per worker of a time budget (coverage over time, balance)
PYTHON = ROOT / ".venv" / "bin" / "python"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_contract_oracle_seed(
        parser,
        contract_default=str(DEFAULT_CONTRACT),
        contract_help="Solidity file with the ChannelManager ABI (default: the v3 contract)",
        seed_help="base seed: shards take seed, seed+1, ... (default: from the clock)",
    )
    parser.add_argument(
        "--seeds",
        default=None,
        help="explicit shard seeds, comma separated (overrides --seed/--shards)",
    )
    parser.add_argument(
        "--shards",
        type=int,
        default=None,
        help=f"number of shards (default: steps/{STEPS_PER_SHARD:,} for a step budget, "
        f"{SHARDS_PER_WORKER} per worker for a time budget; at least one per worker)",
    )
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument(
        "--steps", type=int, default=None, help="total main-play steps, split over the shards"
    )
    budget.add_argument(
        "--budget-seconds",
        type=float,
        default=None,
        help="wall-clock budget of the whole campaign (default 60 s)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="local worker processes (default: every local core); ignored with --scheduler",
    )
    parser.add_argument(
        "--scheduler", default=None, help="run on an existing Dask cluster: tcp://HOST:PORT"
    )
    parser.add_argument(
        "--connect-timeout",
        type=float,
        default=20.0,
        help="seconds to wait for the scheduler and its first worker (default %(default)g)",
    )
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="a failure ends only its episode; every shard runs to its budget and the report "
        "gives the first failure of every property",
    )
    parser.add_argument(
        "--out", default=None, help="report folder (default: campaigns/<timestamp> in the project)"
    )
    parser.add_argument(
        "--store", default=str(DEFAULT_STORE), help="saved-failure store (default: %(default)s)"
    )
    parser.add_argument("--fresh", action="store_true", help="do not replay saved failures first")
    parser.add_argument(
        "--replay",
        metavar="BLOB",
        default=None,
        help="replay one failing shard on this machine (no Dask) and exit",
    )
    parser.add_argument(
        "--episode-only",
        action="store_true",
        help="with --replay: replay only the shrunk failing episode",
    )
    parser.add_argument(
        "--progress-seconds", type=float, default=5.0, help="seconds between progress lines"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    if args.steps is not None and args.steps < 1:
        parser.error("--steps must be at least 1")
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.shards is not None and args.shards < 1:
        parser.error("--shards must be at least 1")
    if args.steps is None and args.budget_seconds is None:
        args.budget_seconds = 60.0
    if args.seeds is not None:
        try:
            args.seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
        except ValueError:
            parser.error("--seeds takes integers separated by commas")
        if not args.seeds:
            parser.error("--seeds is empty")
    if args.seed is None:
        args.seed = int(time.time()) % 1_000_000
    return args


def local_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def fail_input(message: str) -> int:
    print(f"campaign.py: {message}", file=sys.stderr)
    return 2


def say(args: argparse.Namespace, message: str) -> None:
    if not args.quiet:
        print(f"[campaign] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- commands
def python_path() -> str:
    return str(PYTHON if PYTHON.exists() else Path(sys.executable).resolve())


def replay_command(blob: str, episode_only: bool = False) -> str:
    parts = [python_path(), str(ROOT / "research" / "campaign.py"), "--replay", blob]
    return shlex.join(parts + (["--episode-only"] if episode_only else []))


def fuzz_command(spec: Any, episode: bool = False) -> str:
    parts = [
        python_path(),
        str(ROOT / "research" / "fuzz.py"),
        "--contract",
        spec.contract,
        "--seed",
        str(spec.seed),
    ]
    if episode:
        parts += [
            "--steps",
            str(spec.episode_steps),
            "--oracle",
            spec.oracle,
            "--episode",
            str(spec.episode),
        ]
    else:
        parts += ["--steps", str(spec.steps), "--oracle", spec.oracle] + (
            ["--hunt"] if spec.mode == "hunt" else []
        )
    return shlex.join(parts)


def add_commands(failure: dict[str, Any]) -> dict[str, Any]:
    from fuzzing.replay import ReplaySpec

    spec = ReplaySpec(**failure["spec"])
    failure["replay_command"] = replay_command(failure["blob"])
    failure["fuzz_command"] = fuzz_command(spec)
    if spec.episode_steps is not None:
        failure["episode_command"] = replay_command(failure["blob"], episode_only=True)
        failure["fuzz_episode_command"] = fuzz_command(spec, episode=True)
    return failure


# ---------------------------------------------------------------------------- replay
def replay_main(args: argparse.Namespace) -> int:
    from fuzzing.artifacts import ArtifactError
    from fuzzing.compile import ContractSourceError, load_channel_manager
    from fuzzing.replay import (
        BlobError,
        ReplaySpec,
        bytecode_sha256,
        replay_failure,
        sha256_file,
    )

    try:
        spec = ReplaySpec.from_blob(args.replay)
    except BlobError as exc:
        return fail_input(str(exc))
    if args.episode_only and spec.episode_steps is None:
        return fail_input(
            "this failure was not shrunk to one episode; replay it without --episode-only"
        )
    try:
        artifact = load_channel_manager(spec.contract)
    except (ContractSourceError, ArtifactError) as exc:
        return fail_input(str(exc))
    if (
        sha256_file(spec.contract) != spec.source_sha256
        or bytecode_sha256(artifact) != spec.bytecode_sha256
    ):
        print(
            f"campaign.py: note: {spec.contract} changed since this failure was found; replaying the current file",
            file=sys.stderr,
        )
    what = (
        f"episode {spec.episode} of seed {spec.seed}, {spec.episode_steps} steps"
        if args.episode_only
        else f"shard seed {spec.seed}, {spec.steps} steps, mode {spec.mode}"
    )
    say(
        args,
        f"replaying {what}, oracle {spec.oracle}, on this machine; the failure was {spec.property}",
    )

    def progress(p: Any) -> None:
        say(args, f"{p.elapsed:6.0f} s  {p.steps:9,d} steps  {p.steps_per_second:6,.0f} steps/s")

    try:
        result = replay_failure(spec, artifact, episode_only=args.episode_only, progress=progress)
    except Exception as exc:  # an engine error replays as the failure it was
        import traceback

        traceback.print_exc()
        failure = f"engine-error:{type(exc).__name__}"
        print(f"FAILED {failure} (seed {spec.seed})")
        return 1
    if result.failure is None:
        print(f"\nDid not reproduce: {spec.property} no longer fails in this run.")
        rate = result.steps / result.seconds if result.seconds > 0 else 0.0
        print(f"PASSED {result.steps} steps in {result.seconds:.1f} s ({rate:.0f} steps/s)")
        return 0
    print()
    from fuzzing.campaign_report import counterexample_lines

    record = {
        "property": result.failure,
        "detail": result.detail,
        "counterexample": result.counterexample,
    }
    print("\n".join(counterexample_lines(record)))
    if result.failure != spec.property:
        print(f"\nNote: a different failure than the blob's ({spec.property}).")
    print(
        f"FAILED {result.failure} after {result.steps} steps in {result.seconds:.1f} s (seed {spec.seed})"
    )
    return 1


# ---------------------------------------------------------------------------- saved failures
def replay_saved(args: argparse.Namespace, artifact: Any) -> tuple[list[dict], list[dict]]:
    """Replay saved failures of this contract and oracle; returns (what was replayed, the
    failure records of those that still fail)."""
    from fuzzing.replay import FailureStore, ReplayResult, replay_failure

    store = FailureStore(args.store)
    replayed, still = [], []
    for entry in store.matching(args.contract, args.oracle):
        spec = entry.spec
        say(
            args,
            f"replaying saved failure {spec.property} (seed {spec.seed}, found {entry.found_at}) "
            f"from {entry.path}",
        )
        began = time.perf_counter()
        try:
            result = replay_failure(spec, artifact, episode_only=spec.episode_steps is not None)
        except (
            Exception
        ) as exc:  # the engine crashed: that is what an engine-error failure replays as
            result = ReplayResult(
                f"engine-error:{type(exc).__name__}",
                str(exc),
                0,
                time.perf_counter() - began,
                spec.episode,
                0,
            )
        row = {
            "property": spec.property,
            "seed": spec.seed,
            "found_at": entry.found_at,
            "blob": entry.blob,
            "file": str(entry.path),
        }
        if result.reproduces(spec):
            row["outcome"] = "still fails"
            still.append(
                add_commands(
                    saved_failure_record(spec, entry.blob, result, time.perf_counter() - began)
                )
            )
        else:
            row["outcome"] = "no longer fails: removed from the store"
            store.forget(entry)
        say(args, f"saved failure {spec.property} (seed {spec.seed}): {row['outcome']}")
        replayed.append(row)
    return replayed, still


def saved_failure_record(spec: Any, blob: str, result: Any, seconds: float) -> dict[str, Any]:
    """A saved failure that still fails, as the report's failure record."""
    shrunk = None
    if spec.episode_steps is not None:
        shrunk = {
            "episode": spec.episode,
            "steps": spec.episode_steps,
            "tries": 0,
            "seconds": 0.0,
            "detail": result.detail,
            "counterexample": result.counterexample,
            "from_steps": spec.episode_steps,
        }
    return {
        "property": spec.property,
        "detail": result.detail,
        "steps": result.steps,
        "seconds": result.seconds,
        "episode": spec.episode,
        "episode_steps": spec.episode_steps,
        "counterexample": [] if shrunk else result.counterexample,
        "shrunk": shrunk,
        "shrink_note": "replayed from the saved-failure store",
        "blob": blob,
        "spec": dict(spec.__dict__),
        "shard": None,
        "seed": spec.seed,
        "worker": "this process",
        "campaign_seconds": round(seconds, 2),
        "error": None,
    }


# ---------------------------------------------------------------------------- the campaign
class Board:
    """Progress of the running campaign: steps, rate, ETA, shards; feeds the timeline."""

    def __init__(
        self, args: argparse.Namespace, shards: list[Any], started: float, deadline: float | None
    ) -> None:
        from fuzzing.campaign_report import Timeline

        self.args, self.shards, self.started, self.deadline = args, shards, started, deadline
        self.timeline = Timeline()
        self.by_index = {s.index: s for s in shards}
        self.progress: dict[int, int] = {}
        self.done: dict[int, dict[str, Any]] = {}
        self.last_line = 0.0

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event["kind"]
        now = time.perf_counter() - self.started
        if kind == "progress":
            self.progress[event["shard"]] = event["steps"]
            self.timeline.progress(event["shard"], event["steps"], event.get("paths"))
        elif kind == "shrinking":
            spec = self.by_index[event["shard"]]
            say(
                self.args,
                f"shrinking failure of shard {spec.index} (seed {spec.seed}): {event['property']}…",
            )
        elif kind == "interrupted":
            say(
                self.args,
                "interrupted: stopping every shard, then writing the report of what finished "
                "(Ctrl-C again to quit at once)",
            )
        elif kind == "done":
            result = event["result"]
            self.done[event["shard"]] = result
            self.progress.pop(event["shard"], None)
            self.timeline.finished(event["shard"], result)
            for f in result.get("failures", []):
                say(
                    self.args,
                    f"shard {result['index']} (seed {result['seed']}) FAILED {f['property']} after "
                    f"{f['steps']:,} steps",
                )
        self.timeline.sample(now)
        if kind == "tick" and now - self.last_line >= self.args.progress_seconds:
            self.last_line = now
            self.print_line(now)

    def fraction(self) -> float:
        if self.deadline is not None:
            return 0.0
        total = sum(s.max_steps for s in self.shards)
        done = sum(self.by_index[i].max_steps for i in self.done)
        done += sum(min(n, self.by_index[i].max_steps) for i, n in self.progress.items())
        return min(done / total, 1.0) if total else 1.0

    def print_line(self, now: float) -> None:
        steps = self.timeline.done_steps + sum(self.progress.values())
        rate = steps / now if now > 0 else 0.0
        if self.deadline is not None:
            eta = max(self.deadline - time.time(), 0.0)
        else:
            f = self.fraction()
            eta = now * (1 - f) / f if f > 0 else float("inf")
        failed = sum(1 for r in self.done.values() if r["status"] in ("failed", "error"))
        eta_text = (
            "?" if math.isinf(eta) else (f"{eta / 60:.1f} min" if eta >= 120 else f"{eta:.0f} s")
        )
        say(
            self.args,
            f"{now:6.0f} s  {steps:11,d} steps  {rate:7,.0f} steps/s  ETA {eta_text}  shards "
            f"{len(self.done)}/{len(self.shards)} done, {failed} failed, {len(self.progress)} running",
        )


def plan(args: argparse.Namespace, slots: int) -> list[Any]:
    from fuzzing.cluster import plan_shards

    mode = "hunt" if args.keep_going else "first"
    if args.seeds is not None:
        seeds = list(args.seeds)
    else:
        if args.shards is not None:
            count = args.shards
        elif args.steps is not None:
            count = max(slots, math.ceil(args.steps / STEPS_PER_SHARD))
        else:
            count = slots * SHARDS_PER_WORKER
        if args.steps is not None:
            count = min(count, args.steps)
        seeds = [args.seed + i for i in range(count)]
    budget = None
    if args.budget_seconds is not None:
        budget = args.budget_seconds * min(slots, len(seeds)) / len(seeds)
    return plan_shards(
        seeds, oracle=args.oracle, mode=mode, total_steps=args.steps, budget_seconds=budget
    )


def git_commit() -> str:
    run = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return run.stdout.strip() or "unknown"


def print_failure(f: dict[str, Any]) -> None:
    from fuzzing.campaign_report import counterexample_lines

    where = "a saved failure" if f["shard"] is None else f"shard {f['shard']}"
    print(f"\n=== {f['role']}: {f['property']} ({where}, seed {f['seed']}) ===\n")
    print("\n".join(counterexample_lines(f)))
    if f.get("shrink_note"):
        print(f"({f['shrink_note']})")
    print(f"\nReplay on one machine (paste into any shell):\n  {f['replay_command']}")
    print(f"The same with research/fuzz.py:\n  {f['fuzz_command']}")
    if f.get("episode_command"):
        print(f"The shrunk episode alone:\n  {f['episode_command']}")


def main(argv: list[str] | None = None) -> int:
    raw = sys.argv[1:] if argv is None else argv
    args = parse_args(raw)
    if args.replay is not None:
        return replay_main(args)
    from fuzzing.artifacts import ArtifactError
    from fuzzing.compile import ContractSourceError, load_channel_manager

    args.contract = str(Path(args.contract).expanduser().resolve())
    try:
        artifact = load_channel_manager(args.contract)
    except (ContractSourceError, ArtifactError) as exc:
        return fail_input(str(exc))
    from fuzzing.campaign_report import merge, write_raw, write_report
    from fuzzing.cluster import ClusterError, ContractRef, DaskCampaign
    from fuzzing.replay import FailureStore, ReplaySpec, bytecode_sha256, sha256_file

    contract = ContractRef(args.contract, sha256_file(args.contract), bytecode_sha256(artifact))
    out = (
        Path(args.out).expanduser().resolve()
        if args.out
        else ROOT / "campaigns" / time.strftime("%Y%m%d-%H%M%S")
    )
    started_at = time.time()
    meta: dict[str, Any] = {
        "contract": args.contract,
        "source_sha256": contract.source_sha256,
        "bytecode_sha256": contract.bytecode_sha256,
        "oracle": args.oracle,
        "mode": "hunt" if args.keep_going else "first",
        "started_at": started_at,
        "started_text": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(started_at)),
        "git": git_commit(),
        "command": shlex.join(["research/campaign.py", *raw]),
    }
    saved, still = ([], []) if args.fresh else replay_saved(args, artifact)
    shards: list[Any] = []
    results: list[dict[str, Any]] = []
    board = cluster = None
    began = time.perf_counter()
    if still:
        meta.update(
            budget="not spent: a saved failure still fails (run with --fresh to fuzz anyway)",
            shards=0,
            seeds_text="-",
            seeds=[],
            cluster="none (saved failures replayed in this process)",
        )
    else:
        workers = args.workers or local_cores()
        where = (
            f"on {args.scheduler}"
            if args.scheduler
            else f"a local Dask cluster of {workers} worker processes"
        )
        say(args, f"starting {where}")
        try:
            cluster = DaskCampaign(
                scheduler=args.scheduler, workers=workers, connect_timeout=args.connect_timeout
            )
        except ClusterError as exc:
            return fail_input(str(exc))
        with cluster:
            slots = cluster.worker_slots()
            shards = plan(args, slots)
            deadline = (
                time.time() + args.budget_seconds if args.budget_seconds is not None else None
            )
            seeds = [s.seed for s in shards]
            meta.update(
                budget=f"{args.steps:,} main-play steps"
                if args.steps is not None
                else f"{args.budget_seconds:g} s",
                shards=len(shards),
                seeds=seeds,
                seeds_text=f"{seeds[0]}…{seeds[-1]}"
                if seeds == list(range(seeds[0], seeds[0] + len(seeds)))
                else ", ".join(map(str, seeds)),
                cluster=(
                    f"LocalCluster, {slots} single-threaded worker processes"
                    if args.scheduler is None
                    else f"{args.scheduler}, {slots} worker threads"
                ),
            )
            say(
                args,
                f"{len(shards)} shards on {slots} workers, budget {meta['budget']}, oracle {args.oracle}, "
                f"seeds {meta['seeds_text']}",
            )
            began = time.perf_counter()
            meta["started_at"] = time.time()  # failures are timed from here
            board = Board(args, shards, began, deadline)
            results = cluster.run(
                shards,
                artifact,
                contract,
                keep_going=args.keep_going,
                deadline=deadline,
                on_event=board.on_event,
            )
    seconds = time.perf_counter() - began
    meta["seconds"] = seconds
    for r in results:
        for f in r.get("failures", []):
            add_commands(f)
    timeline = board.timeline.thinned() if board is not None else []
    meta["verdict"] = ""
    report = merge(meta, results, timeline, saved, still)
    t = report["totals"]
    failures = report["failures"]
    interrupted = cluster is not None and cluster.interrupted
    # a task the cluster could not run (a worker died, say): no verdict of the contract, no pass
    lost = [r for r in results if r["status"] == "error" and not r.get("failures")]
    if failures:
        root = failures[0]
        where = "saved failure" if root["shard"] is None else f"shard {root['shard']}"
        verdict = (
            f"FAILED {root['property']} after {root['steps']} steps in {root['seconds']:.1f} s "
            f"({where}, seed {root['seed']})"
        )
    elif lost:
        verdict = (
            f"FAILED shard-lost after {t['steps']} steps in {seconds:.1f} s "
            f"(shard {lost[0]['index']}, seed {lost[0]['seed']}: {lost[0]['error']})"
        )
    elif interrupted:
        verdict = f"INTERRUPTED after {t['steps']} steps in {seconds:.1f} s ({t['shards_run']} shards finished)"
    else:
        rate = t["steps"] / seconds if seconds > 0 else 0.0
        verdict = f"PASSED {t['steps']} steps in {seconds:.1f} s ({rate:.0f} steps/s)"
    report["verdict"] = meta["verdict"] = verdict
    write_raw(out, meta, results, timeline, saved, still)
    files = write_report(report, out)
    store = FailureStore(args.store)
    for f in failures:
        if f["shard"] is not None:
            store.save(ReplaySpec(**f["spec"]), f["detail"], campaign=str(out))
    print_summary(report, files)
    if failures:
        print_failure(failures[0])
    if len(failures) > 1:
        print(
            f"\n{len(failures) - 1} other failures, found separately (counterexamples in the report):"
        )
        for f in failures[1:]:
            where = "a saved failure" if f["shard"] is None else f"shard {f['shard']}"
            print(
                f"  {f['property']} ({where}, seed {f['seed']}) after {f['steps']:,} steps; replay:\n"
                f"    {f['replay_command']}"
            )
    print(verdict)
    return 1 if failures or lost else 130 if interrupted else 0


def print_summary(report: dict[str, Any], files: list[Path]) -> None:
    t = report["totals"]
    seeds = report["campaign"]["seeds_text"]
    print(
        f"Campaign: {t['shards_run']} shards run of {t['shards_planned']} (seeds {seeds}; "
        f"{t['shards_failed']} failed, {t['shards_stopped']} stopped, {t['shards_error']} errors); "
        f"{t['steps']:,} steps, "
        f"{t['property_checks']:,} property checks, {t['episodes']:,} episodes, {t['wall_seconds']:,.1f} s"
    )
    for w in report["workers"]:
        print(
            f"  worker {w['worker']} ({w['host']}): {w['shards']} shards, {w['steps']:,} steps, "
            f"{w['steps_per_second']:,.0f} steps/s, {w['steps_per_cpu_second']:,.0f} steps per CPU s"
        )
    low = report["paths_below_goal"]
    hits = report["paths"]
    below = (
        ", ".join(low)
        if len(low) <= 4
        else f"{len(low)} of {len(hits)} paths (listed in the report)"
    )
    print(
        f"Dispute paths: min {min(hits.values()):,} hits"
        + (
            f"; below {report['path_goal']}: {below}"
            if low
            else f"; all at least {report['path_goal']}"
        )
    )
    print(
        f"Never reached: {len(report['never_reached'])} paths, outcomes or actions (listed in the report)"
    )
    print(f"Report: {files[1]}")


if __name__ == "__main__":
    sys.exit(main())
