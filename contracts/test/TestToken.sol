// SPDX-License-Identifier: MIT
// TEST ONLY — never deployed to a public network as the channel token.
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Dai-like 18-decimal token with open minting, for local chains and tests.
contract TestToken is ERC20 {
    constructor(string memory name_, string memory symbol_) ERC20(name_, symbol_) {}

    /// @notice Mint `amount` to `to` (anyone may mint: test token).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
