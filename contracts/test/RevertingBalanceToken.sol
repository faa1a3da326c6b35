// SPDX-License-Identifier: MIT
// TEST ONLY — a token whose balanceOf can be made to revert, for the never-reverting views.
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice ERC20 whose `balanceOf` reverts while `broken` is set (a paused or self-destructed
///         token seen from the manager's reserve views).
contract RevertingBalanceToken is ERC20 {
    bool public broken;

    error BalanceUnavailable();

    constructor() ERC20("Reverting Balance Token", "RBT") {}

    /// @notice Anyone may mint (test token).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setBroken(bool broken_) external {
        broken = broken_;
    }

    function balanceOf(address account) public view override returns (uint256) {
        if (broken) revert BalanceUnavailable();
        return super.balanceOf(account);
    }
}
