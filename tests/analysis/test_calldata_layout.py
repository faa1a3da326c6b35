"""The calldata layout the contract's assembly relies on.

ChannelManager reads ChannelState and ThreadState straight from calldata at fixed offsets (struct
hashes, `_hasPending`, the `DidUpdateChannel` log). Those offsets follow from the structs' field
order and types in interfaces/IChannelManager.sol. The contract states them once, in the layout
table above that assembly, and marks every read with `layout: <Struct>.<field>[..<field>]`.

These tests fail when the structs and the table disagree (a field added, removed, moved or
retyped), when a marked read's offset or length disagrees with the table, and when a calldata read
through a struct pointer is not marked. No chain is needed; the compiled ABI in build/ is
compared too when it exists.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "contracts" / "ChannelManager.sol"
INTERFACE = ROOT / "interfaces" / "IChannelManager.sol"
BUILD = ROOT / "build" / "contracts" / "ChannelManager.json"
STRUCTS = ("ChannelState", "ThreadState")
WORD = 0x20

_STRUCT = re.compile(r"struct (\w+) \{(.*?)\}", re.S)
_MEMBER = re.compile(r"^\s*(\w+)(?:\[(\d+)\])?\s+(\w+);", re.M)
_TABLE_ROW = re.compile(
    r"^\s*//\s+(ChannelState|ThreadState)\.(\w+)\s+(0x[0-9a-f]+)\s+(\d+)\s*$", re.M
)
_MARK = re.compile(r"layout: (\w+)\.(\w+)(?:\.\.(\w+))?")
_STRUCT_PARAM = re.compile(r"function \w+\((?:ChannelState|ThreadState) calldata (\w+)\)")
_CALLDATA_READ = re.compile(r"calldata(?:load|copy)\(")
_STATIC_TYPES = {"address", "uint256", "bytes32"}


@dataclass(frozen=True)
class Field:
    name: str
    offset: int
    words: int


def struct_layout(source: str) -> dict[str, list[Field]]:
    """Offsets of the state structs' fields as the ABI encodes a static struct: one word per
    value, fixed arrays inline, in declaration order."""
    layouts = {}
    for name, body in _STRUCT.findall(source):
        if name not in STRUCTS:
            continue
        fields, offset = [], 0
        for base, length, member in _MEMBER.findall(body):
            assert base in _STATIC_TYPES, f"{name}.{member}: {base} is not a one-word static type"
            words = int(length or 1)
            fields.append(Field(member, offset, words))
            offset += words * WORD
        layouts[name] = fields
    assert set(layouts) == set(STRUCTS), f"structs found: {sorted(layouts)}"
    return layouts


def table_layout(source: str) -> dict[str, list[Field]]:
    """The layout table written in the contract's comments."""
    table: dict[str, list[Field]] = {name: [] for name in STRUCTS}
    for struct, field, offset, words in _TABLE_ROW.findall(source):
        table[struct].append(Field(field, int(offset, 16), int(words)))
    return table


def _pointer(line: str, current: str | None) -> str | None:
    """The calldata state-struct parameter of the function a line belongs to (a new `function`
    header resets it)."""
    if "function " not in line:
        return current
    header = _STRUCT_PARAM.search(line)
    return header.group(1) if header else None


@dataclass(frozen=True)
class Read:
    line_no: int
    text: str
    struct: str
    first: str
    last: str
    pointer: str


def marked_reads(source: str) -> list[Read]:
    """Every marked line: the mark on the line itself, or on a comment line just above it.
    The struct pointer is the calldata struct parameter of the enclosing function."""
    reads, pointer, pending = [], None, None
    for number, line in enumerate(source.splitlines(), 1):
        pointer = _pointer(line, pointer)
        mark = _MARK.search(line)
        code = line.split("//")[0]
        if mark and not code.strip():
            pending = mark  # a comment line: the mark is for the next line
            continue
        mark = mark or pending
        pending = None
        if mark:
            struct, first, last = mark.group(1), mark.group(2), mark.group(3) or mark.group(2)
            reads.append(Read(number, code.strip(), struct, first, last, pointer or "?"))
    return reads


