"""Revert data decoded into the contract's own words (`InsufficientReserve: …`), so a refused
simulation names the broken rule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eth_abi import decode
from eth_utils import function_abi_to_4byte_selector


def error_registry(
    abis: Sequence[Sequence[Mapping[str, Any]]],
) -> dict[bytes, tuple[str, list[str]]]:
    registry: dict[bytes, tuple[str, list[str]]] = {
        bytes.fromhex("08c379a0"): ("Error", ["string"]),
        bytes.fromhex("4e487b71"): ("Panic", ["uint256"]),
    }
    for abi in abis:
        for item in abi:
            if item.get("type") == "error":
                types = [i["type"] for i in item.get("inputs", [])]
                as_function = {
                    "type": "function",
                    "name": item["name"],
                    "inputs": item.get("inputs", []),
                }
                registry[function_abi_to_4byte_selector(as_function)] = (item["name"], types)
    return registry


def revert_data(exc: BaseException) -> str | None:
    """The revert data a node returned with a failed call, if any (web3 puts it in `.data`)."""
    data = getattr(exc, "data", None)
    if isinstance(data, Mapping):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        return data
    for arg in getattr(exc, "args", ()):
        if isinstance(arg, str) and arg.startswith("0x") and len(arg) >= 10:
            return arg
        if isinstance(arg, Mapping) and isinstance(arg.get("data"), str):
            return str(arg["data"])
    return None


def decode_revert(data: str | None, abis: Sequence[Sequence[Mapping[str, Any]]]) -> str | None:
    """`Name: arg, …` for revert data of a known error; None when there is nothing to decode."""
    if not data or len(data) < 10:
        return None
    raw = bytes.fromhex(data[2:])
    known = error_registry(abis).get(raw[:4])
    if known is None:
        return f"unknown error 0x{raw[:4].hex()}"
    name, types = known
    try:
        values = decode(types, raw[4:])
    except Exception:
        return name
    if name == "Error":
        return str(values[0])
    shown = [v.lower() if isinstance(v, str) and v.startswith("0x") else str(v) for v in values]
    return f"{name}: {', '.join(shown)}" if shown else name
