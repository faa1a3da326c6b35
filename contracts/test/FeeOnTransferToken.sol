// SPDX-License-Identifier: MIT
// TEST ONLY — a token that burns a fee on every transfer; the manager must refuse its deposits.
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice ERC20 that burns `feeBasisPoints` of every transfer between two accounts, so the
///         receiver gets less than the amount asked (docs/protocol.md §2: refused at deposit time).
contract FeeOnTransferToken is ERC20 {
    uint256 public immutable feeBasisPoints;

    constructor(uint256 feeBasisPoints_) ERC20("Fee Token", "FEE") {
        feeBasisPoints = feeBasisPoints_;
    }

    /// @notice Anyone may mint (test token).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 amount) internal override {
        if (from == address(0) || to == address(0)) {
            super._update(from, to, amount);
            return;
        }
        uint256 fee = (amount * feeBasisPoints) / 10_000;
        super._update(from, address(0), fee);
        super._update(from, to, amount - fee);
    }
}
