#!/usr/bin/env python3
"""Slither on ChannelManager, offline, with the project's compiler and waivers.

    .venv/bin/python tools/run_slither.py            # human summary; exit 1 on a failure
    .venv/bin/python tools/run_slither.py --json out.json

How it compiles: crytic-compile's solc standard-json mode (`SolcStandardJson`) with the
project's compiler executable `.solcx/solc-v<version>` (a node shim over solc-js that answers
`--version` and `--standard-json`, tools/solc-shim.js) and brownie-config.yaml's remappings,
EVM version and optimizer. Plain `slither FILE --solc ...` would call solc with
`--combined-json`, which the shim does not answer.

What fails the run (exit 1):
- ChannelManager is not among the analysed contracts, or none of its functions got IR — a wrong
  target must never pass silently as "no findings";
- slither could not build IR for a function outside node_modules (a parse gap in our code);
- a High or Medium finding in our code (node_modules is filtered) that no waiver in
  tools/slither_waivers.json covers. Waivers are keyed by detector + location (the contract
  member the finding is about: `Contract.function`, `Contract.stateVariable` or
  `Contract.function.localVariable`), each with its reason (also in docs/security.md).
Low and informational findings are listed, never fatal. The test tests/analysis/test_slither.py
runs this file.
"""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
WAIVERS = ROOT / "tools" / "slither_waivers.json"
TARGETS = ["contracts/ChannelManager.sol"]
MAIN_CONTRACT = "ChannelManager"
FAILING_IMPACTS = ("High", "Medium")
#: Slither 0.11.6 cannot build IR for OpenZeppelin's transient re-entrance guard (a call on a
#: user-defined value type, `TransientSlot.BooleanSlot.tload()`, crashes its constant-type
#: conversion). Those functions live in node_modules; any other IR failure fails the run.
TOLERATED_IR_FAILURE_PATH = "node_modules/"


@dataclass
class Finding:
    detector: str
    impact: str
    confidence: str
    location: str
    description: str
    lines: str
    waived_because: str | None = None


