"""docs/encoding.md against channel_manager: the type strings, the abbreviated type hashes and
every row of the worked vector (inputs, hashes, digests, signatures, root), recomputed exactly.

A row the test does not recompute fails it too, so the vector cannot grow unchecked. Reading
files only: no chain needed.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from eth_account import Account

from channel_manager import eip712
from channel_manager.devkeys import anvil_key
from channel_manager.eip712 import Domain
from channel_manager.merkle import MerkleTree
from channel_manager.signing import sign_channel_state, sign_thread_state
from channel_manager.states import ChannelState, ThreadState

DOC = Path(__file__).resolve().parents[2] / "docs" / "encoding.md"
NUMBER = re.compile(r"(\d+)(?:e(\d+))?")

CHANNEL_INPUTS = {
    "user": "user",
    "recipient": "recipient",
    "weiBalances": "wei_balances",
    "tokenBalances": "token_balances",
    "pendingWeiUpdates": "pending_wei_updates",
    "pendingTokenUpdates": "pending_token_updates",
    "txCount": "tx_count",
    "threadRoot": "thread_root",
    "threadCount": "thread_count",
    "timeout": "timeout",
}
THREAD_INPUTS = {
    "sender": "sender",
    "receiver": "receiver",
    "threadId": "thread_id",
    "weiBalances": "wei_balances",
    "tokenBalances": "token_balances",
    "txCount": "tx_count",
}


def section(title: str, level: str = "##") -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"\n{level} {title}\n")
    end = text.find(f"\n{level} ", start + 1)
    return text[start : end if end != -1 else len(text)]


def table(title: str) -> dict[str, str]:
    """`| label | `value` |` rows of a '### title' part of the worked vector, label → value."""
    rows = {}
    for line in section(title, "###").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 2 and cells[1].startswith("`"):
            rows[cells[0]] = cells[1].strip("`")
    assert rows, f"no rows under '### {title}' in docs/encoding.md"
    return rows


def number(text: str) -> int:
    """`31337`, `1e18`, `50e18` → int (exact: no float in between)."""
    match = NUMBER.fullmatch(text.strip())
    assert match, f"not a whole number: {text!r}"
    return int(match.group(1)) * 10 ** int(match.group(2) or 0)


def value(text: str) -> object:
    if text.startswith("["):
        return tuple(number(item) for item in text.strip("[]").split(","))
    if text.startswith("0x"):
        return text
    return number(text)


def state_fields(rows: dict[str, str], names: dict[str, str]) -> dict[str, object]:
    return {field: value(rows.pop(label)) for label, field in names.items()}


def hex_of(data: bytes) -> str:
    return "0x" + bytes(data).hex()


def address_of_account(index: int) -> str:
    return Account.from_key(anvil_key(index)).address


def test_type_strings_are_the_package_s():
    block = section("Types (docs/protocol.md §3.1)").split("```")[1].strip().splitlines()
    assert block == [eip712.CHANNEL_STATE_TYPE, eip712.THREAD_STATE_TYPE]


def test_abbreviated_type_hashes_are_the_package_s():
    text = section("Types (docs/protocol.md §3.1)")
    shown = re.findall(r"`0x([0-9a-f]+)…([0-9a-f]+)`", text)
    full = [eip712.CHANNEL_STATE_TYPEHASH.hex(), eip712.THREAD_STATE_TYPEHASH.hex()]
    assert len(shown) == 2
    for (head, tail), typehash in zip(shown, full, strict=True):
        assert typehash.startswith(head) and typehash.endswith(tail), (head, tail, typehash)


def domain_of(rows: dict[str, str]) -> Domain:
    return Domain(number(rows.pop("chainId")), rows.pop("verifyingContract"))


def test_worked_vector_domain():
    rows = table("Domain")
    domain = domain_of(rows)
    assert rows.pop("domain separator") == hex_of(domain.separator)
    assert not rows, f"rows not checked: {sorted(rows)}"


def test_worked_vector_channel_state():
    domain = domain_of(table("Domain"))
    rows = table("Channel state")
    state = ChannelState(**state_fields(rows, CHANNEL_INPUTS))
    assert rows.pop("hub (account 0)") == address_of_account(0)
    assert address_of_account(1) == state.user
    assert rows.pop("struct hash") == hex_of(eip712.channel_struct_hash(state))
    assert rows.pop("digest") == hex_of(eip712.channel_digest(domain, state))
    signed_by_user = sign_channel_state(anvil_key(1), domain, state)
    assert rows.pop("user's signature (account 1)") == hex_of(signed_by_user)
    signed_by_hub = sign_channel_state(anvil_key(0), domain, state)
    assert rows.pop("hub's signature (account 0)") == hex_of(signed_by_hub)
    assert not rows, f"rows not checked: {sorted(rows)}"


def test_worked_vector_thread_state():
    domain = domain_of(table("Domain"))
    rows = table("Thread state")
    state = ThreadState(**state_fields(rows, THREAD_INPUTS))
    assert address_of_account(1) == state.sender
    assert rows.pop("leaf (struct hash)") == hex_of(eip712.thread_struct_hash(state))
    assert rows.pop("digest") == hex_of(eip712.thread_digest(domain, state))
    signed = sign_thread_state(anvil_key(1), domain, state)
    assert rows.pop("sender's signature (account 1)") == hex_of(signed)
    pair = MerkleTree.of_threads([state, dataclasses.replace(state, thread_id=2)])
    assert rows.pop("root of this state and its copy with threadId 2") == hex_of(pair.root)
    assert not rows, f"rows not checked: {sorted(rows)}"
