"""Static analysis gate: slither on ChannelManager through tools/run_slither.py (the same code a
person runs), offline with the project's compiler. Fails on an unwaived High/Medium finding,
on a wrong target (ChannelManager not analysed) and on a parse gap in our own code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tools" / "run_slither.py"


def test_slither_finds_no_unwaived_high_or_medium_issue(tmp_path):
    out = tmp_path / "slither.json"
    proc = subprocess.run(
        [sys.executable, str(RUNNER), "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(proc.stdout)
    assert out.exists(), f"slither did not run:\n{proc.stdout}\n{proc.stderr[-3000:]}"
    report = json.loads(out.read_text())
    assert "ChannelManager" in report["contracts"], report["contracts"]
    assert report["main_contract_functions_with_ir"] > 0
    assert report["problems"] == [], "\n".join(report["problems"])
    assert proc.returncode == 0, proc.stdout
