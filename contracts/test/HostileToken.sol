// SPDX-License-Identifier: MIT
// TEST ONLY — the fuzzing engine's hostile token: refuses chosen recipients, by revert or by
// returning false, and can keep a fee back from every pull.
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice ERC20 whose misbehaviour the fuzzing engine switches on and off during an episode:
///         a recipient may be refused (a blacklist that reverts, or a `false` return as some
///         tokens give), and `transferFrom` may deliver `pullFee` less than asked
///         (fee-on-transfer). The manager must credit refused payouts and refuse short pulls
///         (docs/protocol.md §5, §7).
contract HostileToken is ERC20 {
    enum Refusal {
        None,
        Revert,
        ReturnFalse
    }

    /// @notice How transfers to an account are refused.
    mapping(address account => Refusal) public refusal;
    /// @notice Units burned from every `transferFrom` (the receiver gets `amount − pullFee`).
    uint256 public pullFee;

    error Refused(address to);

    constructor() ERC20("Hostile Token", "HST") {}

    /// @notice Anyone may mint (test token).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Anyone may set a recipient's refusal (test token).
    function setRefusal(address account, Refusal how) external {
        refusal[account] = how;
    }

    /// @notice Anyone may set the fee kept back from pulls (test token).
    function setPullFee(uint256 fee) external {
        pullFee = fee;
    }

    function transfer(address to, uint256 amount) public override returns (bool) {
        if (!_accepts(to)) return false;
        return super.transfer(to, amount);
    }

    function transferFrom(address from, address to, uint256 amount) public override returns (bool) {
        if (!_accepts(to)) return false;
        uint256 fee = pullFee < amount ? pullFee : amount;
        if (fee != 0) _burn(from, fee);
        return super.transferFrom(from, to, amount - fee);
    }

    /// @dev Reverts for a `Revert` recipient; false for a `ReturnFalse` one.
    function _accepts(address to) internal view returns (bool) {
        Refusal how = refusal[to];
        if (how == Refusal.Revert) revert Refused(to);
        return how == Refusal.None;
    }
}
