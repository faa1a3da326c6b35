"""EIP-712 encoding of channel and thread states, mirroring ChannelManager field by field.

structHash = keccak256(typeHash ‖ enc(field)…) where addresses and uints are 32-byte words and
each fixed array is keccak256 of its concatenated 32-byte elements. The digest signed is
keccak256(0x1901 ‖ domainSeparator ‖ structHash) with the domain
{name "ChannelManager", version "1", chainId, verifyingContract}.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from channel_manager.states import ChannelState, ThreadState

DOMAIN_NAME = "ChannelManager"
DOMAIN_VERSION = "1"

CHANNEL_STATE_TYPE = (
    "ChannelState(address user,address recipient,uint256[2] weiBalances,uint256[2] tokenBalances,"
    "uint256[4] pendingWeiUpdates,uint256[4] pendingTokenUpdates,uint256[2] txCount,"
    "bytes32 threadRoot,uint256 threadCount,uint256 timeout)"
)
THREAD_STATE_TYPE = (
    "ThreadState(address sender,address receiver,uint256 threadId,uint256[2] weiBalances,"
    "uint256[2] tokenBalances,uint256 txCount)"
)
DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"

CHANNEL_STATE_TYPEHASH = keccak(text=CHANNEL_STATE_TYPE)
THREAD_STATE_TYPEHASH = keccak(text=THREAD_STATE_TYPE)
DOMAIN_TYPEHASH = keccak(text=DOMAIN_TYPE)

# Values docs/protocol.md §3 states, so a typo in the type strings fails at import.
assert (
    CHANNEL_STATE_TYPEHASH.hex()
    == "d9f5ad84db769600d023a6638d09e7265a42207f8d5344964b857ca38b156016"
)
assert (
    THREAD_STATE_TYPEHASH.hex()
    == "b3a16cc345d4c95690b27e395450935f83ef9ff7894063f424a644303ca85659"
)


def _fields_of(type_string: str) -> list[dict[str, str]]:
    """`Name(type name,…)` as eth-account's list of {"name", "type"} members."""
    members = type_string[type_string.index("(") + 1 : -1].split(",")
    return [{"name": name, "type": kind} for kind, name in (m.split(" ") for m in members)]


# The same types in eth-account's `sign_typed_data` form, read from the type strings above.
EIP712_TYPES: dict[str, list[dict[str, str]]] = {
    "ChannelState": _fields_of(CHANNEL_STATE_TYPE),
    "ThreadState": _fields_of(THREAD_STATE_TYPE),
}


@dataclass(frozen=True, slots=True)
class Domain:
    """The EIP-712 domain of one ChannelManager deployment."""

    chain_id: int
    verifying_contract: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "verifying_contract", to_checksum_address(self.verifying_contract))

    @property
    def separator(self) -> bytes:
        return keccak(
            encode(
                ["bytes32", "bytes32", "bytes32", "uint256", "address"],
                [
                    DOMAIN_TYPEHASH,
                    keccak(text=DOMAIN_NAME),
                    keccak(text=DOMAIN_VERSION),
                    self.chain_id,
                    self.verifying_contract,
                ],
            )
        )

    def as_eth_account_dict(self) -> dict[str, Any]:
        return {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }


def _array_hash(values: tuple[int, ...]) -> bytes:
    return keccak(b"".join(v.to_bytes(32, "big") for v in values))


def channel_struct_hash(state: ChannelState) -> bytes:
    return keccak(
        encode(
            ["bytes32", "address", "address"] + ["bytes32"] * 6 + ["uint256", "uint256"],
            [
                CHANNEL_STATE_TYPEHASH,
                state.user,
                state.recipient,
                _array_hash(state.wei_balances),
                _array_hash(state.token_balances),
                _array_hash(state.pending_wei_updates),
                _array_hash(state.pending_token_updates),
                _array_hash(state.tx_count),
                state.thread_root,
                state.thread_count,
                state.timeout,
            ],
        )
    )


def thread_struct_hash(state: ThreadState) -> bytes:
    """Of an initial state, this is the thread's merkle leaf."""
    return keccak(
        encode(
            ["bytes32", "address", "address", "uint256", "bytes32", "bytes32", "uint256"],
            [
                THREAD_STATE_TYPEHASH,
                state.sender,
                state.receiver,
                state.thread_id,
                _array_hash(state.wei_balances),
                _array_hash(state.token_balances),
                state.tx_count,
            ],
        )
    )


def typed_digest(domain: Domain, struct_hash: bytes) -> bytes:
    return keccak(b"\x19\x01" + domain.separator + struct_hash)


def channel_digest(domain: Domain, state: ChannelState) -> bytes:
    return typed_digest(domain, channel_struct_hash(state))


def thread_digest(domain: Domain, state: ThreadState) -> bytes:
    return typed_digest(domain, thread_struct_hash(state))


def channel_message(state: ChannelState) -> dict[str, Any]:
    """The state as an EIP-712 message dict (eth-account / wallet `eth_signTypedData_v4`)."""
    return {
        "user": state.user,
        "recipient": state.recipient,
        "weiBalances": list(state.wei_balances),
        "tokenBalances": list(state.token_balances),
        "pendingWeiUpdates": list(state.pending_wei_updates),
        "pendingTokenUpdates": list(state.pending_token_updates),
        "txCount": list(state.tx_count),
        "threadRoot": state.thread_root,
        "threadCount": state.thread_count,
        "timeout": state.timeout,
    }


def thread_message(state: ThreadState) -> dict[str, Any]:
    return {
        "sender": state.sender,
        "receiver": state.receiver,
        "threadId": state.thread_id,
        "weiBalances": list(state.wei_balances),
        "tokenBalances": list(state.token_balances),
        "txCount": state.tx_count,
    }
