"""Compile any Solidity file with the project's own compiler set-up, for `--contract PATH`.

The compiler is the solc-js shim brownie uses (`.solcx/solc-v<version>`, tools/solc-shim.js) and
the settings are read from brownie-config.yaml (version, optimizer, EVM version, remappings),
so `contracts/ChannelManager.sol` compiled here gives the bytecode brownie builds. Results are
cached in build/fuzzing-cache/ under a hash of the settings and of every source the compiler
read; a cache entry is used only while all of those files are unchanged.

`load_channel_manager(path)` is what a campaign calls: it compiles the file, picks the contract
and checks that it has every function of interfaces/IChannelManager.sol. Anything wrong — no
such file, a compile error, no contract, a missing function — raises `ContractSourceError`,
whose message is one line (a command line prints it and exits with status 2).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

from fuzzing.abi import ContractAbi
from fuzzing.artifacts import PROJECT_ROOT, Artifact

CACHE_DIR = PROJECT_ROOT / "build" / "fuzzing-cache"
INTERFACE_PATH = PROJECT_ROOT / "interfaces" / "IChannelManager.sol"
DEFAULT_CONTRACT = PROJECT_ROOT / "contracts" / "ChannelManager.sol"
COMPILE_TIMEOUT_SECONDS = 900


class ContractSourceError(Exception):
    """A Solidity file cannot serve as the contract under test; the message is one line."""


def compiler_settings(config_path: Path = PROJECT_ROOT / "brownie-config.yaml") -> dict[str, Any]:
    """solc version and standard-JSON settings as brownie-config.yaml states them."""
    config = yaml.safe_load(config_path.read_text())["compiler"]
    solc = config["solc"]
    return {
        "version": str(solc["version"]),
        "settings": {
            "evmVersion": config["evm_version"],
            "optimizer": {
                "enabled": bool(solc["optimizer"]["enabled"]),
                "runs": int(solc["optimizer"]["runs"]),
            },
            "remappings": list(solc.get("remappings", [])),
            "outputSelection": {
                "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}
            },
        },
    }


def _compiler_binary(version: str) -> Path:
    folder = Path(os.environ.get("SOLCX_BINARY_PATH", PROJECT_ROOT / ".solcx"))
    binary = folder / f"solc-v{version}"
    if not binary.exists():
        raise ContractSourceError(f"compiler {binary} not found (run `make setup`)")
    return binary


def _unit_name(path: Path) -> str:
    """Source unit name as brownie uses it: relative to the project root when inside it."""
    try:
        return path.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def _unit_file(unit: str) -> Path:
    candidate = Path(unit)
    return candidate if candidate.is_absolute() else PROJECT_ROOT / candidate


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def compile_file(path: str | Path) -> dict[str, Artifact]:
    """Every contract, interface and library defined in `path`, by name (cached)."""
    source = Path(path).expanduser().resolve()
    if not source.is_file():
        raise ContractSourceError(f"{path}: no such Solidity file")
    config = compiler_settings()
    unit = _unit_name(source)
    text = source.read_bytes()
    key = _sha256(json.dumps(config, sort_keys=True).encode() + unit.encode() + b"\0" + text)
    cached = _cache_read(key)
    if cached is None:
        cached = _compile(unit, text.decode(), config)
        _cache_write(key, cached)
    return {
        name: Artifact(
            name=name,
            abi=entry["abi"],
            bytecode=bytes.fromhex(entry["bytecode"]),
            deployed_bytecode=bytes.fromhex(entry["deployed"]),
            source_path=unit,
        )
        for name, entry in cached["contracts"].items()
    }


def _compile(unit: str, text: str, config: dict[str, Any]) -> dict[str, Any]:
    request = {
        "language": "Solidity",
        "sources": {unit: {"content": text}},
        "settings": config["settings"],
    }
    try:
        run = subprocess.run(
            [str(_compiler_binary(config["version"])), "--standard-json"],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            timeout=COMPILE_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ContractSourceError(
            f"{unit}: compiler gave no answer in {COMPILE_TIMEOUT_SECONDS} s"
        ) from None
    try:
        output = json.loads(run.stdout)
    except json.JSONDecodeError:
        detail = (run.stderr or run.stdout).strip().splitlines()
        raise ContractSourceError(
            f"{unit}: compiler failed: {detail[0] if detail else 'no output'}"
        ) from None
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        first = errors[0].get("formattedMessage") or errors[0].get("message", "")
        lines = [line.strip() for line in first.strip().splitlines() if line.strip()]
        location = next((line for line in lines if line.startswith("-->")), "")
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ContractSourceError(f"{unit} does not compile: {lines[0]} {location}{more}".strip())
    contracts = {
        name: {
            "abi": data["abi"],
            "bytecode": data["evm"]["bytecode"]["object"],
            "deployed": data["evm"]["deployedBytecode"]["object"],
        }
        for name, data in output.get("contracts", {}).get(unit, {}).items()
    }
    sources = {}
    for used in output.get("sources", {}):
        file = _unit_file(used)
        sources[used] = _sha256(text.encode()) if used == unit else _sha256(file.read_bytes())
    return {"contracts": contracts, "sources": sources}


def _cache_read(key: str) -> dict[str, Any] | None:
    entry = CACHE_DIR / f"{key}.json"
    if not entry.is_file():
        return None
    try:
        data = json.loads(entry.read_text())
        for unit, digest in data["sources"].items():
            file = _unit_file(unit)
            if not file.is_file() or _sha256(file.read_bytes()) != digest:
                return None  # an imported file changed since
        return data
    except (OSError, ValueError, KeyError):
        return None


def _cache_write(key: str, data: dict[str, Any]) -> None:
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    partial = CACHE_DIR / f"{key}.json.{os.getpid()}"
    partial.write_text(json.dumps(data))
    partial.replace(CACHE_DIR / f"{key}.json")  # atomic: parallel workers may compile too


def compile_contract(path: str | Path, name: str | None = None) -> Artifact:
    """The deployable contract `name` of `path`; without a name, the file's only one."""
    artifacts = compile_file(path)
    deployable = {n: a for n, a in artifacts.items() if a.bytecode}
    if name is not None:
        if name not in artifacts:
            raise ContractSourceError(
                f"{path}: no contract named {name} (found: {', '.join(sorted(artifacts)) or 'none'})"
            )
        if not artifacts[name].bytecode:
            raise ContractSourceError(
                f"{path}: {name} is abstract or an interface, it cannot be deployed"
            )
        return artifacts[name]
    if len(deployable) != 1:
        found = ", ".join(sorted(deployable)) or "none"
        raise ContractSourceError(
            f"{path}: name the contract to test (deployable contracts: {found})"
        )
    return next(iter(deployable.values()))


