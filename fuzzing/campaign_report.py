"""One report from many shards: merged counts, Markdown, JSON and PNG plots.

Every figure here is counted by the shards and summed: steps, property checks and episodes are
what the engine counted, never a multiple of something else. Zeros are kept: every dispute path,
every action and every function × outcome the engine knows appears even if nothing reached it,
and what stayed at zero is listed under "never reached".

`merge(meta, shards, timeline, saved)` builds the report as a plain dict (that is the JSON);
`write_report(report, folder)` writes report.json, report.md and the PNGs next to them, and
`write_raw` keeps the shards' own results in shards.json, so that
`python -m fuzzing.campaign_report FOLDER` can build the report again (after a change here).
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from fuzzing.engine.paths import DISPUTE_PATHS, EXPECTED_OUTCOMES

PATH_GOAL = 100
HUNT_TEXT = "first failure of every property, all shards run"
DETAIL_PREFIX = "(detail) "
TIMELINE_POINTS = 400


def _actions() -> list[str]:
    try:
        from fuzzing.engine.swarm import ACTIONS

        return list(ACTIONS)
    except ImportError:
        return []


# ---------------------------------------------------------------------------- the timeline
class Timeline:
    """Dispute-path hits and steps over the campaign's elapsed time: finished shards' counts
    plus the running shards' latest progress."""

    def __init__(self) -> None:
        self.done_steps = 0
        self.done_paths: Counter[str] = Counter()
        self.running: dict[int, tuple[int, dict[str, int]]] = {}
        self.points: list[dict[str, Any]] = []

    def progress(self, shard: int, steps: int, paths: dict[str, int] | None) -> None:
        old = self.running.get(shard, (0, {}))
        self.running[shard] = (steps, paths if paths is not None else old[1])

    def finished(self, shard: int, result: dict[str, Any]) -> None:
        self.running.pop(shard, None)
        if result.get("status") in ("passed", "failed"):
            self.done_steps += result["steps"]
            self.done_paths.update({p: result["path_hits"].get(p, 0) for p in DISPUTE_PATHS})

    def sample(self, elapsed: float) -> None:
        steps = self.done_steps + sum(s for s, _ in self.running.values())
        paths = Counter(self.done_paths)
        for _, snapshot in self.running.values():
            paths.update({p: snapshot.get(p, 0) for p in DISPUTE_PATHS})
        point = {
            "elapsed": round(elapsed, 2),
            "steps": steps,
            "paths": {p: paths[p] for p in DISPUTE_PATHS},
        }
        if (
            self.points
            and self.points[-1]["steps"] == steps
            and self.points[-1]["paths"] == point["paths"]
        ):
            return
        self.points.append(point)

    def thinned(self) -> list[dict[str, Any]]:
        if len(self.points) <= TIMELINE_POINTS:
            return list(self.points)
        step = len(self.points) / (TIMELINE_POINTS - 1)
        picked = [self.points[int(i * step)] for i in range(TIMELINE_POINTS - 1)]
        return [*picked, self.points[-1]]


