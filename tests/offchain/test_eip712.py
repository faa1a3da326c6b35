"""channel_manager.eip712: type hashes are docs/protocol.md §3's constants, and the package's encoding
agrees with eth-account's independent EIP-712 implementation for any state."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from eth_account.messages import encode_typed_data
from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st

from channel_manager import eip712
from channel_manager.eip712 import Domain
from tests.offchain.test_states import addresses, channel_states, thread_states

PROTOCOL_CHANNEL_TYPEHASH = "d9f5ad84db769600d023a6638d09e7265a42207f8d5344964b857ca38b156016"
PROTOCOL_THREAD_TYPEHASH = "b3a16cc345d4c95690b27e395450935f83ef9ff7894063f424a644303ca85659"

domains = st.builds(
    Domain, chain_id=st.integers(min_value=1, max_value=2**64), verifying_contract=addresses
)


def test_channel_state_typehash_equals_spec() -> None:
    assert eip712.CHANNEL_STATE_TYPEHASH.hex() == PROTOCOL_CHANNEL_TYPEHASH
    assert keccak(text=eip712.CHANNEL_STATE_TYPE).hex() == PROTOCOL_CHANNEL_TYPEHASH


def test_thread_state_typehash_equals_spec() -> None:
    assert eip712.THREAD_STATE_TYPEHASH.hex() == PROTOCOL_THREAD_TYPEHASH
    assert keccak(text=eip712.THREAD_STATE_TYPE).hex() == PROTOCOL_THREAD_TYPEHASH


def solidity_struct(name: str) -> list[str]:
    """`type name` of each member of struct `name` in the contract's interface, in order."""
    source = (
        Path(__file__).resolve().parents[2] / "interfaces" / "IChannelManager.sol"
    ).read_text()
    body = re.search(rf"struct {name} \{{(.*?)\}}", source, re.S)
    assert body is not None, name
    return [line.strip().rstrip(";") for line in body.group(1).splitlines() if line.strip()]


def test_type_strings_and_eth_account_fields_follow_the_solidity_structs() -> None:
    """The signed type strings (and the eth-account field lists made from them) list the
    interface's struct members in order: a member added, renamed or moved in one place only
    would make every signature the contract checks differ from the ones signed here."""
    for primary, type_string in (
        ("ChannelState", eip712.CHANNEL_STATE_TYPE),
        ("ThreadState", eip712.THREAD_STATE_TYPE),
    ):
        members = solidity_struct(primary)
        assert type_string == f"{primary}({','.join(members)})"
        fields = [f"{f['type']} {f['name']}" for f in eip712.EIP712_TYPES[primary]]
        assert fields == members


def eth_account_encoding(domain: Domain, primary: str, message: dict[str, Any]) -> Any:
    """eth-account's own EIP-712 encoding of `message` as a `primary` struct under `domain`,
    after checking that its domain separator is the package's."""
    signable = encode_typed_data(
        domain_data=domain.as_eth_account_dict(),
        message_types={primary: eip712.EIP712_TYPES[primary]},
        message_data=message,
    )
    assert bytes(signable.header) == domain.separator
    return signable


@given(domains, channel_states)
def test_channel_encoding_agrees_with_eth_account(domain: Domain, state) -> None:
    signable = eth_account_encoding(domain, "ChannelState", eip712.channel_message(state))
    assert bytes(signable.body) == eip712.channel_struct_hash(state)
    assert eip712.channel_digest(domain, state) == keccak(
        b"\x19\x01" + signable.header + signable.body
    )


@given(domains, thread_states)
def test_thread_encoding_agrees_with_eth_account(domain: Domain, state) -> None:
    signable = eth_account_encoding(domain, "ThreadState", eip712.thread_message(state))
    assert bytes(signable.body) == eip712.thread_struct_hash(state)


def test_domain_separator_binds_chain_and_contract() -> None:
    a = Domain(31337, "0x" + "11" * 20)
    assert a.separator != Domain(1, a.verifying_contract).separator
    assert a.separator != Domain(31337, "0x" + "22" * 20).separator
