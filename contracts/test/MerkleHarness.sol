// SPDX-License-Identifier: MIT
// TEST ONLY — never deployed. Exposes OpenZeppelin's MerkleProof, the library ChannelManager
// proves thread leaves with, so tests can check channel_manager.merkle against it directly.
pragma solidity 0.8.30;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @notice Views over OpenZeppelin `MerkleProof` (sorted-pair keccak, the scheme of docs/protocol.md §3).
/// @dev No zero-root rule here: that rule is ChannelManager's own and is tested there.
///      The batch views index `proofs` by the leaves (a shorter `proofs` panics).
contract MerkleHarness {
    /// @notice `MerkleProof.verifyCalldata`, as ChannelManager calls it.
    /// @param proof Sibling hashes from the leaf up.
    /// @param root The tree root.
    /// @param leaf The leaf (a thread's initial-state struct hash).
    /// @return Whether `proof` proves `leaf` in `root`.
    function verifyCalldata(bytes32[] calldata proof, bytes32 root, bytes32 leaf) external pure returns (bool) {
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @notice `MerkleProof.processProof`: the root that `proof` and `leaf` rebuild.
    /// @param proof Sibling hashes from the leaf up.
    /// @param leaf The leaf.
    /// @return The rebuilt root.
    function processProof(bytes32[] memory proof, bytes32 leaf) external pure returns (bytes32) {
        return MerkleProof.processProof(proof, leaf);
    }

    /// @notice `verifyCalldata` for many leaves of one tree in one call (keeps sweeps fast).
    /// @param proofs One proof per leaf.
    /// @param root The tree root.
    /// @param leaves The leaves, in the order of `proofs`.
    /// @return ok `ok[i]` = `verifyCalldata(proofs[i], root, leaves[i])`.
    function verifyEach(bytes32[][] calldata proofs, bytes32 root, bytes32[] calldata leaves)
        external
        pure
        returns (bool[] memory ok)
    {
        ok = new bool[](leaves.length);
        for (uint256 i; i < leaves.length; ++i) {
            ok[i] = MerkleProof.verifyCalldata(proofs[i], root, leaves[i]);
        }
    }

    /// @notice `processProof` for many leaves in one call.
    /// @param proofs One proof per leaf.
    /// @param leaves The leaves, in the order of `proofs`.
    /// @return roots `roots[i]` = `processProof(proofs[i], leaves[i])`.
    function processEach(bytes32[][] memory proofs, bytes32[] memory leaves)
        external
        pure
        returns (bytes32[] memory roots)
    {
        roots = new bytes32[](leaves.length);
        for (uint256 i; i < leaves.length; ++i) {
            roots[i] = MerkleProof.processProof(proofs[i], leaves[i]);
        }
    }
}