# ---------------------------------------------------------------------------- merging
def merge(
    meta: dict[str, Any],
    shards: list[dict[str, Any]],
    timeline: list[dict[str, Any]],
    saved: list[dict[str, Any]] | None = None,
    saved_failures: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The campaign report as a JSON-ready dict. `meta` holds the campaign's settings, its wall
    time (`seconds`), start (`started_at`, epoch seconds) and verdict line (`verdict`); `saved`
    lists the saved failures replayed first and `saved_failures` the failure records of those
    that still fail (they come before the shards' failures)."""
    ran = [s for s in shards if s["status"] in ("passed", "failed")]
    paths: Counter[str] = Counter({p: 0 for p in DISPUTE_PATHS})
    outcomes: dict[str, Counter[str]] = {
        fn: Counter({"success": 0, **{e: 0 for e in errs}})
        for fn, errs in EXPECTED_OUTCOMES.items()
    }
    rules: dict[str, Counter[str]] | None = {
        a: Counter({"calls": 0, "early_returns": 0, "transactions": 0}) for a in _actions()
    }
    for shard in ran:
        paths.update(shard["path_hits"])
        for fn, counts in shard["outcomes"].items():
            outcomes.setdefault(fn, Counter()).update(counts)
        if shard.get("rules") is None:
            rules = None
        elif rules is not None:
            for action, counts in shard["rules"].items():
                rules.setdefault(action, Counter()).update(counts)
    dispute = {p: paths[p] for p in DISPUTE_PATHS}
    details = {
        k[len(DETAIL_PREFIX) :]: v for k, v in sorted(paths.items()) if k.startswith(DETAIL_PREFIX)
    }
    status = Counter(s["status"] for s in shards)
    totals = {
        "steps": sum(s["steps"] for s in ran),
        "main_play_steps": sum(s["replay_steps"] for s in ran),
        "property_checks": sum(s["property_checks"] for s in ran),
        "episodes": sum(s["episodes"] for s in ran),
        "shards_planned": len(shards),
        "shards_run": len(ran),
        **{
            f"shards_{k}": status.get(k, 0)
            for k in ("passed", "failed", "stopped", "skipped", "cancelled", "error")
        },
        "wall_seconds": round(meta["seconds"], 2),
        "busy_seconds": round(sum(s["seconds"] for s in ran), 2),
        "cpu_seconds": round(sum(s["cpu_seconds"] for s in ran), 2),
        "calls_by_outcome": sum(sum(c.values()) for c in outcomes.values()),
    }
    totals["steps_per_second"] = totals["steps"] / meta["seconds"] if meta["seconds"] > 0 else 0.0
    never = [f"path: {p}" for p, n in dispute.items() if n == 0]
    never += [f"{fn} -> {o}" for fn in sorted(outcomes) for o, n in outcomes[fn].items() if n == 0]
    if rules is not None:
        never += [f"action: {a}" for a, c in sorted(rules.items()) if c["calls"] == 0]
    failures = _failures(meta, shards, saved_failures or [])
    return {
        "campaign": {k: v for k, v in meta.items() if k not in ("verdict", "seconds")},
        "verdict": meta["verdict"],
        "passed": not failures and not status.get("error"),
        "totals": totals,
        "workers": _workers(ran),
        "paths": dispute,
        "path_goal": PATH_GOAL,
        "paths_below_goal": [p for p, n in dispute.items() if n < PATH_GOAL],
        "path_details": details,
        "rules": {a: dict(c) for a, c in sorted(rules.items())} if rules is not None else None,
        "steps_outside_actions": (
            totals["steps"] - sum(c["transactions"] for c in rules.values())
            if rules is not None
            else None
        ),
        "outcomes": {fn: _ordered(outcomes[fn]) for fn in sorted(outcomes)},
        "refused": _refused(outcomes, details, dispute),
        "never_reached": never,
        "failures": failures,
        "time_to_failure": _time_to_failure(failures),
        "saved_failures": saved or [],
        "timeline": timeline,
        "shards": [_shard_row(s, meta) for s in shards],
    }


def _ordered(counts: Counter[str]) -> dict[str, int]:
    """success first, then errors by name."""
    return {k: counts[k] for k in sorted(counts, key=lambda k: (k != "success", k))}


def _workers(ran: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for s in ran:
        groups[(s["host"], s["worker"])].append(s)
    rows = []
    for (host, worker), items in sorted(groups.items()):
        steps = sum(s["steps"] for s in items)
        busy = sum(s["seconds"] for s in items)
        cpu = sum(s["cpu_seconds"] for s in items)
        rows.append(
            {
                "worker": worker,
                "host": host,
                "pids": sorted({s["pid"] for s in items}),
                "shards": len(items),
                "steps": steps,
                "busy_seconds": round(busy, 2),
                "cpu_seconds": round(cpu, 2),
                "steps_per_second": round(steps / busy, 1) if busy > 0 else 0.0,
                "steps_per_cpu_second": round(steps / cpu, 1) if cpu > 0 else 0.0,
            }
        )
    return rows


def _refused(
    outcomes: dict[str, Counter[str]], details: dict[str, int], dispute: dict[str, int]
) -> dict[str, Any]:
    by_error: dict[str, dict[str, Any]] = {}
    for fn, counts in outcomes.items():
        for outcome, n in counts.items():
            if outcome == "success" or n == 0:
                continue
            entry = by_error.setdefault(outcome, {"total": 0, "by_function": {}})
            entry["total"] += n
            entry["by_function"][fn] = n
    boundaries = {k: v for k, v in details.items() if "refused" in k}
    boundaries.update({k: v for k, v in dispute.items() if "refused" in k})
    return {
        "total": sum(e["total"] for e in by_error.values()),
        "by_error": dict(sorted(by_error.items(), key=lambda kv: (-kv[1]["total"], kv[0]))),
        "at_boundaries": dict(sorted(boundaries.items())),
    }


def _failures(
    meta: dict[str, Any], shards: list[dict[str, Any]], saved: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Every failure, earliest in the campaign first (saved failures replayed first come
    first). The first is the campaign's verdict; the others were found separately (other shards,
    or later episodes of a hunt: each episode runs on a fresh chain) and each replays alone."""
    found = [dict(f) for f in saved]
    for s in shards:
        for f in s.get("failures", []):
            offset = (s["started_at"] - meta["started_at"]) if s.get("started_at") else 0.0
            found.append(
                {
                    **f,
                    "shard": s["index"],
                    "seed": s["seed"],
                    "worker": s.get("worker", ""),
                    "campaign_seconds": round(offset + (f.get("seconds") or 0.0), 2),
                    "error": s.get("error") if s["status"] == "error" else None,
                }
            )
    found.sort(key=lambda f: (f["shard"] is not None, f["campaign_seconds"], f["shard"] or 0))
    for i, f in enumerate(found):
        f["role"] = "first failure" if i == 0 else "other failure"
    return found


def _time_to_failure(failures: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    first: dict[str, dict[str, Any]] = {}
    for f in failures:
        prop = f["property"]
        seen = first.get(prop)
        if seen is None or f["campaign_seconds"] < seen["campaign_seconds"]:
            first[prop] = {
                "campaign_seconds": f["campaign_seconds"],
                "shard_steps": f["steps"],
                "shard_seconds": round(f.get("seconds") or 0.0, 2),
                "shard": f["shard"],
                "seed": f["seed"],
                "shrunk_steps": (f.get("shrunk") or {}).get("steps"),
            }
    return dict(sorted(first.items(), key=lambda kv: kv[1]["campaign_seconds"]))


def _shard_row(s: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "index": s["index"],
        "seed": s["seed"],
        "status": s["status"],
        "worker": s.get("worker", ""),
        "host": s.get("host", ""),
        "steps": s["steps"],
        "replay_steps": s["replay_steps"],
        "episodes": s["episodes"],
        "property_checks": s["property_checks"],
        "seconds": round(s["seconds"], 2),
        "cpu_seconds": round(s["cpu_seconds"], 2),
        "max_steps": s.get("max_steps"),
        "budget_seconds": s.get("budget_seconds"),
        "started": round(s["started_at"] - meta["started_at"], 2) if s.get("started_at") else None,
        "failures": [f["property"] for f in s.get("failures", [])],
        "error": s.get("error"),
    }


# ---------------------------------------------------------------------------- writing
RAW_FILE = "shards.json"


def write_raw(
    folder: str | Path,
    meta: dict[str, Any],
    shards: list[dict[str, Any]],
    timeline: list[dict[str, Any]],
    saved: list[dict[str, Any]],
    saved_failures: list[dict[str, Any]],
) -> Path:
    """What merge() read, as it read it."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    raw = {
        "meta": meta,
        "shards": shards,
        "timeline": timeline,
        "saved": saved,
        "saved_failures": saved_failures,
    }
    (out / RAW_FILE).write_text(json.dumps(raw, indent=1) + "\n")
    return out / RAW_FILE


def rebuild(folder: str | Path) -> list[Path]:
    """Merge and write the report of FOLDER again from its shards.json."""
    raw = json.loads((Path(folder) / RAW_FILE).read_text())
    report = merge(raw["meta"], raw["shards"], raw["timeline"], raw["saved"], raw["saved_failures"])
    return write_report(report, folder)


def write_report(report: dict[str, Any], folder: str | Path) -> list[Path]:
    """report.json, report.md and the PNGs; returns the files written."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    pngs = write_plots(report, out)
    report["plots"] = [p.name for p in pngs]
    (out / "report.json").write_text(json.dumps(report, indent=1, sort_keys=False) + "\n")
    (out / "report.md").write_text(markdown(report))
    return [out / "report.json", out / "report.md", *pngs]


def _where(shard: int | None) -> str:
    return "saved failure" if shard is None else f"shard {shard}"


def _n(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def markdown(r: dict[str, Any]) -> str:
    c, t = r["campaign"], r["totals"]
    lines = [f"# Fuzzing campaign: {r['verdict']}", ""]
    lines += [
        f"- contract: `{c['contract']}` (sha256 of the source `{c['source_sha256'][:16]}…`, "
        f"of the creation code `{c['bytecode_sha256'][:16]}…`)",
        f"- oracle: `{c['oracle']}`; mode: {c['mode']} "
        f"({HUNT_TEXT if c['mode'] == 'hunt' else 'a failure stops the campaign'})",
        f"- budget: {c['budget']}; shards: {c['shards']} (seeds {c['seeds_text']})",
        f"- cluster: {c['cluster']}",
        f"- started {c['started_text']}; git `{c.get('git', '?')}`",
        f"- command: `{c['command']}`",
        "",
        "## Totals (counted by the shards, summed)",
        "",
        "| what | count |",
        "|---|---:|",
        f"| steps (transactions sent and judged, end-of-episode drives included) | {_n(t['steps'])} |",
        f"| of which main-play steps (the budget counts these) | {_n(t['main_play_steps'])} |",
        f"| property checks (steps the oracle judged) | {_n(t['property_checks'])} |",
        f"| calls counted by outcome | {_n(t['calls_by_outcome'])} |",
        f"| episodes (fresh chains) | {_n(t['episodes'])} |",
        f"| shards run / planned | {t['shards_run']} / {t['shards_planned']} |",
        f"| shards passed, failed, stopped, skipped, cancelled, error | {t['shards_passed']}, {t['shards_failed']}, "
        f"{t['shards_stopped']}, {t['shards_skipped']}, {t['shards_cancelled']}, {t['shards_error']} |",
        f"| wall time of the campaign | {t['wall_seconds']:,.1f} s |",
        f"| steps per wall second, whole campaign | {t['steps_per_second']:,.0f} |",
        f"| shard time summed over workers / CPU time | {t['busy_seconds']:,.1f} s / {t['cpu_seconds']:,.1f} s |",
        "",
        "Steps exceed the main-play steps by each episode's end-of-episode drive (every open dispute is driven "
        "to its end and judged). Stopped shards (told to stop after another shard failed) and skipped ones "
        "(the time budget was spent before they started) add nothing to these counts.",
        "",
        "## Workers",
        "",
        "| worker | host | shards | steps | shard time (s) | steps/s | CPU s | steps per CPU s |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for w in r["workers"]:
        lines.append(
            f"| {w['worker']} | {w['host']} | {w['shards']} | {_n(w['steps'])} | {w['busy_seconds']:,.1f} | "
            f"{w['steps_per_second']:,.0f} | {w['cpu_seconds']:,.1f} | {w['steps_per_cpu_second']:,.0f} |"
        )
    lines += [
        "",
        "## Dispute paths",
        "",
        f"Goal: every path at least {r['path_goal']} times. "
        + (
            f"Below the goal: {', '.join(r['paths_below_goal'])}."
            if r["paths_below_goal"]
            else "Every path reached the goal."
        ),
        "",
        "| path | hits | |",
        "|---|---:|---|",
    ]
    goal = r["path_goal"]
    for p, n in r["paths"].items():
        lines.append(f"| {p} | {_n(n)} | {'' if n >= goal else f'below {goal}'} |")
    lines += [
        "",
        "Details (challenges by caller, boundaries, settlement times):",
        "",
        "| detail | hits |",
        "|---|---:|",
    ]
    lines += [f"| {k} | {_n(v)} |" for k, v in r["path_details"].items()]
    lines += ["", "## Actions", ""]
    if r["rules"] is None:
        lines.append(
            "Action counts unavailable: the engine's `Actors` could not be instrumented "
            "(see fuzzing/cluster.py)."
        )
    else:
        lines += [
            "An action is one draw of the engine's swarm (or the idle tick and the end-of-episode exits). "
            "An early return is a draw that found nothing to do; transactions are the steps it sent "
            "(off-chain signing sends none).",
            "",
            "| action | calls | early returns | transactions |",
            "|---|---:|---:|---:|",
        ]
        lines += [
            f"| {a} | {_n(c['calls'])} | {_n(c['early_returns'])} | {_n(c['transactions'])} |"
            for a, c in r["rules"].items()
        ]
        lines.append(
            f"| (end-of-episode drive, outside any action) | | | {_n(r['steps_outside_actions'])} |"
        )
    lines += [
        "",
        "## Outcomes by function",
        "",
        "Every outcome `docs/protocol.md` gives each function, zeros included.",
        "",
        "| function | outcome | count |",
        "|---|---|---:|",
    ]
    for fn, counts in r["outcomes"].items():
        for i, (o, n) in enumerate(counts.items()):
            lines.append(f"| {fn if i == 0 else ''} | {o} | {_n(n)} |")
    ref = r["refused"]
    lines += [
        "",
        "## Refused calls",
        "",
        f"{_n(ref['total'])} refused calls by error:",
        "",
        "| error | total | by function |",
        "|---|---:|---|",
    ]
    for err, e in ref["by_error"].items():
        by = ", ".join(
            f"{fn} {_n(n)}" for fn, n in sorted(e["by_function"].items(), key=lambda kv: -kv[1])
        )
        lines.append(f"| {err} | {_n(e['total'])} | {by} |")
    lines += ["", "Refused at a time boundary:", "", "| boundary | count |", "|---|---:|"]
    lines += [f"| {k} | {_n(v)} |" for k, v in ref["at_boundaries"].items()]
    lines += ["", "## Never reached", ""]
    lines += [f"- {x}" for x in r["never_reached"]] or [
        "Nothing: every path, outcome and action was reached."
    ]
    lines += ["", "## Failures", ""]
    lines += _failure_markdown(r) if r["failures"] else ["None."]
    if r["saved_failures"]:
        lines += [
            "",
            "## Saved failures replayed first",
            "",
            "| property | seed | found | now |",
            "|---|---:|---|---|",
        ]
        lines += [
            f"| {s['property']} | {s['seed']} | {s['found_at']} | {s['outcome']} |"
            for s in r["saved_failures"]
        ]
    if r.get("plots"):
        lines += ["", "## Plots", ""]
        lines += [f"![{p}]({p})" for p in r["plots"]]
    lines += [
        "",
        "## Shards",
        "",
        "| shard | seed | worker | status | steps | episodes | s | steps/s | failures |",
        "|---:|---:|---|---|---:|---:|---:|---:|---|",
    ]
    for s in r["shards"]:
        rate = f"{s['steps'] / s['seconds']:,.0f}" if s["seconds"] else "-"
        lines.append(
            f"| {s['index']} | {s['seed']} | {s['worker']} | {s['status']} | {_n(s['steps'])} | "
            f"{_n(s['episodes'])} | {s['seconds']:,.1f} | {rate} | {', '.join(s['failures'])} |"
        )
    return "\n".join(lines) + "\n"


def _failure_markdown(r: dict[str, Any]) -> list[str]:
    lines = [
        "Time to the first failure of each property:",
        "",
        "| property | into the campaign (s) | shard steps | shard | seed | shrunk to |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for prop, f in r["time_to_failure"].items():
        shrunk = (
            f"{f['shrunk_steps']} steps of one episode"
            if f["shrunk_steps"] is not None
            else "not shrunk"
        )
        lines.append(
            f"| {prop} | {f['campaign_seconds']:,.1f} | {_n(f['shard_steps'])} | {_where(f['shard'])} | "
            f"{f['seed']} | {shrunk} |"
        )
    for f in r["failures"]:
        lines += [
            "",
            f"### {f['role'].capitalize()}: `{f['property']}` ({_where(f['shard'])}, seed {f['seed']})",
            "",
        ]
        lines += [
            f"- what was seen: {f['detail']}",
            f"- after {_n(f['steps'])} steps of the shard, {f['campaign_seconds']:,.1f} s into the campaign",
        ]
        lines += [
            f"- replay (one machine, any folder): `{f['replay_command']}`",
            f"- the same with research/fuzz.py: `{f['fuzz_command']}`",
        ]
        if f.get("episode_command"):
            lines.append(f"- the shrunk episode alone: `{f['episode_command']}`")
        lines.append(f"- blob: `{f['blob']}`")
        if f.get("shrink_note"):
            lines.append(f"- {f['shrink_note']}")
        lines += ["", *counterexample_lines(f, indent="    ")]
        if f.get("error"):
            lines += [
                "",
                "Engine traceback:",
                "",
                *("    " + x for x in f["error"].rstrip().splitlines()),
            ]
    return lines


def counterexample_lines(f: dict[str, Any], indent: str = "  ") -> list[str]:
    """The counterexample as numbered steps, the failing step and the property apart from them."""
    shrunk = f.get("shrunk")
    steps = shrunk["counterexample"] if shrunk else f.get("counterexample", [])
    if shrunk:
        head = (
            f"Counterexample: episode {shrunk['episode']} alone, main play cut to {shrunk['steps']} steps "
            f"(from {shrunk['from_steps']}, {shrunk['tries']} tries), steps of the parties involved:"
        )
    else:
        head = "Counterexample: the failing episode, steps of the parties involved:"
    lines = [head]
    if not steps:
        return [*lines, f"{indent}(no steps recorded)"]
    header, body = steps[0], steps[1:]
    lines.append(f"{indent}{header}")
    number = 0
    for line in body:
        if line.startswith("... ("):
            lines.append(f"{indent}     {line}")
            continue
        number += 1
        lines.extend(
            textwrap.wrap(
                line,
                160,
                initial_indent=f"{indent}{number:4d}  ",
                subsequent_indent=f"{indent}        ",
            )
            or [f"{indent}{number:4d}"]
        )
    detail = shrunk["detail"] if shrunk else f["detail"]
    lines += ["", f"Root cause: {f['property']} after the last step above: {detail}"]
    return lines


# ---------------------------------------------------------------------------- plots
def write_plots(r: dict[str, Any], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = [
        _plot_paths(plt, r, out / "paths_over_time.png"),
        _plot_outcomes(plt, r, out / "outcomes.png"),
        _plot_workers(plt, r, out / "steps_per_worker.png"),
    ]
    if r["failures"]:
        written.append(_plot_failures(plt, r, out / "time_to_failure.png"))
    return written


def _plot_paths(plt: Any, r: dict[str, Any], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(12, 7))
    points = r["timeline"] or [{"elapsed": 0.0, "paths": {p: 0 for p in DISPUTE_PATHS}}]
    xs = [p["elapsed"] for p in points]
    cmap = plt.get_cmap("tab20")
    for i, name in enumerate(DISPUTE_PATHS):
        ax.step(
            xs,
            [p["paths"].get(name, 0) for p in points],
            where="post",
            label=f"{name} ({r['paths'][name]:,})",
            color=cmap(i % 20),
            linestyle="-" if i < 8 else "--",
        )
    ax.axhline(
        r["path_goal"], color="black", linewidth=0.8, linestyle=":", label=f"goal {r['path_goal']}"
    )
    ax.set_yscale("symlog", linthresh=10)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("campaign elapsed time (s)")
    ax.set_ylabel("hits so far (finished shards + running shards' progress)")
    ax.set_title("Dispute-path hits over time")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(fig)
    return path


def _plot_outcomes(plt: Any, r: dict[str, Any], path: Path) -> Path:
    functions = list(r["outcomes"])
    cols = 3
    rows = (len(functions) + cols - 1) // cols
    heights = [
        max(len(r["outcomes"][fn]) for fn in functions[i * cols : (i + 1) * cols])
        for i in range(rows)
    ]
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(17, 0.26 * sum(heights) + 1.2 * rows),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    top = max([n for fn in functions for n in r["outcomes"][fn].values()] + [10])
    for ax, fn in zip(axes.flat, functions, strict=False):
        items = list(r["outcomes"][fn].items())[::-1]
        labels = [o for o, _ in items]
        values = [n for _, n in items]
        ys = range(len(items))
        colors = ["tab:green" if o == "success" else "tab:gray" for o in labels]
        ax.barh(ys, [v if v > 0 else 0 for v in values], color=colors, left=0.5)
        ax.set_xscale("log")
        ax.set_xlim(0.5, top * 3)
        for y, v in zip(ys, values, strict=False):
            if v == 0:
                ax.plot([0.6], [y], marker="x", color="tab:red", markersize=6)
                ax.text(0.75, y, "0", va="center", fontsize=7, color="tab:red")
            else:
                ax.text(v * 1.15, y, f"{v:,}", va="center", fontsize=6)
        ax.set_yticks(list(ys))
        ax.set_yticklabels(labels, fontsize=7)
        ax.set_title(fn, fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
    for ax in list(axes.flat)[len(functions) :]:
        ax.axis("off")
    fig.suptitle("Outcomes per function (log scale; red x = never seen)", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.985))
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def _plot_workers(plt: Any, r: dict[str, Any], path: Path) -> Path:
    workers = r["workers"]
    fig, ax = plt.subplots(figsize=(max(6, 1.4 * len(workers) + 3), 4.5))
    names = [f"{w['worker']}\n{w['host']}" for w in workers] or ["(no shard ran)"]
    wall = [w["steps_per_second"] for w in workers] or [0]
    cpu = [w["steps_per_cpu_second"] for w in workers] or [0]
    xs = range(len(names))
    ax.bar([x - 0.2 for x in xs], wall, width=0.4, label="steps per second of shard time (wall)")
    ax.bar([x + 0.2 for x in xs], cpu, width=0.4, label="steps per CPU second")
    for x, a, b in zip(xs, wall, cpu, strict=False):
        ax.text(x - 0.2, a, f"{a:,.0f}", ha="center", va="bottom", fontsize=8)
        ax.text(x + 0.2, b, f"{b:,.0f}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(list(xs))
    ax.set_xticklabels(names, fontsize=8)
    ax.set_ylabel("steps/s")
    ax.set_title("Throughput per worker")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _plot_failures(plt: Any, r: dict[str, Any], path: Path) -> Path:
    items = list(r["time_to_failure"].items())
    fig, ax = plt.subplots(figsize=(10, 1.0 + 0.5 * len(items)))
    ys = range(len(items))
    steps = [max(f["shard_steps"], 1) for _, f in items]
    ax.barh(list(ys), steps, color="tab:red")
    for y, (_, f) in zip(ys, items, strict=False):
        ax.text(
            max(f["shard_steps"], 1) * 1.1,
            y,
            f"step {f['shard_steps']:,} of {_where(f['shard'])} (seed {f['seed']}), "
            f"{f['campaign_seconds']:,.1f} s into the campaign",
            va="center",
            fontsize=8,
        )
    ax.set_yticks(list(ys))
    ax.set_yticklabels([p for p, _ in items], fontsize=8)
    ax.set_xscale("log")
    ax.set_xlim(0.8, max(steps) * 30)
    ax.set_xlabel("steps of its shard when each property first failed")
    ax.set_title("First failure of each property")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(
            "usage: python -m fuzzing.campaign_report CAMPAIGN_FOLDER (rebuilds its report from shards.json)"
        )
    for written in rebuild(sys.argv[1]):
        print(written)
