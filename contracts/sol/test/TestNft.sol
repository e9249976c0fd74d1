// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// @title TestNft
/// @notice Test-only ERC-721 that anyone can mint: stands in for the agent identity NFT in tests.
contract TestNft is ERC721 {
  constructor() ERC721("Test NFT", "TNFT") {}

  /// @notice Mints `tokenId` to `to`.
  /// @param to Receiver of the token.
  /// @param tokenId Id of the new token.
  function mint(address to, uint256 tokenId) external {
    _mint(to, tokenId);
  }
}
