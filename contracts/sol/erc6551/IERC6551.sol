// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IERC6551Registry
/// @notice The standard ERC-6551 registry interface: deterministic token-bound account deployment.
interface IERC6551Registry {
  /// @notice Emitted when a token-bound account is deployed.
  /// @param account Address of the new account.
  /// @param implementation Logic contract the account delegates to.
  /// @param salt CREATE2 salt, also stored in the account's code.
  /// @param chainId Chain the bound token lives on.
  /// @param tokenContract ERC-721 contract of the bound token.
  /// @param tokenId Id of the bound token.
  event ERC6551AccountCreated(
    address account,
    address indexed implementation,
    bytes32 salt,
    uint256 chainId,
    address indexed tokenContract,
    uint256 indexed tokenId
  );

  /// @notice CREATE2 did not deploy the account (its address is taken by a non-empty account).
  error AccountCreationFailed();

  /// @notice Deploys the token-bound account for the given arguments, or returns it if it exists.
  /// @param implementation Logic contract the account delegates to.
  /// @param salt CREATE2 salt.
  /// @param chainId Chain the bound token lives on.
  /// @param tokenContract ERC-721 contract of the bound token.
  /// @param tokenId Id of the bound token.
  /// @return account Address of the account.
  function createAccount(
    address implementation,
    bytes32 salt,
    uint256 chainId,
    address tokenContract,
    uint256 tokenId
  ) external returns (address account);

  /// @notice Computes the address `createAccount` deploys to for the given arguments.
  /// @param implementation Logic contract the account delegates to.
  /// @param salt CREATE2 salt.
  /// @param chainId Chain the bound token lives on.
  /// @param tokenContract ERC-721 contract of the bound token.
  /// @param tokenId Id of the bound token.
  /// @return account Address of the account, deployed or not.
  function account(
    address implementation,
    bytes32 salt,
    uint256 chainId,
    address tokenContract,
    uint256 tokenId
  ) external view returns (address account);
}

/// @title IERC6551Account
/// @notice The standard ERC-6551 account interface (ERC-165 id 0x6faff5f1).
interface IERC6551Account {
  /// @notice Accepts ether.
  receive() external payable;

  /// @notice The token this account is bound to.
  /// @return chainId Chain the token lives on.
  /// @return tokenContract ERC-721 contract of the token.
  /// @return tokenId Id of the token.
  function token() external view returns (uint256 chainId, address tokenContract, uint256 tokenId);

  /// @notice A value that changes every time the account's state changes.
  /// @return The current state value.
  function state() external view returns (uint256);

  /// @notice Whether `signer` may act for this account.
  /// @param signer Address to check.
  /// @param context Implementation-specific data.
  /// @return magicValue `IERC6551Account.isValidSigner.selector` (0x523e3260) when valid, else zero.
  function isValidSigner(address signer, bytes calldata context) external view returns (bytes4 magicValue);
}

/// @title IERC6551Executable
/// @notice The standard ERC-6551 execution interface (ERC-165 id 0x51945447).
interface IERC6551Executable {
  /// @notice Executes an operation from the account.
  /// @param to Target address.
  /// @param value Wei to send.
  /// @param data Calldata.
  /// @param operation 0 CALL, 1 DELEGATECALL, 2 CREATE, 3 CREATE2.
  /// @return The data returned by the operation.
  function execute(
    address to,
    uint256 value,
    bytes calldata data,
    uint8 operation
  ) external payable returns (bytes memory);
}
