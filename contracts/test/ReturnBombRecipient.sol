// SPDX-License-Identifier: MIT
// TEST ONLY — hostile helper for tests; never deployed to a public network.
pragma solidity 0.8.30;

import {IChannelManager} from "../../interfaces/IChannelManager.sol";
import {ContractUser} from "./ContractUser.sol";

/// @notice A contract user whose `receive()` reverts with as much return data as its gas
///         allows: a caller that copies return data pays for all of it (docs/protocol.md §7 return bomb).
contract ReturnBombRecipient is ContractUser {
    constructor(IChannelManager manager_, address owner_) ContractUser(manager_, owner_) {}

    receive() external payable {
        // Largest memory the remaining gas can pay for: cost(w words) = 3w + w²/512, keeping
        // 10,000 gas for the square root and the revert itself.
        uint256 gasLeft = gasleft();
        uint256 gasAvailable = gasLeft > 20_000 ? gasLeft - 10_000 : 0;
        uint256 words = _sqrt(512 * gasAvailable + 768 * 768) - 768;
        assembly ("memory-safe") {
            revert(0, mul(words, 32))
        }
    }

    function _sqrt(uint256 x) private pure returns (uint256 y) {
        if (x == 0) return 0;
        y = x;
        uint256 z = (x + 1) / 2;
        while (z < y) {
            y = z;
            z = (x / z + z) / 2;
        }
    }
}
