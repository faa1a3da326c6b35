"""Compiled contracts as the backends take them: a name, an ABI and creation bytecode.

`load_build_artifact` reads brownie's build output (`build/contracts/<Name>.json`, written by
`brownie compile`), so brownie stays the one compile path for the project's own contracts;
`fuzzing.compile` produces the same type from any Solidity file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from fuzzing.abi import ContractAbi

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BUILD_CONTRACTS = PROJECT_ROOT / "build" / "contracts"


class ArtifactError(Exception):
    """A build artifact is missing or unusable (one line, fit for a command line)."""


@dataclass(frozen=True, eq=False)
class Artifact:
    """One contract: `bytecode` is the creation code (constructor arguments are appended)."""

    name: str
    abi: list[dict[str, Any]] = field(repr=False)
    bytecode: bytes = field(repr=False)
    deployed_bytecode: bytes = field(default=b"", repr=False)
    source_path: str = ""

    @cached_property
    def codec(self) -> ContractAbi:
        return ContractAbi(self.abi)


def _hex(text: str) -> bytes:
    text = text.removeprefix("0x")
    if "__" in text:  # an unlinked library placeholder
        raise ArtifactError("bytecode has unlinked library references; link them first")
    return bytes.fromhex(text)


def load_build_artifact(name: str, build_dir: Path = BUILD_CONTRACTS) -> Artifact:
    """`build/contracts/<name>.json` as an Artifact; run `brownie compile` first."""
    path = build_dir / f"{name}.json"
    if not path.is_file():
        raise ArtifactError(f"no build artifact {path} (run `brownie compile`)")
    data = json.loads(path.read_text())
    if not data.get("bytecode"):
        raise ArtifactError(f"{name} in {path} has no bytecode (an interface or abstract contract)")
    return Artifact(
        name=data["contractName"],
        abi=data["abi"],
        bytecode=_hex(data["bytecode"]),
        deployed_bytecode=_hex(data.get("deployedBytecode", "")),
        source_path=data.get("sourcePath", ""),
    )
