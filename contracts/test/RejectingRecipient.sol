// SPDX-License-Identifier: MIT
// TEST ONLY — hostile helper for tests; never deployed to a public network.
pragma solidity 0.8.30;

import {IChannelManager} from "../../interfaces/IChannelManager.sol";
import {ContractUser} from "./ContractUser.sol";

/// @notice A contract user that refuses every incoming ETH transfer (docs/protocol.md §7: a dispute payout
///         to it must be credited, a claim to it must revert).
contract RejectingRecipient is ContractUser {
    error EthRejected(uint256 amount);

    constructor(IChannelManager manager_, address owner_) ContractUser(manager_, owner_) {}

    receive() external payable {
        revert EthRejected(msg.value);
    }
}
