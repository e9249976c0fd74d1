// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title MaliciousToken
/// @notice Test-only ERC-20 that anyone can mint and reconfigure: its transfers can fail (return
/// false or revert) or call back into another contract before moving funds, so tests can check that
/// a hostile token cannot block settlements, move funds twice, or touch jobs in other tokens.
contract MaliciousToken is ERC20 {
  /// @notice What a transfer does before (or instead of) moving funds.
  enum Behavior {
    Normal,
    ReturnFalse,
    Revert,
    Reenter
  }

  /// @notice How `transfer` behaves.
  Behavior public onTransfer;
  /// @notice How `transferFrom` behaves.
  Behavior public onTransferFrom;
  /// @notice When set, the behaviors apply only to transfers to this recipient.
  address public victim;
  /// @notice Contract called back during a transfer with `Behavior.Reenter`.
  address public reentryTarget;
  /// @notice Calldata of that call.
  bytes public reentryData;

  /// @notice A callback was made during a transfer; `result` is its return or revert data.
  event ReentryAttempted(bool success, bytes result);

  /// @notice A transfer configured to revert did.
  error MaliciousTokenRefused(address to, uint256 amount);

  constructor() ERC20("Malicious Token", "MAL") {}

  /// @notice Mints `amount` to `to`.
  function mint(address to, uint256 amount) external {
    _mint(to, amount);
  }

  /// @notice Sets how transfers behave; `victim_` zero applies the behaviors to every recipient.
  function setBehavior(Behavior onTransfer_, Behavior onTransferFrom_, address victim_) external {
    onTransfer = onTransfer_;
    onTransferFrom = onTransferFrom_;
    victim = victim_;
  }

  /// @notice Sets the call made during a transfer with `Behavior.Reenter`.
  function setReentry(address target, bytes calldata data) external {
    reentryTarget = target;
    reentryData = data;
  }

  /// @notice Makes the token itself call `target`, so it can act as a party (an evaluator, a client).
  /// @return result The call's return data; a revert is bubbled up.
  function execute(address target, bytes calldata data) external returns (bytes memory result) {
    bool ok;
    (ok, result) = target.call(data);
    if (!ok) {
      assembly ("memory-safe") {
        revert(add(result, 0x20), mload(result))
      }
    }
  }

  /// @inheritdoc ERC20
  function transfer(address to, uint256 value) public override returns (bool) {
    if (!_misbehave(onTransfer, to, value)) return false;
    return super.transfer(to, value);
  }

  /// @inheritdoc ERC20
  function transferFrom(address from, address to, uint256 value) public override returns (bool) {
    if (!_misbehave(onTransferFrom, to, value)) return false;
    return super.transferFrom(from, to, value);
  }

  /// @dev Applies `behavior` to a transfer to `to`; false means the transfer should report failure.
  function _misbehave(Behavior behavior, address to, uint256 value) private returns (bool proceed) {
    if (victim != address(0) && to != victim) return true;
    if (behavior == Behavior.ReturnFalse) return false;
    if (behavior == Behavior.Revert) revert MaliciousTokenRefused(to, value);
    if (behavior == Behavior.Reenter) {
      (bool ok, bytes memory result) = reentryTarget.call(reentryData);
      emit ReentryAttempted(ok, result);
    }
    return true;
  }
}
