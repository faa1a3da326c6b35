// SPDX-License-Identifier: MIT
// TEST ONLY — a contract wallet used as a channel user in tests; never deployed to a public network.
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {IChannelManager} from "../../interfaces/IChannelManager.sol";

/// @notice A contract that can be a ChannelManager user: it signs through ERC-1271 with the
///         ECDSA key of `owner` (a local test key) and forwards manager calls made by anyone.
/// @dev Base of the hostile recipients (RejectingRecipient, ReentrantRecipient, …); each
///      subclass only decides what happens when ETH arrives.
abstract contract ContractUser is IERC1271 {
    /// @notice The manager this wallet is a user of.
    IChannelManager public immutable manager;
    /// @notice The key whose ECDSA signatures this contract accepts as its own.
    address public immutable owner;

    constructor(IChannelManager manager_, address owner_) {
        manager = manager_;
        owner = owner_;
    }

    /// @notice ERC-1271: valid when `signature` is `owner`'s 65-byte ECDSA signature of `hash`.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == owner) return IERC1271.isValidSignature.selector;
        return 0xffffffff;
    }

    // ------------------------------------------------------------------ manager calls (by anyone: test only)

    function startExit() external {
        manager.startExit(address(this));
    }

    function emptyChannel() external {
        manager.emptyChannel(address(this));
    }

    /// @notice Deposit through the manager; `msg.value` is forwarded as the user's ETH deposit.
    function userAuthorizedUpdate(IChannelManager.ChannelState calldata state, bytes calldata sigHub)
        external
        payable
    {
        manager.userAuthorizedUpdate{value: msg.value}(state, sigHub);
    }

    function startExitWithUpdate(
        IChannelManager.ChannelState calldata state,
        bytes calldata sigHub,
        bytes calldata sigUser
    ) external {
        manager.startExitWithUpdate(state, sigHub, sigUser);
    }

    function emptyChannelWithChallenge(
        IChannelManager.ChannelState calldata state,
        bytes calldata sigHub,
        bytes calldata sigUser
    ) external {
        manager.emptyChannelWithChallenge(state, sigHub, sigUser);
    }

    function claim(address to) external {
        manager.claim(to);
    }

    /// @notice Approve `spender` (the manager) to pull this wallet's token deposits.
    function approve(IERC20 token, address spender, uint256 amount) external {
        token.approve(spender, amount);
    }
}