def _copy_length(code: str) -> int | None:
    """The length argument of a `calldatacopy(dest, source, length)` on the line, if any."""
    start = code.find("calldatacopy(")
    if start < 0:
        return None
    args, depth, current = [], 0, ""
    for char in code[start + len("calldatacopy(") :]:
        if char == "," and depth == 0:
            args.append(current.strip())
            current = ""
            continue
        if char == ")" and depth == 0:
            break
        depth += {"(": 1, ")": -1}.get(char, 0)
        current += char
    args.append(current.strip())
    return int(args[2], 16)


def _span(fields: list[Field], first: str, last: str) -> tuple[int, int]:
    by_name = {f.name: f for f in fields}
    assert first in by_name and last in by_name, f"unknown field {first} or {last}"
    names = [f.name for f in fields]
    assert names.index(first) <= names.index(last), f"{first}..{last} runs backwards"
    start = by_name[first].offset
    return start, by_name[last].offset + by_name[last].words * WORD


def layout_errors(contract: str, interface: str) -> list[str]:
    """Every disagreement between the interface's structs, the table and the marked reads."""
    errors = []
    structs, table = struct_layout(interface), table_layout(contract)
    for name in STRUCTS:
        if table[name] != structs[name]:
            errors.append(f"layout table of {name} {table[name]} != interface {structs[name]}")
    for read in marked_reads(contract):
        where = f"line {read.line_no} ({read.text})"
        if read.struct not in structs:
            errors.append(f"{where}: unknown struct {read.struct}")
            continue
        try:
            start, end = _span(structs[read.struct], read.first, read.last)
        except AssertionError as exc:
            errors.append(f"{where}: {exc}")
            continue
        offsets = [
            int(x, 16)
            for x in re.findall(rf"add\({re.escape(read.pointer)}, (0x[0-9a-f]+)\)", read.text)
        ]
        if not offsets:
            errors.append(f"{where}: no read at an offset from the struct pointer `{read.pointer}`")
            continue
        if offsets[0] != start:
            errors.append(
                f"{where}: reads {read.struct}.{read.first} at {offsets[0]:#x}, the table says {start:#x}"
            )
        if len(offsets) > 1 and offsets[1] != end:  # a loop bound: the end of the span
            errors.append(
                f"{where}: stops at {offsets[1]:#x}, {read.struct}.{read.last} ends at {end:#x}"
            )
        copied = _copy_length(read.text)
        if copied is not None and copied != end - start:
            errors.append(
                f"{where}: copies {copied:#x} bytes, {read.struct}.{read.first}..{read.last} is {end - start:#x}"
            )
        if "calldataload" in read.text and end - start != WORD:
            errors.append(
                f"{where}: loads one word, {read.first}..{read.last} is {end - start:#x} bytes"
            )
    return errors


def unmarked_reads(contract: str) -> list[str]:
    """Calldata reads at a literal offset from a state-struct pointer that carry no mark."""
    marked = {r.line_no for r in marked_reads(contract)}
    found, pointer = [], None
    for number, line in enumerate(contract.splitlines(), 1):
        pointer = _pointer(line, pointer)
        code = line.split("//")[0]
        if (
            pointer
            and _CALLDATA_READ.search(code)
            and f"add({pointer}, 0x" in code
            and number not in marked
        ):
            found.append(f"line {number}: {code.strip()}")
        if pointer and re.search(rf"let \w+ := add\({pointer}, 0x", code) and number not in marked:
            found.append(f"line {number}: {code.strip()}")
    return found


# ---------------------------------------------------------------------------- the contract


def test_the_layout_table_matches_the_interface_structs():
    structs, table = struct_layout(INTERFACE.read_text()), table_layout(CONTRACT.read_text())
    for name in STRUCTS:
        assert table[name] == structs[name], name


def test_every_marked_assembly_read_matches_the_table():
    reads = marked_reads(CONTRACT.read_text())
    assert len(reads) >= 12, reads  # both struct hashes, _hasPending, DidUpdateChannel
    assert {r.struct for r in reads} == set(STRUCTS)
    assert layout_errors(CONTRACT.read_text(), INTERFACE.read_text()) == []


