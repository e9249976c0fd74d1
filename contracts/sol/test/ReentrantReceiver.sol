// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ReentrantReceiver
/// @notice Test-only contract party (a client, or an agent's payment address) whose ETH receipt can
/// be refused, burn all gas, or call back into another contract, so tests can check that a hostile
/// recipient can neither block a settlement nor be paid twice. Anyone may drive it: tests only.
contract ReentrantReceiver {
  /// @notice What receiving ETH does.
  enum Mode {
    Accept,
    Refuse,
    Reenter,
    ReenterStrict,
    BurnGas
  }

  /// @notice Current behavior on receipt.
  Mode public mode;
  /// @notice Contract called back on receipt in the `Reenter*` modes.
  address public reentryTarget;
  /// @notice Calldata of that call.
  bytes public reentryData;
  /// @notice How many payments were accepted, and their total.
  uint256 public receivedCount;
  uint256 public receivedTotal;

  /// @notice ETH was accepted.
  event Received(uint256 amount);
  /// @notice A callback was made on receipt; `result` is its return or revert data.
  event ReentryAttempted(bool success, bytes result);

  /// @notice Receipt refused (`Mode.Refuse`).
  error ReentrantReceiverRefused(uint256 amount);

  /// @notice Sets the behavior on receipt.
  function setMode(Mode mode_) external {
    mode = mode_;
  }

  /// @notice Sets the callback made on receipt in the `Reenter*` modes.
  function setReentry(address target, bytes calldata data) external {
    reentryTarget = target;
    reentryData = data;
  }

  /// @notice Calls `target` as this contract, forwarding `msg.value`.
  /// @return result The call's return data; a revert is bubbled up.
  function execute(address target, bytes calldata data) external payable returns (bytes memory result) {
    bool ok;
    (ok, result) = target.call{value: msg.value}(data);
    if (!ok) _bubble(result);
  }

  /// @notice Applies the configured behavior. In `ReenterStrict` a failed callback fails the receipt.
  receive() external payable {
    Mode current = mode;
    if (current == Mode.Refuse) revert ReentrantReceiverRefused(msg.value);
    if (current == Mode.BurnGas) {
      assembly {
        invalid()
      }
    }
    if (current == Mode.Reenter || current == Mode.ReenterStrict) {
      (bool ok, bytes memory result) = reentryTarget.call(reentryData);
      emit ReentryAttempted(ok, result);
      if (!ok && current == Mode.ReenterStrict) _bubble(result);
    }
    receivedCount += 1;
    receivedTotal += msg.value;
    emit Received(msg.value);
  }

  function _bubble(bytes memory result) private pure {
    assembly ("memory-safe") {
      revert(add(result, 0x20), mload(result))
    }
  }
}
