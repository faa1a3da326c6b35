"""channel_manager.merkle (docs/protocol.md §3): sorted-pair keccak tree; every leaf's proof verifies for
1..64 leaves; one leaf is its own root; a zero root verifies nothing; duplicates are refused."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from channel_manager.aliases import ZERO_BYTES32
from channel_manager.eip712 import thread_struct_hash
from channel_manager.merkle import MerkleTree, hash_pair, verify
from channel_manager.states import ThreadState
from channel_manager.threads import initial_thread_state

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # anvil accounts 1 and 2
BOB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


def leaves(n: int) -> list[bytes]:
    return [keccak(i.to_bytes(32, "big")) for i in range(n)]


def test_every_leaf_proof_verifies_for_1_to_64_leaves() -> None:
    """One test over all sizes: odd carries and uneven depths all appear below 64."""
    for n in range(1, 65):
        tree = MerkleTree(leaves(n))
        for leaf in tree.leaves:
            assert verify(tree.proof(leaf), tree.root, leaf), (n, leaf.hex())


@pytest.mark.parametrize("n", [2, 3, 7, 64])
def test_a_leaf_outside_the_tree_does_not_verify(n: int) -> None:
    tree = MerkleTree(leaves(n))
    assert not verify(tree.proof(tree.leaves[0]), tree.root, keccak(b"outsider"))


def test_one_leaf_root_is_the_leaf() -> None:
    (leaf,) = leaves(1)
    tree = MerkleTree([leaf])
    assert tree.root == leaf
    assert tree.proof(leaf) == []


def test_two_leaf_root_is_the_sorted_pair_hash() -> None:
    a, b = leaves(2)
    assert (
        MerkleTree([a, b]).root
        == MerkleTree([b, a]).root
        == keccak(min(a, b) + max(a, b))
        == hash_pair(a, b)
    )


def test_empty_tree_has_zero_root() -> None:
    assert MerkleTree([]).root == ZERO_BYTES32


def test_zero_root_verifies_nothing() -> None:
    assert not verify([], ZERO_BYTES32, ZERO_BYTES32)
    assert not verify([], ZERO_BYTES32, leaves(1)[0])


def test_zero_root_proves_no_thread_leaf() -> None:
    """The contract's zero-root rule (docs/protocol.md §3) for a thread leaf as the contract sees
    it (a struct hash); the chain side is tested in tests/unit/thread/test_start_exit_thread.py
    (ThreadNotInRoot against a zero root)."""
    leaf = thread_struct_hash(initial_thread_state(ALICE, BOB, 0, wei=10**15, token=0))
    assert not verify([], b"\x00" * 32, leaf)


def test_duplicate_leaves_are_refused() -> None:
    leaf = leaves(1)[0]
    with pytest.raises(ValueError):
        MerkleTree([leaf, leaf])


def test_thread_tree_uses_struct_hash_leaves() -> None:
    threads = [
        ThreadState("0x" + "11" * 20, "0x" + "22" * 20, i, (5, 0), (0, 0), 0) for i in range(3)
    ]
    tree = MerkleTree.of_threads(threads)
    assert tree.leaves == [thread_struct_hash(t) for t in threads]
    assert verify(tree.thread_proof(threads[2]), tree.root, thread_struct_hash(threads[2]))
