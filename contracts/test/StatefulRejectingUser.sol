// SPDX-License-Identifier: MIT
// TEST ONLY — a griefing channel user for the stateful tests: a contract wallet that refuses
// every ETH transfer (so dispute payouts to it must be credited, docs/protocol.md §7), signs through
// ERC-1271 with its owner's key, and lets its owner call anything as the wallet.
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

contract StatefulRejectingUser {
    address public immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    /// @notice Refuses all plain ETH.
    receive() external payable {
        revert("StatefulRejectingUser: no ETH");
    }

    /// @notice ERC-1271: valid when the owner's key signed `hash` (65-byte low-s form).
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        return err == ECDSA.RecoverError.NoError && signer == owner ? bytes4(0x1626ba7e) : bytes4(0xffffffff);
    }

    /// @notice Calls `target` as this wallet, forwarding msg.value; bubbles up revert data
    ///         unchanged (so the ChannelManager's custom errors reach the test).
    function execute(address target, bytes calldata data) external payable {
        require(msg.sender == owner, "StatefulRejectingUser: not owner");
        (bool ok, bytes memory ret) = target.call{value: msg.value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }
}
