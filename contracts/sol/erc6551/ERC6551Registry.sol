// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC6551Registry} from "./IERC6551.sol";

/// @title ERC6551Registry
/// @notice Deploys ERC-6551 token-bound accounts. Each account is an ERC-1167 minimal proxy whose
/// runtime code ends with `abi.encode(salt, chainId, tokenContract, tokenId)`, created with CREATE2
/// and `salt`. The init code is byte-for-byte the one of the canonical registry, so an account's
/// address depends only on this registry's address and the five arguments.
contract ERC6551Registry is IERC6551Registry {
  /// @dev Length of the init code: 10-byte constructor, 45-byte ERC-1167 proxy, 128-byte footer.
  uint256 private constant _INIT_CODE_LENGTH = 0xb7;

  /// @inheritdoc IERC6551Registry
  function createAccount(
    address implementation,
    bytes32 salt,
    uint256 chainId,
    address tokenContract,
    uint256 tokenId
  ) external returns (address) {
    (address computed, uint256 initCode) = _initCode(implementation, salt, chainId, tokenContract, tokenId);
    // An existing account is returned as is, without an event, so callers can create idempotently.
    if (computed.code.length != 0) return computed;
    address deployed;
    assembly ("memory-safe") {
      deployed := create2(0, initCode, _INIT_CODE_LENGTH, salt)
    }
    if (deployed == address(0)) revert AccountCreationFailed();
    emit ERC6551AccountCreated(deployed, implementation, salt, chainId, tokenContract, tokenId);
    return deployed;
  }

  /// @inheritdoc IERC6551Registry
  function account(
    address implementation,
    bytes32 salt,
    uint256 chainId,
    address tokenContract,
    uint256 tokenId
  ) external view returns (address) {
    (address computed, ) = _initCode(implementation, salt, chainId, tokenContract, tokenId);
    return computed;
  }

  /// @dev Writes the account's init code to freshly allocated memory and derives its CREATE2 address.
  /// @return computed The CREATE2 address of the account.
  /// @return initCode Memory offset of the init code (`_INIT_CODE_LENGTH` bytes).
  function _initCode(
    address implementation,
    bytes32 salt,
    uint256 chainId,
    address tokenContract,
    uint256 tokenId
  ) private view returns (address computed, uint256 initCode) {
    assembly ("memory-safe") {
      // Layout from `buffer`: 12 unused bytes, then the init code:
      //   0x0c  3d60ad80600a3d3981f3        constructor: return the 0xad bytes that follow
      //   0x16  363d3d373d3d3d363d73        ERC-1167 runtime, up to PUSH20
      //   0x20  <implementation>
      //   0x34  5af43d82803e903d91602b57fd5bf3
      //   0x43  salt, chainId, tokenContract, tokenId (one word each)
      // Each store writes a full word, so they go in increasing order: every store overwrites
      // the zero padding the previous one left behind.
      let buffer := mload(0x40)
      mstore(0x40, add(buffer, 0xe0))
      mstore(buffer, 0x3d60ad80600a3d3981f3363d3d373d3d3d363d73)
      mstore(add(buffer, 0x20), shl(96, implementation))
      mstore(add(buffer, 0x34), shl(136, 0x5af43d82803e903d91602b57fd5bf3))
      mstore(add(buffer, 0x43), salt)
      mstore(add(buffer, 0x63), chainId)
      mstore(add(buffer, 0x83), tokenContract)
      mstore(add(buffer, 0xa3), tokenId)
      initCode := add(buffer, 0x0c)

      // keccak256(0xff ++ this ++ salt ++ keccak256(initCode)), built past the free memory pointer.
      let scratch := add(buffer, 0xe0)
      mstore(scratch, address())
      mstore8(add(scratch, 0x0b), 0xff)
      mstore(add(scratch, 0x20), salt)
      mstore(add(scratch, 0x40), keccak256(initCode, _INIT_CODE_LENGTH))
      computed := and(keccak256(add(scratch, 0x0b), 0x55), 0xffffffffffffffffffffffffffffffffffffffff)
    }
  }
}
