"""Paths and small helpers shared by the sharded-campaign tests."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = str(VENV_PYTHON if VENV_PYTHON.exists() else Path(sys.executable))
SCRIPT = str(ROOT / "research" / "campaign.py")
V3_CONTRACT = ROOT / "contracts" / "ChannelManager.sol"
PRE_V3_CONTRACT = ROOT / "fuzz_targets" / "pre_v3_0e20cbd" / "contracts" / "ChannelManager.sol"
TIMEOUT = 300


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def verdict_line(run: subprocess.CompletedProcess) -> str:
    lines = run.stdout.strip().splitlines()
    assert lines, f"no output; stderr:\n{run.stderr}"
    return lines[-1]


def command_after(heading: str, text: str) -> str:
    """The command printed on the line after the first line starting with `heading`."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(heading):
            return lines[i + 1].strip()
    raise AssertionError(f"no {heading!r} in the output:\n{text}")
