"""Thread merkle trees, matching OpenZeppelin's `MerkleProof` as the contract uses it.

- Leaf: the EIP-712 struct hash of a thread's *initial* state (`eip712.thread_struct_hash`).
  A leaf is a 32-byte hash of a 224-byte typed preimage, so it can never be mistaken for an
  inner node (a hash of 64 bytes) — the second-preimage concern of MerkleProof does not arise.
- Inner node: keccak256 of the two children in ascending byte order (sorted pairs), so a proof
  is a plain list of siblings with no left/right flags.
- Levels are built left to right; an odd node at the end of a level is carried up unchanged.
- A tree of one leaf has the leaf as its root and an empty proof. No threads: root zero,
  which contains nothing (the contract refuses every proof against a zero root).
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_utils.crypto import keccak

from channel_manager.aliases import ZERO_BYTES32, Bytes32
from channel_manager.eip712 import thread_struct_hash
from channel_manager.states import ThreadState


def hash_pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a < b else keccak(b + a)


class MerkleTree:
    """A tree over leaves in the given order (duplicates are refused: a thread appears once)."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        if len(set(leaves)) != len(leaves):
            raise ValueError("duplicate leaf: each thread may appear once in a root")
        for leaf in leaves:
            if len(leaf) != 32:
                raise ValueError("leaves are 32-byte hashes")
        self.leaves: list[bytes] = list(leaves)
        self.levels: list[list[bytes]] = [self.leaves]
        while len(self.levels[-1]) > 1:
            level = self.levels[-1]
            parents = [hash_pair(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                parents.append(level[-1])
            self.levels.append(parents)

    @classmethod
    def of_threads(cls, initial_states: Sequence[ThreadState]) -> MerkleTree:
        return cls([thread_struct_hash(s) for s in initial_states])

    @property
    def root(self) -> Bytes32:
        if not self.leaves:
            return ZERO_BYTES32
        return Bytes32(self.levels[-1][0])

    def proof(self, leaf: bytes) -> list[bytes]:
        """Siblings from the leaf up to the root."""
        try:
            index = self.leaves.index(leaf)
        except ValueError:
            raise KeyError("leaf is not in the tree") from None
        siblings: list[bytes] = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                siblings.append(level[sibling])
            index //= 2
        return siblings

    def thread_proof(self, initial: ThreadState) -> list[bytes]:
        return self.proof(thread_struct_hash(initial))


def verify(proof: Sequence[bytes], root: bytes, leaf: bytes) -> bool:
    """Python twin of `MerkleProof.verify` with the zero-root rule of docs/protocol.md §3."""
    if root == ZERO_BYTES32:
        return False
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node == root
