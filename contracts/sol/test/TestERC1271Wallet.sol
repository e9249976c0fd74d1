// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/**
 * @title TestERC1271Wallet
 * @notice Test-only smart wallet: a signature is valid when it is its owner's ECDSA signature
 * over the hash as given.
 * @dev Checking the raw hash lets one owner signature serve every wallet of that owner; that is
 * harmless for tests where the signed message names the wallet (as EIP-712 permits and
 * authorizations do), but a real wallet must bind the hash to its own address.
 */
contract TestERC1271Wallet is IERC1271 {
    /// @notice The EOA whose signatures this wallet accepts.
    address public immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    /**
     * @notice ERC-1271: whether `signature` is the owner's signature of `hash`.
     * @param hash Digest that was signed.
     * @param signature The owner's 65-byte ECDSA signature.
     * @return magicValue `IERC1271.isValidSignature.selector` when valid, `0xffffffff` otherwise.
     */
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4 magicValue) {
        (address recovered, ECDSA.RecoverError error_,) = ECDSA.tryRecoverCalldata(hash, signature);
        if (error_ == ECDSA.RecoverError.NoError && recovered == owner) return IERC1271.isValidSignature.selector;
        return 0xffffffff;
    }
}
