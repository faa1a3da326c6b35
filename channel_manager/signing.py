"""Signing with eth-account's EIP-712 support; every signature is recovered before it is returned.

Signatures are 65 bytes `r ‖ s ‖ v` with v ∈ {27, 28} and low s, the only form the contract
accepts from a key.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_keys.datatypes import Signature as EcdsaSignature

from channel_manager.aliases import Signature
from channel_manager.eip712 import (
    EIP712_TYPES,
    Domain,
    channel_digest,
    channel_message,
    thread_digest,
    thread_message,
)
from channel_manager.states import ChannelState, ThreadState

# Order of the secp256k1 group: OpenZeppelin's ECDSA accepts only s <= n/2 (no malleable twin).
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class SigningError(Exception):
    """eth-account produced a signature that does not recover to the key's address."""


def _sign(
    private_key: bytes | str, domain: Domain, primary: str, message: dict[str, Any], digest: bytes
) -> Signature:
    signable = encode_typed_data(
        domain_data=domain.as_eth_account_dict(),
        message_types={primary: EIP712_TYPES[primary]},
        message_data=message,
    )
    signed = Account.sign_message(signable, private_key)
    signature = Signature(bytes(signed.signature))
    # eth-account hashed the typed data itself: it must agree with our mirror of the contract.
    if bytes(signed.message_hash) != digest:
        raise SigningError("eth-account's EIP-712 digest differs from channel_manager.eip712")
    expected = Account.from_key(private_key).address
    if recover(digest, signature) != expected:
        raise SigningError("signature does not recover to the signing key")
    return signature


def sign_channel_state(private_key: bytes | str, domain: Domain, state: ChannelState) -> Signature:
    return _sign(
        private_key, domain, "ChannelState", channel_message(state), channel_digest(domain, state)
    )


def sign_thread_state(private_key: bytes | str, domain: Domain, state: ThreadState) -> Signature:
    return _sign(
        private_key, domain, "ThreadState", thread_message(state), thread_digest(domain, state)
    )


def recover(digest: bytes, signature: bytes) -> str:
    """Address that signed `digest`; raises ValueError unless the signature is 65 bytes with
    v ∈ {27, 28} (the form the contract accepts; eth-keys rejects high s)."""
    if len(signature) != 65 or signature[64] not in (27, 28):
        raise ValueError("signature must be 65 bytes r ‖ s ‖ v with v in {27, 28}")
    vrs = signature[:64] + bytes([signature[64] - 27])
    return EcdsaSignature(vrs).recover_public_key_from_msg_hash(digest).to_checksum_address()


class WrongSigner(ValueError):
    """A signature that is malformed or recovers to someone other than the party that must sign;
    the message names the party's role (`the hub's signature recovers to …`)."""


def check_signer(digest: bytes, signature: bytes, expected: str, role: str) -> None:
    """`signature` is a 65-byte ECDSA signature of `digest` by `expected`, the `role` party."""
    try:
        signer = recover(digest, bytes(signature))
    except Exception as exc:  # malformed: wrong length, v, high s
        raise WrongSigner(f"the {role}'s signature is malformed ({exc})") from None
    if signer != expected:
        raise WrongSigner(f"the {role}'s signature recovers to {signer}, not the {role} {expected}")