@dataclass
class Report:
    seconds: float = 0.0
    contracts: list[str] = field(default_factory=list)
    main_contract_functions_with_ir: int = 0
    ir_failures: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    stale_waivers: list[dict[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def failing(self) -> list[Finding]:
        return [f for f in self.findings if f.impact in FAILING_IMPACTS and not f.waived_because]


class _Capture(logging.Handler):
    """Collects slither's parse errors ("Impossible to generate IR for …")."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _brownie_settings() -> dict[str, Any]:
    config = yaml.safe_load((ROOT / "brownie-config.yaml").read_text())
    return config["compiler"]


def _solc_executable(version: str) -> str:
    folder = Path(os.environ.get("SOLCX_BINARY_PATH", ROOT / ".solcx"))
    solc = folder / f"solc-v{version}"
    if not solc.exists():
        raise SystemExit(f"run_slither: {solc} not found (run `make setup`)")
    return str(solc)


def _location(element: dict[str, Any]) -> str:
    """`Contract.member` or `Contract.function.local` for a result's first element."""
    names = [element["name"]]
    parent = element.get("type_specific_fields", {}).get("parent")
    while parent:
        names.append(parent["name"])
        parent = parent.get("type_specific_fields", {}).get("parent")
    return ".".join(reversed(names))


def _load_waivers() -> list[dict[str, str]]:
    waivers = json.loads(WAIVERS.read_text())["waivers"]
    for w in waivers:
        missing = {"detector", "location", "reason"} - set(w)
        if missing:
            raise SystemExit(f"run_slither: waiver {w} lacks {sorted(missing)}")
    return waivers


def _detector_classes() -> list[type]:
    from slither.detectors import all_detectors
    from slither.detectors.abstract_detector import AbstractDetector

    return [
        d
        for d in vars(all_detectors).values()
        if inspect.isclass(d) and issubclass(d, AbstractDetector) and d is not AbstractDetector
    ]


def analyse() -> Report:
    """Compile, analyse, apply waivers; never raises on findings."""
    from crytic_compile import CryticCompile
    from crytic_compile.platform.solc_standard_json import SolcStandardJson
    from slither import Slither

    report = Report()
    start = time.monotonic()
    settings = _brownie_settings()
    target = SolcStandardJson()
    for path in TARGETS:
        target.add_source_file(path)
    for remapping in settings["solc"].get("remappings", []):
        target.add_remapping(remapping)
    json_input = target.to_dict()["settings"]
    json_input["evmVersion"] = settings.get("evm_version", "cancun")
    optimizer = settings["solc"].get("optimizer", {})
    json_input["optimizer"] = {
        "enabled": bool(optimizer.get("enabled")),
        "runs": optimizer.get("runs", 200),
    }

    capture = _Capture()
    logging.getLogger().addHandler(capture)
    previous_cwd = Path.cwd()
    os.chdir(ROOT)  # crytic-compile and the filter paths are relative to the project root
    try:
        compilation = CryticCompile(
            target,
            solc=_solc_executable(settings["solc"]["version"]),
            solc_disable_warnings=True,
        )
        slither = Slither(compilation, filter_paths=["node_modules"])
        for detector in _detector_classes():
            slither.register_detector(detector)
        raw = [r for per_detector in slither.run_detectors() for r in per_detector]
    finally:
        os.chdir(previous_cwd)
        logging.getLogger().removeHandler(capture)
    report.seconds = round(time.monotonic() - start, 1)

    report.contracts = sorted({c.name for c in slither.contracts})
    main = [c for c in slither.contracts if c.name == MAIN_CONTRACT]
    if not main:
        report.problems.append(f"{MAIN_CONTRACT} was not analysed (contracts: {report.contracts})")
    else:
        own = [f for f in main[0].functions_declared if f.nodes]
        report.main_contract_functions_with_ir = sum(1 for f in own if f.slithir_operations)
        if report.main_contract_functions_with_ir == 0:
            report.problems.append(f"no function of {MAIN_CONTRACT} has IR: nothing was analysed")

    report.ir_failures = [m for m in capture.messages if "generate IR" in m]
    for message in report.ir_failures:
        if TOLERATED_IR_FAILURE_PATH not in message.split("\n")[0]:
            report.problems.append(f"slither could not analyse our code: {message}")

    waivers = _load_waivers()
    used: set[int] = set()
    for result in raw:
        location = _location(result["elements"][0]) if result["elements"] else "?"
        finding = Finding(
            detector=result["check"],
            impact=result["impact"],
            confidence=result["confidence"],
            location=location,
            description=result["description"].strip(),
            lines=result.get("first_markdown_element", ""),
        )
        for i, waiver in enumerate(waivers):
            if waiver["detector"] == finding.detector and waiver["location"] == location:
                finding.waived_because = waiver["reason"]
                used.add(i)
        report.findings.append(finding)
    report.stale_waivers = [w for i, w in enumerate(waivers) if i not in used]
    for f in report.failing():
        report.problems.append(
            f"unwaived {f.impact} finding {f.detector} at {f.location} ({f.lines})"
        )
    return report


def _print(report: Report) -> None:
    print(
        f"slither: {len(report.contracts)} contracts analysed in {report.seconds} s "
        f"({MAIN_CONTRACT}: {report.main_contract_functions_with_ir} functions with IR)"
    )
    order = {"High": 0, "Medium": 1, "Low": 2, "Informational": 3, "Optimization": 4}

    def rank(f: Finding) -> tuple[int, str, str]:
        return order.get(f.impact, 9), f.detector, f.location

    for f in sorted(report.findings, key=rank):
        failing = f.impact in FAILING_IMPACTS
        status = "waived" if f.waived_because else ("FAIL" if failing else "note")
        print(f"  [{status:6}] {f.impact:<13} {f.detector:<22} {f.location}  {f.lines}")
    for message in report.ir_failures:
        print(f"  [ir-gap] {message.splitlines()[0]}")
    for w in report.stale_waivers:
        print(f"  [stale ] waiver {w['detector']} @ {w['location']} matches no finding")
    for problem in report.problems:
        print(f"PROBLEM: {problem}")
    print("slither: OK" if report.ok else "slither: FAILED")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    args = parser.parse_args(argv)
    report = analyse()
    _print(report)
    if args.json:
        data = asdict(report)
        data["ok"] = report.ok
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
