"""docs/protocol.md §3 (v3) in the model: a user's or thread sender's key signature that
recovers to its address is accepted whether or not the address has code (an EOA delegated by
EIP-7702 cannot revoke what it signed); only failing that is a signer with code asked through
ERC-1271. Real keys and ECDSA here. No chain."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_keys import keys
from eth_utils import to_checksum_address

from channel_manager import errors as E
from channel_manager import transitions
from channel_manager.devkeys import anvil_key
from channel_manager.eip712 import channel_digest
from channel_manager.model import EcdsaOracle
from tests.offchain.model_world import PERIOD, ModelWorld

HUB, ALICE, BOB, OWNER, OTHER = (Account.from_key(anvil_key(i)).address for i in range(5))
WALLET = to_checksum_address("0x" + "77" * 20)  # a contract wallet with no key of its own
KEYS = {Account.from_key(anvil_key(i)).address: anvil_key(i) for i in range(5)}


def key_signer(digest: bytes, who: str) -> bytes:
    """65-byte r ‖ s ‖ v by `who`'s key; a wallet's state is signed by its owner's key."""
    key = keys.PrivateKey(KEYS[OWNER if who == WALLET else who])
    sig = key.sign_msg_hash(digest)
    return sig.to_bytes()[:64] + bytes([sig.v + 27])


def make_world(erc1271: dict) -> ModelWorld:
    return ModelWorld(hub=HUB, oracle=EcdsaOracle(erc1271), signer=key_signer)


def hub_deposit(w: ModelWorld, user: str):
    return transitions.propose_deposit(w.newest(user), hub_wei=5)


@pytest.mark.parametrize("code", ["none", "delegated-to-a-revoking-wallet"])
def test_user_key_signature_is_accepted_whatever_code_the_address_has(code):
    """Issue M-1: alice delegates (EIP-7702) to code answering every ERC-1271 query "no"; the
    states she signed with her key stay valid. (Asking ERC-1271 first would refuse them.)"""
    w = make_world({ALICE: set()} if code != "none" else {})
    w.fund(ALICE, user_wei=10)
    s = hub_deposit(w, ALICE)
    w.call("hub_authorized_update", HUB, s, w.sign(s, ALICE))
    assert w.model.channel(ALICE).wei_hub == 5


def test_delegated_user_signature_by_another_key_is_refused():
    w = make_world({ALICE: set()})
    w.fund(ALICE, user_wei=10)
    s = hub_deposit(w, ALICE)
    with pytest.raises(E.InvalidUserSignature):
        w.call("hub_authorized_update", HUB, s, w.sign(s, OTHER))


def test_old_state_of_a_delegated_user_still_wins_a_dispute():
    """Property 10.10: the hub answers alice's stale exit with the newest state alice signed
    before delegating; the answer is accepted."""
    w = make_world({})
    acknowledged = w.fund(ALICE, user_wei=10)
    newest = transitions.pay(acknowledged, to_hub=True, wei=8)
    sigs = w.sigs(newest)
    w.oracle.erc1271[ALICE] = set()  # alice delegates to a revoking wallet now
    w.call("start_exit", ALICE, ALICE)
    out = w.call("empty_channel_with_challenge", HUB, newest, *sigs)
    assert out.paid_wei == {ALICE: 2}


def test_thread_sender_key_signature_is_accepted_after_delegation():
    w = make_world({ALICE: set()})
    w.fund(ALICE, user_wei=100)
    w.fund(BOB, hub_wei=100)
    initial = w.open_thread(ALICE, BOB, 1, wei=10)
    w.exit_with_newest(BOB)
    w.call("start_exit_thread", BOB, BOB, initial, w.proof(BOB, initial), w.sign(initial, ALICE))
    assert w.model.thread(ALICE, BOB, 1).closing_time == w.now + PERIOD


def test_contract_wallet_signs_through_erc1271():
    """A true contract wallet (no key): its owner's key signature passes only through the
    wallet's ERC-1271 answer; without the registration (no code) it is refused."""
    w = make_world({WALLET: OWNER})
    w.fund(WALLET, user_wei=10)
    s = hub_deposit(w, WALLET)
    w.call("hub_authorized_update", HUB, s, w.sign(s, WALLET))
    del w.oracle.erc1271[WALLET]
    s2 = transitions.propose_deposit(transitions.acknowledge(s), hub_wei=1)
    with pytest.raises(E.InvalidUserSignature):
        w.call("hub_authorized_update", HUB, s2, w.sign(s2, WALLET))


def test_contract_wallet_signature_of_any_length_is_passed_unchanged():
    w = make_world({WALLET: set()})
    w.fund(WALLET, user_wei=10)
    s = hub_deposit(w, WALLET)
    odd = b"\x05" * 3
    w.oracle.erc1271[WALLET] = {channel_digest(w.model.domain, s) + odd}
    w.call("hub_authorized_update", HUB, s, odd)


def test_hub_is_never_asked_through_erc1271():
    """Even a hub address with code whose wallet would accept the bytes: the hub signs with its
    key only (docs/protocol.md §3)."""
    w = make_world({})
    s = transitions.propose_deposit(w.newest(ALICE), user_wei=1)
    digest = channel_digest(w.model.domain, s)
    w.oracle.erc1271[HUB] = {digest, digest + b"anything"}
    with pytest.raises(E.InvalidHubSignature):
        w.call("user_authorized_update", ALICE, s, b"anything", 1)
