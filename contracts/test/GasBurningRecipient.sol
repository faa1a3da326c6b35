// SPDX-License-Identifier: MIT
// TEST ONLY — hostile helper for tests; never deployed to a public network.
pragma solidity 0.8.30;

import {IChannelManager} from "../../interfaces/IChannelManager.sol";
import {ContractUser} from "./ContractUser.sol";

/// @notice A contract user whose `receive()` burns every unit of gas it is given, so an ETH
///         payout to it fails out of gas (docs/protocol.md §7: the dispute must still complete).
contract GasBurningRecipient is ContractUser {
    /// @dev Written in the loop so the burning is real work, not an optimised-away spin.
    uint256 public counter;

    constructor(IChannelManager manager_, address owner_) ContractUser(manager_, owner_) {}

    receive() external payable {
        while (true) {
            counter += 1;
        }
    }
}
