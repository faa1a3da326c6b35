// SPDX-License-Identifier: MIT
// TEST ONLY — EIP-7702 delegation target for the signature-revocation tests; never deployed for real.
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";

/// @notice Code an EOA delegates to (EIP-7702, `0xef0100 ‖ address`) to try to revoke every
///         signature it ever made: it answers every ERC-1271 query "no" and accepts ETH.
contract RevokingDelegate is IERC1271 {
    /// @inheritdoc IERC1271
    function isValidSignature(bytes32, bytes calldata) external pure returns (bytes4) {
        return 0xffffffff;
    }

    receive() external payable {}
}
