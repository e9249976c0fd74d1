// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC6551Account, IERC6551Executable} from "./IERC6551.sol";

/// @title AgentAccount
/// @notice ERC-6551 account implementation for Agora agents: the wallet of an agent is owned by
/// whoever holds the agent's NFT. Deployed once; every agent's account is a minimal proxy made by
/// `ERC6551Registry` that delegates here and carries its token in the proxy's code footer.
/// @dev Ownership cycles. An account that owns its own token (directly, or through a chain of
/// token-bound accounts that leads back to it) can never be controlled again. This contract
/// refuses such a cycle when it can see it happen:
///  - `onERC721Received` reverts when a safe transfer would close a cycle through this account,
///    which covers sending the account its own token;
///  - `execute` reverts when the call it made left this account inside a cycle.
/// Only chains up to `MAX_OWNERSHIP_DEPTH` accounts long are followed. A plain `transferFrom` sent
/// by someone else (not a safe transfer, not through `execute`) cannot be seen and is not refused.
contract AgentAccount is IERC165, IERC1271, IERC5267, IERC721Receiver, IERC6551Account, IERC6551Executable {
  /// @notice How many owner links the cycle check follows before giving up.
  uint256 public constant MAX_OWNERSHIP_DEPTH = 8;

  /// @dev Only operation `execute` supports.
  uint8 private constant _OPERATION_CALL = 0;
  /// @dev Runtime code length of a registry proxy: 45-byte ERC-1167 proxy plus a 128-byte footer.
  uint256 private constant _PROXY_CODE_LENGTH = 0xad;
  /// @dev Offset of `chainId` in the proxy's code (the footer starts with `salt` at 0x2d).
  uint256 private constant _FOOTER_TOKEN_OFFSET = 0x4d;

  bytes32 private constant _DOMAIN_TYPEHASH =
    keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
  bytes32 private constant _NAME_HASH = keccak256("AgentAccount");
  bytes32 private constant _VERSION_HASH = keccak256("1");
  bytes32 private constant _MESSAGE_TYPEHASH = keccak256("AgentAccountMessage(bytes32 hash)");

  /// @notice Changes on every `execute` (incremented). A marker of change, not a replay nonce.
  uint256 public state;

  /// @notice `caller` is not the current holder of this account's token.
  error AgentAccountUnauthorized(address caller);
  /// @notice `execute` only supports operation 0 (CALL).
  error AgentAccountOperationNotSupported(uint8 operation);
  /// @notice The account would end up owning its own token `tokenId`, locking it forever.
  error AgentAccountOwnTokenRefused(uint256 tokenId);

  /// @inheritdoc IERC6551Account
  receive() external payable {}

  /// @inheritdoc IERC6551Executable
  /// @dev Only the token holder may call, with operation 0. Reverts bubble up unchanged.
  function execute(
    address to,
    uint256 value,
    bytes calldata data,
    uint8 operation
  ) external payable returns (bytes memory result) {
    if (msg.sender != owner()) revert AgentAccountUnauthorized(msg.sender);
    if (operation != _OPERATION_CALL) revert AgentAccountOperationNotSupported(operation);
    ++state;
    bool success;
    (success, result) = to.call{value: value}(data);
    if (!success) {
      assembly ("memory-safe") {
        revert(add(result, 0x20), mload(result))
      }
    }
    if (_inOwnershipCycle()) revert AgentAccountOwnTokenRefused(_tokenId());
  }

  /// @inheritdoc IERC721Receiver
  /// @dev Refuses this account's own token, and any token whose arrival closes an ownership cycle
  /// through this account (the token contract has already recorded the new holder when it calls).
  function onERC721Received(
    address,
    address,
    uint256 tokenId,
    bytes calldata
  ) external view returns (bytes4) {
    (uint256 chainId, address tokenContract, uint256 ownTokenId) = token();
    if (chainId == block.chainid && msg.sender == tokenContract && tokenId == ownTokenId) {
      revert AgentAccountOwnTokenRefused(tokenId);
    }
    if (_inOwnershipCycle()) revert AgentAccountOwnTokenRefused(ownTokenId);
    return IERC721Receiver.onERC721Received.selector;
  }

  /// @inheritdoc IERC6551Account
  /// @dev Read from the calling proxy's code footer. Called on anything else (such as this
  /// implementation itself) it returns zeros, so that contract has no owner.
  function token() public view returns (uint256 chainId, address tokenContract, uint256 tokenId) {
    assembly ("memory-safe") {
      if eq(extcodesize(address()), _PROXY_CODE_LENGTH) {
        let buffer := mload(0x40)
        extcodecopy(address(), buffer, _FOOTER_TOKEN_OFFSET, 0x60)
        chainId := mload(buffer)
        tokenContract := and(mload(add(buffer, 0x20)), 0xffffffffffffffffffffffffffffffffffffffff)
        tokenId := mload(add(buffer, 0x40))
      }
    }
  }

  /// @notice The current holder of this account's token: the only address that may `execute`.
  /// @return The holder, or zero when the token lives on another chain or has no holder.
  function owner() public view returns (address) {
    return _accountOwner(address(this));
  }

  /// @inheritdoc IERC6551Account
  function isValidSigner(address signer, bytes calldata) external view returns (bytes4) {
    if (signer != address(0) && signer == owner()) return IERC6551Account.isValidSigner.selector;
    return bytes4(0);
  }

  /// @notice ERC-1271: whether `signature` is the token holder's signature of `messageHash(hash)`.
  /// @dev The holder signs the wrapped digest, not `hash`, so a signature is valid for one account
  /// only. A holder that is a contract (a Safe, another account) is checked with ERC-1271.
  /// @param hash The hash the caller wants signed.
  /// @param signature The holder's signature of `messageHash(hash)`.
  /// @return `IERC1271.isValidSignature.selector` (0x1626ba7e) when valid, else 0xffffffff.
  function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
    address holder = owner();
    if (holder != address(0) && SignatureChecker.isValidSignatureNow(holder, messageHash(hash), signature)) {
      return IERC1271.isValidSignature.selector;
    }
    return bytes4(0xffffffff);
  }

  /// @notice The digest the token holder signs so that `isValidSignature(hash, ...)` accepts it:
  /// EIP-712 typed data `AgentAccountMessage(bytes32 hash)` in the domain of `eip712Domain()`.
  /// @param hash The hash to wrap.
  /// @return The EIP-712 digest bound to this account and chain.
  function messageHash(bytes32 hash) public view returns (bytes32) {
    bytes32 domainSeparator = keccak256(
      abi.encode(_DOMAIN_TYPEHASH, _NAME_HASH, _VERSION_HASH, block.chainid, address(this))
    );
    return MessageHashUtils.toTypedDataHash(domainSeparator, keccak256(abi.encode(_MESSAGE_TYPEHASH, hash)));
  }

  /// @inheritdoc IERC5267
  function eip712Domain()
    external
    view
    returns (
      bytes1 fields,
      string memory name,
      string memory version,
      uint256 chainId,
      address verifyingContract,
      bytes32 salt,
      uint256[] memory extensions
    )
  {
    return (hex"0f", "AgentAccount", "1", block.chainid, address(this), bytes32(0), new uint256[](0));
  }

  /// @inheritdoc IERC165
  function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
    return
      interfaceId == type(IERC165).interfaceId ||
      interfaceId == type(IERC6551Account).interfaceId ||
      interfaceId == type(IERC6551Executable).interfaceId ||
      interfaceId == type(IERC1271).interfaceId ||
      interfaceId == type(IERC721Receiver).interfaceId;
  }

  /// @dev Whether following token holders upwards from this account leads back to it.
  function _inOwnershipCycle() private view returns (bool) {
    address current = address(this);
    for (uint256 depth; depth < MAX_OWNERSHIP_DEPTH; ++depth) {
      current = _accountOwner(current);
      if (current == address(this)) return true;
      if (current == address(0)) return false;
    }
    return false;
  }

  /// @dev Holder of the token bound to `account` when `account` is an ERC-6551 account whose token
  /// lives on this chain; zero otherwise (an EOA, another contract, a burnt token). Never reverts.
  function _accountOwner(address account) private view returns (address holder) {
    uint256 chainId;
    address tokenContract;
    uint256 tokenId;
    if (account == address(this)) {
      (chainId, tokenContract, tokenId) = token();
    } else {
      if (account.code.length == 0) return address(0);
      bytes4 selector = IERC6551Account.token.selector;
      assembly ("memory-safe") {
        let buffer := mload(0x40)
        mstore(buffer, selector)
        let success := staticcall(gas(), account, buffer, 0x04, buffer, 0x60)
        if and(success, gt(returndatasize(), 0x5f)) {
          chainId := mload(buffer)
          tokenContract := and(mload(add(buffer, 0x20)), 0xffffffffffffffffffffffffffffffffffffffff)
          tokenId := mload(add(buffer, 0x40))
        }
      }
    }
    if (chainId != block.chainid) return address(0);
    bytes4 ownerOf = IERC721.ownerOf.selector;
    assembly ("memory-safe") {
      mstore(0x00, ownerOf)
      mstore(0x04, tokenId)
      let success := staticcall(gas(), tokenContract, 0x00, 0x24, 0x00, 0x20)
      if and(success, gt(returndatasize(), 0x1f)) {
        holder := and(mload(0x00), 0xffffffffffffffffffffffffffffffffffffffff)
      }
    }
  }

  /// @dev Id of the token bound to this account.
  function _tokenId() private view returns (uint256 tokenId) {
    (, , tokenId) = token();
  }
}
