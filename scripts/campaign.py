"""Fuzzing campaign runner for researchers: runs a machine, then writes Markdown + JSON + PNG.

    python scripts/campaign.py --machine channel --profile deep --examples 200 --seed 7 \
        --network anvil --out campaigns/deep-7
    python scripts/campaign.py --machine model --examples 200000 --seed 7 --out campaigns/model-7

Machines:
- `channel`: the chain-backed differential machine (tests/stateful/test_channel_machine.py), run
  as `brownie test tests/stateful --network NETWORK` in a subprocess with FUZZ_PROFILE,
  FUZZ_EXAMPLES, FUZZ_SEED, FUZZ_PROGRESS and FUZZ_STATS_OUT set; progress lines are relayed.
- `model`: the reference model alone (scripts/model_benchmark.py's driver): `--examples` is the
  number of random steps.

The report (`<out>/report.md`, `<out>/report.json`, `<out>/*.png`) gives sequences and steps,
invariant checks, call outcomes by error, dispute outcomes by path (who started, who answered,
what won, at which boundary), gas per function (min/median/max) and, if the run failed, the
shrunk counterexample with the seed and `@reproduce_failure` blob to replay it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run_channel(args: argparse.Namespace, out: Path) -> dict:
    stats_file = out / "stats.json"
    env = dict(os.environ)
    env.update(
        PATH=f"{ROOT}/node_modules/.bin:{ROOT}/.venv/bin:{env.get('PATH', '')}",
        SOLCX_BINARY_PATH=env.get("SOLCX_BINARY_PATH", str(ROOT / ".solcx")),
        PYTHONWARNINGS="ignore::FutureWarning",
        FUZZ_PROFILE=args.profile,
        FUZZ_SEED=str(args.seed),
        FUZZ_PROGRESS="1",
        FUZZ_STATS_OUT=str(stats_file),
    )
    if args.examples:
        env["FUZZ_EXAMPLES"] = str(args.examples)
    if args.steps:
        env["FUZZ_STEPS"] = str(args.steps)
    cmd = ["brownie", "test", "tests/stateful/test_channel_machine.py", "--network", args.network, "-s"]
    print("running:", " ".join(cmd), f"(FUZZ_PROFILE={args.profile} FUZZ_SEED={args.seed})", flush=True)
    start = time.perf_counter()
    log_lines: list[str] = []
    with subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            log_lines.append(line)
            if line.startswith(("[progress]", "[stateful]", "REPLAY", "You can reproduce")) or " passed" in line or " failed" in line:
                print(line.rstrip(), flush=True)
        rc = proc.wait()
    log = "".join(log_lines)
    (out / "run.log").write_text(log)
    data = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    data.update(machine="channel", exit_code=rc, wall_s=time.perf_counter() - start, seed=args.seed,
                profile=args.profile, command=" ".join(cmd))
    data["counterexample"] = extract_counterexample(log) if rc != 0 else None
    return data


def extract_counterexample(log: str) -> dict:
    steps = [ln.strip() for ln in log.splitlines() if re.match(r"^\s*state(\.| = )", ln)]
    blob = re.search(r"@reproduce_failure\([^)]*\)", log)
    replay = re.search(r"REPLAY: .*", log)
    errors = [ln.strip()[2:] for ln in log.splitlines() if ln.strip().startswith("E ")][:8]
    return {"steps": steps, "reproduce_failure": blob.group(0) if blob else None,
            "replay": replay.group(0) if replay else None, "error": errors}


def run_model(args: argparse.Namespace, out: Path) -> dict:
    import importlib.util

    spec = importlib.util.spec_from_file_location("model_benchmark", ROOT / "scripts" / "model_benchmark.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    run = bench.run

    steps = args.examples or 50_000
    print(f"model machine: {steps} random steps, seed {args.seed}", flush=True)
    start = time.perf_counter()
    done, chunk, counter_total = 0, max(steps // 10, 1), {}
    failure = None
    while done < steps:
        n = min(chunk, steps - done)
        try:
            _, outcomes = run(n, args.seed + done)
        except AssertionError as exc:  # an invariant of the model broke
            replay = f"python scripts/model_benchmark.py --steps {n} --seed {args.seed + done}"
            failure = {"error": [repr(exc)], "steps": [], "replay": replay}
            break
        for k, v in outcomes.items():
            counter_total[k] = counter_total.get(k, 0) + v
        done += n
        print(f"[progress] {done}/{steps} steps", flush=True)
    elapsed = time.perf_counter() - start
    calls = {k: v for k, v in counter_total.items() if k != "offchain"}
    return {"machine": "model", "exit_code": 1 if failure else 0, "wall_s": elapsed, "elapsed_s": elapsed,
            "seed": args.seed, "profile": "-", "sequences": max(done // chunk, 1), "steps": done,
            "invariant_checks": 4 * done, "calls": calls, "gas": {}, "disputes": [], "races": {},
            "counterexample": failure, "command": f"python scripts/campaign.py --machine model --examples {steps}"}


def gas_table(gas: dict) -> list[dict]:
    rows = []
    for fn, values in sorted(gas.items()):
        if values:
            rows.append({"function": fn, "n": len(values), "min": min(values),
                         "median": int(statistics.median(values)), "max": max(values)})
    return rows


def plots(data: dict, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    calls = data.get("calls", {})
    if calls:
        by_fn: dict[str, dict[str, int]] = {}
        for key, n in calls.items():
            fn, _, res = key.partition(":")
            by_fn.setdefault(fn, {})["accepted" if res == "ok" else "refused"] = \
                by_fn.setdefault(fn, {}).get("accepted" if res == "ok" else "refused", 0) + n
        fns = sorted(by_fn)
        fig, ax = plt.subplots(figsize=(10, 5))
        acc = [by_fn[f].get("accepted", 0) for f in fns]
        ref = [by_fn[f].get("refused", 0) for f in fns]
        ax.barh(fns, acc, label="accepted")
        ax.barh(fns, ref, left=acc, label="refused (model-predicted revert)")
        ax.set_xlabel("calls")
        ax.set_title(f"{data['machine']} machine: call outcomes (seed {data['seed']})")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "outcomes.png", dpi=110)
        plt.close(fig)
        files.append("outcomes.png")
    gas = {k: v for k, v in data.get("gas", {}).items() if v}
    if gas:
        fig, ax = plt.subplots(figsize=(10, 5))
        names = sorted(gas)
        ax.boxplot([gas[n] for n in names], orientation="horizontal", tick_labels=names)
        ax.set_xlabel("gas used")
        ax.set_title("gas per function (successful calls)")
        fig.tight_layout()
        fig.savefig(out / "gas.png", dpi=110)
        plt.close(fig)
        files.append("gas.png")
    return files


def write_report(data: dict, out: Path) -> None:
    data["gas_table"] = gas_table(data.get("gas", {}))
    files = plots(data, out)
    json_data = {k: v for k, v in data.items() if k != "gas"}
    (out / "report.json").write_text(json.dumps(json_data, indent=1))
    md = [f"# Fuzzing campaign — {data['machine']} machine", "",
          f"- command: `{data.get('command')}`",
          f"- profile `{data['profile']}`, seed `{data['seed']}`, exit code {data['exit_code']}",
          f"- sequences: {data.get('sequences', 0)}, steps: {data.get('steps', 0)}, "
          f"invariant checks: {data.get('invariant_checks', 0)}",
          f"- time: {data.get('wall_s', 0):.1f} s wall "
          f"({data.get('steps', 0) / max(data.get('elapsed_s') or data.get('wall_s', 1), 1e-9):.1f} steps/s)", ""]
    md += ["## Call outcomes", "", "| call | result | count |", "|---|---|---|"]
    for key, n in sorted(data.get("calls", {}).items()):
        fn, _, res = key.partition(":")
        md.append(f"| {fn} | {res} | {n} |")
    md += ["", "## Dispute outcomes by path", "",
           "| started by | answered by | settled on | boundary | count |", "|---|---|---|---|---|"]
    for d in sorted(data.get("disputes", []), key=lambda d: -d["count"]):
        md.append(f"| {d['initiator']} | {d['answered_by']} | {d['winner']} | {d['boundary']} | {d['count']} |")
    if data.get("races"):
        md += ["", "## Same-block races", "", "| call | result | count |", "|---|---|---|"]
        for key, n in sorted(data["races"].items()):
            fn, _, res = key.partition(":")
            md.append(f"| {fn} | {res} | {n} |")
    md += ["", "## Gas per function", "", "| function | n | min | median | max |", "|---|---|---|---|---|"]
    for r in data["gas_table"]:
        md.append(f"| {r['function']} | {r['n']} | {r['min']} | {r['median']} | {r['max']} |")
    md += ["", "## Counterexample", ""]
    ce = data.get("counterexample")
    if not ce:
        md.append("None: every invariant held.")
    else:
        md += ["```", *ce.get("error", []), "```", "", "Shrunk steps:", "", "```", *ce.get("steps", []), "```", "",
               f"Replay: `{ce.get('replay')}`", "", f"Blob: `{ce.get('reproduce_failure')}`"]
    md += ["", *[f"![{f}]({f})" for f in files]]
    (out / "report.md").write_text("\n".join(md) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--machine", choices=["channel", "model"], default="channel")
    parser.add_argument("--profile", choices=["fast", "deep"], default="fast")
    parser.add_argument("--examples", type=int, default=0, help="hypothesis examples (model: steps)")
    parser.add_argument("--steps", type=int, default=0, help="max steps per sequence (FUZZ_STEPS)")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 2**31)
    parser.add_argument("--network", default=os.environ.get("NETWORK", "anvil"),
                        help="brownie network id (default $NETWORK or anvil)")
    parser.add_argument("--out", default=None, help="output folder (default campaigns/<machine>-<seed>)")
    args = parser.parse_args()
    out = Path(args.out or ROOT / "campaigns" / f"{args.machine}-{args.seed}")
    out.mkdir(parents=True, exist_ok=True)
    data = run_channel(args, out) if args.machine == "channel" else run_model(args, out)
    write_report(data, out)
    print(f"\nsequences {data.get('sequences')}, steps {data.get('steps')}, invariant checks "
          f"{data.get('invariant_checks')}, exit {data['exit_code']}")
    print(f"report: {out / 'report.md'} (+ report.json, *.png)")
    sys.exit(data["exit_code"])


if __name__ == "__main__":
    main()
