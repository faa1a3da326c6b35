"""Does the fuzzing engine bite? Every mutant of fuzzing/mutants.py through one campaign each.

    python research/mutation_check.py [--budget-steps 30000 | --budget-seconds 30] [--seed 1]
                                      [--oracle both] [--workers 1] [--only ID ...] [--list]

Each mutant (a small edit of contracts/ChannelManager.sol that breaks one rule of
docs/protocol.md) is written to build/fuzzing-mutants/, compiled with the project's compiler
set-up and run by the fuzzing engine (fuzzing/engine, in-process revm) for at most
`--budget-steps` transactions (default 30,000: about 30 s on one free core), or
`--budget-seconds` instead. A step budget makes the verdict the same on every machine and under
any load; a time budget is what a researcher with a deadline has. A mutant is *killed* when the
campaign reports a failure, *survives* when it runs its budget clean. The unmutated contract runs the same campaign first and must pass: if it
fails, the engine reports something on a correct contract and no kill would mean anything.

Prints killed/survived per mutant and ends with one verdict line; writes reports/mutation.md.
Exit status 0 when at least 95 % of the mutants were killed, 1 otherwise (or when the baseline
fails), 2 for bad arguments or a mutant that does not build. `research/rediscover.py` runs the same
mutants over several seeds and oracles, with the pre-v3 target (docs/fuzzing-rediscovery.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "research"))

from rediscover import GOAL_KILL_SHARE, ORACLES, Job, build_targets, run_job, run_jobs  # noqa: E402

from fuzzing.compile import DEFAULT_CONTRACT, ContractSourceError  # noqa: E402
from fuzzing.mutants import MutantError, all_mutants, select  # noqa: E402

REPORT = ROOT / "reports" / "mutation.md"


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument(
        "--budget-steps", type=int, default=30_000, help="transactions per mutant (default 30000)"
    )
    budget.add_argument("--budget-seconds", type=float, help="per mutant, instead of a step budget")
    parser.add_argument("--seed", type=int, default=1)
    # "both": the properties catch what loses money, the model every other broken rule
    # (docs/fuzzing-rediscovery.md has the kill rates of each).
    parser.add_argument("--oracle", choices=ORACLES, default="both")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--only", nargs="*", help="mutant ids (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args(argv)
    if args.workers < 1 or (args.budget_seconds or 1) <= 0 or args.budget_steps <= 0:
        parser.error("--workers must be at least 1 and the budget positive")
    if args.budget_seconds:
        args.budget_steps = 0
    return args


def budget_flag(args: argparse.Namespace) -> str:
    if args.budget_steps:
        return f"--budget-steps {args.budget_steps}"
    return f"--budget-seconds {args.budget_seconds:g}"


def budget_text(args: argparse.Namespace) -> str:
    return f"{args.budget_steps} steps" if args.budget_steps else f"{args.budget_seconds:g} s"


def line(record: dict) -> str:
    if record.get("error"):
        return f"  {record['target']:40} ERROR     {record['error']}"
    if record["found"]:
        return (
            f"  {record['target']:40} killed    {record['seconds']:6.1f} s {record['steps']:>8} steps  "
            f"{record['failure']}"
        )
    return (
        f"  {record['target']:40} SURVIVED  {record['seconds']:6.1f} s {record['steps']:>8} steps"
    )


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    try:
        mutants = select(all_mutants(), args.only)
    except MutantError as exc:
        print(f"mutation check: {exc}", file=sys.stderr)
        return 2
    if args.list:
        for m in mutants:
            print(f"{m.id:40} {m.category:10} {m.description}")
        return 0
    try:
        paths = build_targets(mutants, args.workers)
    except (MutantError, ContractSourceError) as exc:
        print(f"mutation check: {exc}", file=sys.stderr)
        return 2

    print(
        f"baseline: unmutated contract, seed {args.seed}, oracle {args.oracle}, {budget_text(args)}",
        flush=True,
    )
    base = run_job(
        Job(
            "baseline",
            "v3",
            str(DEFAULT_CONTRACT),
            args.seed,
            args.oracle,
            args.budget_seconds or 0,
            args.budget_steps,
        )
    )
    if base.get("error") or base["found"]:
        why = base.get("error") or f"{base['failure']}: {base['detail']}"
        print(f"mutation check: FAILED — the unmutated contract fails the campaign ({why})")
        return 1
    print(f"baseline passed: {base['steps']} steps in {base['seconds']:.0f} s", flush=True)

    jobs = [
        Job(
            "mutant",
            m.id,
            paths[m.id],
            args.seed,
            args.oracle,
            args.budget_seconds or 0,
            args.budget_steps,
        )
        for m in mutants
    ]
    started = time.perf_counter()
    with_tmp = ROOT / "build" / "mutation-check.jsonl"
    with_tmp.parent.mkdir(exist_ok=True)
    with_tmp.unlink(missing_ok=True)
    done = run_jobs(jobs, args.workers, with_tmp, {}, line)
    records = [done[j.key] for j in jobs]
    killed = [r for r in records if r.get("found")]
    survivors = [r["target"] for r in records if not r.get("found")]
    share = len(killed) / len(records) if records else 0.0
    ok = share >= GOAL_KILL_SHARE
    write_report(args, mutants, records, base, time.perf_counter() - started)
    print(
        f"mutation check: {len(killed)}/{len(records)} killed ({share:.1%}) within {budget_text(args)} each "
        f"(seed {args.seed}, oracle {args.oracle}) — {'PASS' if ok else 'FAIL'} (goal ≥ {GOAL_KILL_SHARE:.0%})"
        + (f"; survived: {', '.join(survivors)}" if survivors else "")
    )
    return 0 if ok else 1


def write_report(
    args: argparse.Namespace, mutants: list, records: list[dict], base: dict, seconds: float
) -> None:
    by_id = {m.id: m for m in mutants}
    killed = sum(1 for r in records if r.get("found"))
    out = [
        "# Mutation check",
        "",
        f"`python research/mutation_check.py {budget_flag(args)} --seed {args.seed} "
        f"--oracle {args.oracle} --workers {args.workers}`",
        "",
        f"Engine: fuzzing/engine on revm. Baseline (unmutated) passed {base['steps']} steps in "
        f"{base['seconds']:.0f} s. Mutant campaigns took {seconds:.0f} s in all.",
        "",
        f"**{killed}/{len(records)} killed**",
        "",
        "| mutant | category | edit | result | steps | time (s) | failing property |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in records:
        m = by_id[r["target"]]
        result = "ERROR" if r.get("error") else ("killed" if r["found"] else "SURVIVED")
        why = (r.get("failure") or r.get("error") or "").replace("|", "/")
        out.append(
            f"| `{m.id}` | {m.category} | {m.description.replace('|', '/')} | {result} | "
            f"{r.get('steps', '')} | {r.get('seconds', 0):.1f} | {why} |"
        )
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text("\n".join(out) + "\n")
    print(f"report: {REPORT}")


if __name__ == "__main__":
    sys.exit(main())
