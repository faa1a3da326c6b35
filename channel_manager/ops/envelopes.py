"""The signed-state envelope: one channel or thread state and its signatures in a JSON file,
as the scripts read and write it (docs/operations.md).

    {"kind": "channel", "state": {<ChannelState.to_json_dict()>},
     "sig_hub": "0x…", "sig_user": "0x…",            # either may be absent where not needed
     "chain_id": 31337, "contract": "0x…"}           # optional: checked when present

    {"kind": "thread", "state": {<ThreadState.to_json_dict()>}, "sig": "0x…",   # sender's
     "proof": ["0x…", …],                            # initial states: merkle proof in the root
     "chain_id": 31337, "contract": "0x…"}
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from channel_manager.eip712 import Domain
from channel_manager.ops import OpsError
from channel_manager.ops.inputs import parse_address
from channel_manager.states import ChannelState, ThreadState


@dataclass(frozen=True)
class Envelope:
    """A signed state read from a JSON file."""

    kind: str  # "channel" | "thread"
    state: ChannelState | ThreadState
    sig_hub: bytes | None = None  # channel
    sig_user: bytes | None = None  # channel
    sig: bytes | None = None  # thread (sender's)
    proof: tuple[bytes, ...] = ()  # thread initial state: proof in the channel's root
    chain_id: int | None = None
    contract: str | None = None
    source: str = "<envelope>"

    @property
    def channel(self) -> ChannelState:
        if not isinstance(self.state, ChannelState):
            raise OpsError(f"{self.source}: expected a channel state, got a {self.kind} state")
        return self.state

    @property
    def thread(self) -> ThreadState:
        if not isinstance(self.state, ThreadState):
            raise OpsError(f"{self.source}: expected a thread state, got a {self.kind} state")
        return self.state


def _hex(data: bytes | None) -> str | None:
    return None if data is None else "0x" + bytes(data).hex()


def channel_envelope(
    state: ChannelState,
    sig_hub: bytes | None = None,
    sig_user: bytes | None = None,
    domain: Domain | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "channel", "state": state.to_json_dict()}
    if sig_hub is not None:
        out["sig_hub"] = _hex(sig_hub)
    if sig_user is not None:
        out["sig_user"] = _hex(sig_user)
    if domain is not None:
        out["chain_id"], out["contract"] = domain.chain_id, domain.verifying_contract
    return out


def thread_envelope(
    state: ThreadState,
    sig: bytes,
    proof: Sequence[bytes] = (),
    domain: Domain | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "thread", "state": state.to_json_dict(), "sig": _hex(sig)}
    if proof:
        out["proof"] = [_hex(p) for p in proof]
    if domain is not None:
        out["chain_id"], out["contract"] = domain.chain_id, domain.verifying_contract
    return out


def _bytes(value: Any, what: str, length: int | None = None) -> bytes:
    if not isinstance(value, str) or not re.fullmatch(r"0x([0-9a-fA-F]{2})*", value):
        raise ValueError(f"{what} must be a 0x-prefixed hex string")
    raw = bytes.fromhex(value[2:])
    if length is not None and len(raw) != length:
        raise ValueError(f"{what} must be {length} bytes, got {len(raw)}")
    return raw


def parse_envelope(data: Any, source: str = "<envelope>") -> Envelope:
    try:
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        known = {"kind", "state", "sig_hub", "sig_user", "sig", "proof", "chain_id", "contract"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}")
        kind = data.get("kind")
        if "state" not in data or not isinstance(data["state"], dict):
            raise ValueError("missing `state` object")
        chain_id = int(data["chain_id"]) if data.get("chain_id") is not None else None
        contract = parse_address(data["contract"], "contract") if data.get("contract") else None
        if kind == "channel":
            state: ChannelState | ThreadState = ChannelState.from_json_dict(data["state"])
            sigs = {
                k: _bytes(data[k], k) if data.get(k) is not None else None
                for k in ("sig_hub", "sig_user")
            }
            if "sig" in data or "proof" in data:
                raise ValueError("`sig` and `proof` belong to thread envelopes")
            return Envelope(
                kind, state, sigs["sig_hub"], sigs["sig_user"], None, (), chain_id, contract, source
            )
        if kind == "thread":
            state = ThreadState.from_json_dict(data["state"])
            if data.get("sig") is None:
                raise ValueError("missing the sender's signature `sig`")
            sig = _bytes(data["sig"], "sig")
            proof = tuple(_bytes(p, "proof element", 32) for p in data.get("proof") or [])
            if "sig_hub" in data or "sig_user" in data:
                raise ValueError("`sig_hub` and `sig_user` belong to channel envelopes")
            return Envelope(kind, state, None, None, sig, proof, chain_id, contract, source)
        raise ValueError(f'`kind` must be "channel" or "thread", got {kind!r}')
    except OpsError as exc:
        raise OpsError(f"{source}: {exc}") from None
    except (ValueError, TypeError, KeyError) as exc:
        raise OpsError(f"{source}: not a valid state envelope: {exc}") from None


def load_envelope(path: str | Path) -> Envelope:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise OpsError(f"state file {path}: cannot be read ({exc.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OpsError(
            f"state file {path} does not parse as JSON: {exc.msg} at line {exc.lineno}"
        ) from None
    return parse_envelope(data, f"state file {path}")


def write_envelope(path: str | Path, envelope: Mapping[str, Any]) -> None:
    Path(path).write_text(json.dumps(envelope, indent=2) + "\n")
