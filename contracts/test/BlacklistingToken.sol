// SPDX-License-Identifier: MIT
// TEST ONLY — hostile token for tests; never deployed to a public network.
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice An 18-decimal ERC20 with open minting and a blacklist (like USDC's): a transfer to
///         a listed address reverts. docs/protocol.md §7: a dispute payout to a listed user is credited.
contract BlacklistingToken is ERC20 {
    error Blacklisted(address account);

    /// @notice Addresses that may not receive tokens.
    mapping(address account => bool) public blacklisted;

    constructor(string memory name_, string memory symbol_) ERC20(name_, symbol_) {}

    /// @notice Mint `amount` to `to` (anyone may mint: test token).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice List or unlist `account` (anyone may: test token).
    function setBlacklisted(address account, bool listed) external {
        blacklisted[account] = listed;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (blacklisted[to]) revert Blacklisted(to);
        super._update(from, to, value);
    }
}
