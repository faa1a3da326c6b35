"""channel_manager.merkle against OpenZeppelin's MerkleProof on the chain (through the test-only
MerkleHarness): for trees of 1 … 64 thread leaves the Python root is what every leaf's Python
proof rebuilds on chain, every proof verifies, and no proof admits a leaf outside the tree."""

from __future__ import annotations

import pytest
from brownie import MerkleHarness
from brownie.test import given, strategy
from eth_utils import keccak

from channel_manager.eip712 import thread_struct_hash
from channel_manager.merkle import MerkleTree, verify
from channel_manager.threads import initial_thread_state
from tests.helpers import hexes

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # anvil accounts 1 and 2
BOB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


@pytest.fixture(scope="module")
def harness(hub):
    return MerkleHarness.deploy({"from": hub})


def thread_leaves(count: int, salt: int = 0) -> list[bytes]:
    """Leaves as the contract sees them: struct hashes of distinct initial thread states."""
    return [
        thread_struct_hash(
            initial_thread_state(ALICE, BOB, salt * 1000 + i, wei=10**15 + i, token=i)
        )
        for i in range(count)
    ]


def check_tree_on_chain(harness, leaves: list[bytes]) -> None:
    tree = MerkleTree(leaves)
    proofs = [hexes(tree.proof(leaf)) for leaf in leaves]
    root = "0x" + tree.root.hex()
    assert [str(r) for r in harness.processEach(proofs, hexes(leaves))] == [root] * len(leaves)
    assert list(harness.verifyEach(proofs, root, hexes(leaves))) == [True] * len(leaves)
    # a leaf that is not in the tree is refused with every proof of the tree (and with none)
    outsider = keccak(b"not a leaf of this tree")
    assert list(harness.verifyEach([*proofs, []], root, hexes([outsider] * (len(leaves) + 1)))) == [
        False
    ] * (len(leaves) + 1)
    # the Python twin agrees
    assert all(verify(tree.proof(leaf), tree.root, leaf) for leaf in leaves)
    assert not any(verify(tree.proof(leaf), tree.root, outsider) for leaf in leaves)


def test_one_leaf_root_is_the_leaf_and_proof_is_empty(harness):
    (leaf,) = thread_leaves(1)
    tree = MerkleTree([leaf])
    assert tree.root == leaf and tree.proof(leaf) == []
    assert harness.verifyCalldata([], "0x" + leaf.hex(), "0x" + leaf.hex())
    assert harness.processProof([], "0x" + leaf.hex()) == "0x" + leaf.hex()


def test_single_calls_agree_with_batch_views(harness):
    leaves = thread_leaves(5)
    tree = MerkleTree(leaves)
    root = "0x" + tree.root.hex()
    for leaf in leaves:
        proof = hexes(tree.proof(leaf))
        assert harness.processProof(proof, "0x" + leaf.hex()) == root
        assert harness.verifyCalldata(proof, root, "0x" + leaf.hex())


def test_every_tree_size_from_1_to_64(harness):
    """Deterministic sweep: every size, every leaf (odd levels carry their last node up)."""
    for count in range(1, 65):
        check_tree_on_chain(harness, thread_leaves(count))


@given(count=strategy("uint8", min_value=1, max_value=64), salt=strategy("uint16"))
def test_random_trees_verify_on_chain(harness, count, salt):
    check_tree_on_chain(harness, thread_leaves(count, salt + 1))


@given(
    count=strategy("uint8", min_value=2, max_value=64),
    index=strategy("uint8"),
    bit=strategy("uint8"),
)
def test_tampered_proof_fails_on_chain(harness, count, index, bit):
    """Flipping one bit of one sibling breaks the proof."""
    leaves = thread_leaves(count)
    tree = MerkleTree(leaves)
    leaf = leaves[index % count]
    proof = tree.proof(leaf)
    position = index % len(proof)
    damaged = bytearray(proof[position])
    damaged[bit % 32] ^= 1 << (bit % 8)
    proof[position] = bytes(damaged)
    assert not harness.verifyCalldata(hexes(proof), "0x" + tree.root.hex(), "0x" + leaf.hex())
    assert not verify(proof, tree.root, leaf)


def test_proof_of_one_leaf_does_not_prove_another(harness):
    leaves = thread_leaves(8)
    tree = MerkleTree(leaves)
    root = "0x" + tree.root.hex()
    for i, leaf in enumerate(leaves):
        other = leaves[(i + 3) % 8]
        assert not harness.verifyCalldata(hexes(tree.proof(leaf)), root, "0x" + other.hex())
