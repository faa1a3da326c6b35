"""Chain-backed property test (docs/protocol.md §3): for generated states over full uint256 ranges, the
package's EIP-712 digest equals the contract's view, and eth-account's typed-data signature of
it recovers (through the ecrecover precompile) to the signing key."""

from __future__ import annotations

from brownie import chain, web3
from brownie.test import given, strategy
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import to_checksum_address
from hypothesis import settings

from channel_manager.eip712 import (
    EIP712_TYPES,
    Domain,
    channel_digest,
    channel_message,
    thread_digest,
)
from channel_manager.states import ChannelState, ThreadState
from tests.helpers import anvil_key

ECRECOVER = "0x0000000000000000000000000000000000000001"


def precompile_recover(digest: bytes, signature: bytes) -> str:
    """ecrecover run by the chain itself (an eth_call to precompile 0x01)."""
    r, s, v = signature[:32], signature[32:64], signature[64]
    data = digest + v.to_bytes(32, "big") + r + s
    out = web3.eth.call({"to": ECRECOVER, "data": "0x" + data.hex()})
    return to_checksum_address(bytes(out)[-20:])


@given(
    user=strategy("bytes20"),
    recipient=strategy("bytes20"),
    wei=strategy("uint256[2]"),
    tokens=strategy("uint256[2]"),
    pending_wei=strategy("uint256[4]"),
    pending_token=strategy("uint256[4]"),
    tx_count=strategy("uint256[2]"),
    root=strategy("bytes32"),
    thread_count=strategy("uint256"),
    timeout=strategy("uint256"),
)
@settings(max_examples=30)
def test_channel_digest_matches_contract_and_signature_recovers(
    manager,
    alice,
    user,
    recipient,
    wei,
    tokens,
    pending_wei,
    pending_token,
    tx_count,
    root,
    thread_count,
    timeout,
):
    state = ChannelState(
        to_checksum_address(user),
        to_checksum_address(recipient),
        wei,
        tokens,
        pending_wei,
        pending_token,
        tx_count,
        bytes(root),
        thread_count,
        timeout,
    )
    domain = Domain(chain.id, manager.address)
    on_chain = bytes(manager.channelStateDigest(state.to_tuple()))
    assert on_chain == channel_digest(domain, state)

    signable = encode_typed_data(
        domain_data=domain.as_eth_account_dict(),
        message_types={"ChannelState": EIP712_TYPES["ChannelState"]},
        message_data=channel_message(state),
    )
    signed = Account.sign_message(signable, anvil_key(1))
    assert bytes(signed.message_hash) == on_chain
    assert precompile_recover(on_chain, bytes(signed.signature)) == alice


@given(
    sender=strategy("bytes20"),
    receiver=strategy("bytes20"),
    thread_id=strategy("uint256"),
    wei=strategy("uint256[2]"),
    tokens=strategy("uint256[2]"),
    tx_count=strategy("uint256"),
)
@settings(max_examples=30)
def test_thread_digest_matches_contract(
    manager, sender, receiver, thread_id, wei, tokens, tx_count
):
    state = ThreadState(
        to_checksum_address(sender), to_checksum_address(receiver), thread_id, wei, tokens, tx_count
    )
    expected = thread_digest(Domain(chain.id, manager.address), state)
    assert bytes(manager.threadStateDigest(state.to_tuple())) == expected
