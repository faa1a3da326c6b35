// SPDX-License-Identifier: MIT
// TEST ONLY — EIP-7702 delegation target for the fuzzing engine; never deployed for real.
pragma solidity 0.8.30;

import {IChannelManager} from "../../interfaces/IChannelManager.sol";

/// @notice Code an EOA delegates to (EIP-7702) so that every ETH payment it receives re-enters
///         the payer: it tries to claim its credit and to empty its channel again, ignores how
///         that ends, and accepts the ETH. Stateless (a delegated EOA has no constructor), so its
///         behaviour does not depend on anything but the call.
contract ReenteringDelegate {
    receive() external payable {
        // Both outcomes are ignored on purpose: the point is what the payer lets happen.
        (bool claimed,) = msg.sender.call(abi.encodeCall(IChannelManager.claim, (address(this))));
        (bool emptied,) = msg.sender.call(abi.encodeCall(IChannelManager.emptyChannel, (address(this))));
        claimed;
        emptied;
    }
}