def missing_functions(candidate: ContractAbi, reference: ContractAbi) -> list[str]:
    """Signatures of `reference`'s functions that `candidate` lacks or declares with other
    outputs (errors and events are not compared: their arguments are the implementer's
    choice, docs/protocol.md §9)."""
    missing = []
    for signature, fn in reference.functions.items():
        if "(" not in signature:
            continue  # plain-name aliases
        mine = candidate.functions.get(signature)
        if mine is None or mine.output_types != fn.output_types:
            missing.append(signature)
    return sorted(missing)


def load_channel_manager(path: str | Path = DEFAULT_CONTRACT, name: str | None = None) -> Artifact:
    """`path` compiled and checked against the IChannelManager ABI. Without `name` the contract
    is `ChannelManager` if the file has one, else the file's only deployable contract."""
    artifacts = compile_file(path)
    if name is None and "ChannelManager" in artifacts:
        name = "ChannelManager"
    artifact = compile_contract(path, name)
    reference = compile_file(INTERFACE_PATH).get("IChannelManager")
    if reference is None:
        raise ContractSourceError(f"{INTERFACE_PATH} defines no IChannelManager")
    missing = missing_functions(artifact.codec, reference.codec)
    if missing:
        shown = ", ".join(missing[:3]) + (
            f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        )
        raise ContractSourceError(
            f"{path}: {artifact.name} lacks the ChannelManager ABI: missing {shown}"
        )
    return artifact
