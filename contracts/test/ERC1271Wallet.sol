// SPDX-License-Identifier: MIT
// TEST ONLY — a contract-wallet channel user for the unit tests; never deployed to a public network.
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @notice A smart-contract wallet: ERC-1271 signatures approved by an owner key, or signatures
///         of any length the owner registered; can reject signatures or ETH on demand, and
///         calls other contracts (the manager, the token) on the owner's behalf.
contract ERC1271Wallet is IERC1271 {
    bytes4 private constant INVALID = 0xffffffff;

    /// @notice The key whose ECDSA signatures the wallet approves.
    address public immutable owner;
    /// @notice When true every signature is refused.
    bool public rejectSignatures;
    /// @notice When true incoming ETH is refused.
    bool public rejectEth;
    /// @notice keccak256(hash, keccak256(signature)) of signatures approved whatever their form.
    mapping(bytes32 key => bool) public approvedSignatures;

    error NotOwner(address caller);
    error EthRefused();

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor(address owner_) {
        owner = owner_;
    }

    receive() external payable {
        if (rejectEth) revert EthRefused();
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (rejectSignatures) return INVALID;
        if (approvedSignatures[keccak256(abi.encode(hash, keccak256(signature)))]) {
            return IERC1271.isValidSignature.selector;
        }
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        if (err == ECDSA.RecoverError.NoError && signer == owner) return IERC1271.isValidSignature.selector;
        return INVALID;
    }

    /// @notice Approve `signature` for `hash` whatever its length or form.
    function approveSignature(bytes32 hash, bytes calldata signature) external onlyOwner {
        approvedSignatures[keccak256(abi.encode(hash, keccak256(signature)))] = true;
    }

    function setRejectSignatures(bool reject) external onlyOwner {
        rejectSignatures = reject;
    }

    function setRejectEth(bool reject) external onlyOwner {
        rejectEth = reject;
    }

    /// @notice Call `target` with `value` and `data`; a revert is bubbled up unchanged.
    function execute(address target, uint256 value, bytes calldata data)
        external
        payable
        onlyOwner
        returns (bytes memory result)
    {
        bool ok;
        (ok, result) = target.call{value: value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
    }
}
