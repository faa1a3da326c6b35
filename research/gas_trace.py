"""Where an operation's gas goes: splits one transaction's gasUsed into cost classes from an
opcode trace (`debug_traceTransaction`, geth struct logs), so the gas report can tell the part
an implementation controls from the part the operation itself imposes.

A plain module with no brownie import; `research/gas_benchmark.py --breakdown` feeds it traces.

Each step of the contract's own frame (depth 1) is charged what it really cost: the drop in
remaining gas to the next step of that frame, so a CALL is charged everything its callee spent.
The classes:

- intrinsic — 21,000 plus calldata (and 32,000 + init code for a deployment): fixed by the
  transaction before any code runs;
- token — every call to the approved token (transfer, transferFrom, balanceOf);
- eth — calls that send value (payouts, withdrawals);
- signature — the ecrecover precompile, and EXTCODESIZE (docs/protocol.md §3 asks whether a signer has
  code before choosing ERC-1271 or a key);
- storage — SLOAD and SSTORE, before refunds; refund — what the chain gave back for cleared
  slots (negative);
- events — LOG0…LOG4; hashing — KECCAK256; guard — TLOAD/TSTORE (re-entrance guard);
- computation — everything else: stack, memory, calldata reads, jumps, other calls.

`intrinsic + token + eth` is what the operation costs before the contract checks, stores or
logs anything: a lower bound for any implementation that makes the same transfers from the same
calldata (the interface is fixed by docs/protocol.md §9, the calldata by BENCHMARK.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

CLASSES = (
    "intrinsic", "token", "eth", "signature", "storage", "refund", "events", "hashing",
    "guard", "computation",
)  # fmt: skip

ECRECOVER = 1
_CALLS = {"CALL", "CALLCODE", "DELEGATECALL", "STATICCALL"}
_STORAGE = {"SLOAD", "SSTORE"}
_EVENTS = {"LOG0", "LOG1", "LOG2", "LOG3", "LOG4"}
_GUARD = {"TLOAD", "TSTORE"}


def _stack_word(step: Mapping[str, Any], depth_from_top: int) -> int:
    """Stack entry `depth_from_top` (1 = top) of a struct-log step, as an int."""
    value = step["stack"][-depth_from_top]
    return int(value, 16) if isinstance(value, str) else int(value)


def _classify(step: Mapping[str, Any], token: int) -> str:
    op = step["op"]
    if op in _STORAGE:
        return "storage"
    if op in _EVENTS:
        return "events"
    if op == "KECCAK256" or op == "SHA3":
        return "hashing"
    if op in _GUARD:
        return "guard"
    if op == "EXTCODESIZE":
        return "signature"
    if op in _CALLS:
        target = _stack_word(step, 2)
        if target == token:
            return "token"
        if target == ECRECOVER:
            return "signature"
        if op in ("CALL", "CALLCODE") and _stack_word(step, 3) != 0:
            return "eth"
    return "computation"


def breakdown(
    struct_logs: Iterable[Mapping[str, Any]],
    *,
    gas_limit: int,
    gas_used: int,
    token: str,
    code_deposit: int = 0,
) -> dict[str, int]:
    """Split `gas_used` of one transaction into CLASSES (plus `code_deposit` for a deployment,
    whose 200 gas per runtime byte is charged after the trace ends).

    The classes always sum to `gas_used`; `refund` is derived as the remainder and is ≤ 0.
    """
    steps = list(struct_logs)
    parts = dict.fromkeys(CLASSES, 0)
    if code_deposit:
        parts["code deposit"] = code_deposit
    if not steps:
        parts["intrinsic"] = gas_used - code_deposit
        return parts
    token_address = int(token, 16)
    parts["intrinsic"] = gas_limit - int(steps[0]["gas"])
    top = [s for s in steps if int(s["depth"]) == 1]
    for step, following in zip(top, [*top[1:], None], strict=False):
        if following is None:
            cost = int(step["gasCost"])  # the frame's last step (STOP/RETURN)
        else:
            cost = int(step["gas"]) - int(following["gas"])
        parts[_classify(step, token_address)] += cost
    spent = sum(v for k, v in parts.items() if k != "refund")
    parts["refund"] = gas_used - spent
    if parts["refund"] > 0:
        raise ValueError(f"trace accounts for {spent:,} gas but the receipt says {gas_used:,}")
    return parts


def floor(parts: Mapping[str, int]) -> int | None:
    """Cost of the operation before the contract checks, stores or logs anything; None for a
    deployment, whose cost is mostly the code itself (init code calldata, 200 gas per byte)."""
    if "code deposit" in parts:
        return None
    return parts["intrinsic"] + parts["token"] + parts["eth"]


def format_breakdown(
    rows: Mapping[int, Mapping[str, int]],
    names: Mapping[int, str],
    gas: Mapping[int, int],
    targets: Mapping[int, int],
) -> str:
    """One line per operation: gasUsed, each class, the floor, and target / floor."""
    shown = CLASSES
    header = (
        f"{'#':>2}  {'operation':<30} {'gasUsed':>9} "
        + " ".join(f"{c[:8]:>8}" for c in shown)
        + f" {'floor':>9} {'0.70xtgt':>9}"
    )
    lines = [header, "-" * len(header)]
    for n in sorted(rows):
        parts = rows[n]
        goal = int(targets[n] * 0.70)
        least = floor(parts)
        mark = "  floor > goal" if least is not None and least > goal else ""
        shown_floor = "-" if least is None else f"{least:,}"
        lines.append(
            f"{n:>2}  {names[n][:30]:<30} {gas[n]:>9,} "
            + " ".join(f"{parts[c]:>8,}" for c in shown)
            + f" {shown_floor:>9} {goal:>9,}{mark}"
        )
    for n in sorted(rows):
        if "code deposit" in rows[n]:
            lines.append(
                f"#{n}: plus the code deposit (200 gas per runtime byte), "
                f"{rows[n]['code deposit']:,}"
            )
    return "\n".join(lines)