def test_no_calldata_read_of_a_state_struct_is_unmarked():
    assert unmarked_reads(CONTRACT.read_text()) == []


def test_the_compiled_abi_has_the_interface_field_order():
    if not BUILD.exists():
        pytest.skip("build/contracts/ChannelManager.json missing (run brownie compile)")
    abi = json.loads(BUILD.read_text())["abi"]
    structs = struct_layout(INTERFACE.read_text())
    for function, struct in (
        ("channelStateDigest", "ChannelState"),
        ("threadStateDigest", "ThreadState"),
    ):
        (entry,) = [e for e in abi if e.get("name") == function]
        components = entry["inputs"][0]["components"]
        assert [c["name"] for c in components] == [f.name for f in structs[struct]]
        words = [int(c["type"].split("[")[1][:-1]) if "[" in c["type"] else 1 for c in components]
        assert words == [f.words for f in structs[struct]]


def test_did_update_channel_data_is_the_state_words_it_copies():
    """`_emitDidUpdateChannel` logs `caller` then ChannelState.weiBalances..threadCount as they
    sit in calldata: the event's data parameters must be those fields, in that order."""
    interface = INTERFACE.read_text()
    event = re.search(r"event DidUpdateChannel\((.*?)\);", interface, re.S).group(1)
    params = [p.split()[-1] for p in event.split(",") if "indexed" not in p]
    fields = [f.name for f in struct_layout(interface)["ChannelState"]]
    assert params == [
        "caller",
        *fields[fields.index("weiBalances") : fields.index("threadCount") + 1],
    ]


# ---------------------------------------------------------------------------- the checker


def _swap_members(interface: str, struct: str, a: str, b: str) -> str:
    body = re.search(rf"struct {struct} \{{(.*?)\}}", interface, re.S).group(1)
    lines = body.splitlines()
    i = next(n for n, line in enumerate(lines) if re.search(rf"\s{a};", line))
    j = next(n for n, line in enumerate(lines) if re.search(rf"\s{b};", line))
    lines[i], lines[j] = lines[j], lines[i]
    return interface.replace(body, "\n".join(lines))


@pytest.mark.parametrize(
    ("struct", "a", "b"),
    [
        ("ChannelState", "weiBalances", "tokenBalances"),
        ("ChannelState", "threadRoot", "timeout"),
        ("ThreadState", "threadId", "txCount"),
    ],
)
def test_a_reordered_struct_is_caught(struct, a, b):
    interface = _swap_members(INTERFACE.read_text(), struct, a, b)
    assert interface != INTERFACE.read_text()
    assert any(
        f"layout table of {struct}" in e for e in layout_errors(CONTRACT.read_text(), interface)
    )


def test_a_retyped_field_is_caught():
    interface = INTERFACE.read_text().replace(
        "uint256[4] pendingWeiUpdates;", "uint256[3] pendingWeiUpdates;"
    )
    errors = layout_errors(CONTRACT.read_text(), interface)
    assert any("layout table of ChannelState" in e for e in errors)
    assert any("ChannelState.pendingWeiUpdates" in e and "0x60" in e for e in errors)


def test_a_moved_assembly_offset_is_caught():
    contract = CONTRACT.read_text().replace(
        "add(s, 0x1c0), 0x40) // layout", "add(s, 0x1a0), 0x40) // layout"
    )
    assert contract != CONTRACT.read_text()
    assert any("txCount at 0x1a0" in e for e in layout_errors(contract, INTERFACE.read_text()))


def test_a_short_copy_is_caught():
    contract = CONTRACT.read_text().replace(
        "add(s, 0x200), 0x60) // layout", "add(s, 0x200), 0x40) // layout"
    )
    assert contract != CONTRACT.read_text()
    assert any("copies 0x40 bytes" in e for e in layout_errors(contract, INTERFACE.read_text()))


def test_an_unmarked_read_is_caught():
    contract = CONTRACT.read_text().replace(" // layout: ThreadState.txCount", "")
    assert contract != CONTRACT.read_text()
    assert any("calldataload(add(t, 0xe0))" in e for e in unmarked_reads(contract))
