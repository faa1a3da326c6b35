// SPDX-License-Identifier: MIT
// TEST ONLY — hostile helper for tests; never deployed to a public network.
pragma solidity 0.8.30;

import {IChannelManager} from "../../interfaces/IChannelManager.sol";
import {ContractUser} from "./ContractUser.sol";

/// @notice Re-enters the manager from `receive()` with a call chosen by the test, once, and
///         records what happened instead of reverting (so the payout that triggered it succeeds
///         and the test can show the re-entrant call got nothing).
contract ReentrantRecipient is ContractUser {
    /// @notice Calldata sent to the manager when ETH arrives (empty: do not re-enter).
    bytes public reentryCall;
    /// @notice True once `receive()` tried to re-enter.
    bool public reentered;
    /// @notice Whether the re-entrant call succeeded.
    bool public reentrySucceeded;
    /// @notice The re-entrant call's return or revert data.
    bytes public reentryResult;
    /// @notice ETH received through `receive()` in total.
    uint256 public received;

    constructor(IChannelManager manager_, address owner_) ContractUser(manager_, owner_) {}

    /// @notice Choose the call to make to the manager from `receive()`.
    function setReentryCall(bytes calldata data) external {
        reentryCall = data;
        reentered = false;
        reentrySucceeded = false;
        delete reentryResult;
    }

    receive() external payable {
        received += msg.value;
        if (reentered || reentryCall.length == 0) return;
        reentered = true;
        (bool ok, bytes memory result) = address(manager).call(reentryCall);
        reentrySucceeded = ok;
        reentryResult = result;
    }
}
