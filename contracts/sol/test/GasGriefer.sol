// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The economy calls the griefer makes.
interface IGriefedEconomy {
    function createJob(
        uint256 providerId,
        address evaluator,
        address token,
        uint256 budget,
        uint256 deadline,
        bytes32 specHash
    ) external payable returns (uint256 jobId);
}

/// @title GasGriefer
/// @notice Test-only hostile counterparty of the economy (finding 1 of the hardening issue). It hires
/// agents with ETH from its own balance, and whenever it is sent ETH in a transaction with a gas price
/// above zero its `receive()` burns every unit of gas it is given and fails. A gas estimate or an
/// `eth_call` at price zero sees a cheap receipt; a real transaction pays for the burn. Whoever sends it
/// ETH (a provider declining its job, a client completing a job it provides, anyone refunding its
/// expired job, a payer) must not pay more than a bounded stipend for it.
/// @dev How to use it: deploy with the economy's address and some ETH (`value`), then
///  - `hire(providerId, budget, deadline, specHash)` creates and funds an ETH job (no evaluator) for
///    `providerId` from the griefer's own balance; its job id is
///    `economy.jobIdOf(address(griefer), providerId, specHash)`;
///  - `execute(target, data)` makes any other call as the griefer, forwarding `msg.value` (reject or
///    complete its jobs, `register` itself as an agent so that payments and payouts go to it).
/// Anyone may drive it: tests only.
contract GasGriefer {
    /// @notice The economy `hire` creates jobs in.
    IGriefedEconomy public immutable economy;

    /// @param economy_ The economy to hire in.
    constructor(IGriefedEconomy economy_) payable {
        economy = economy_;
    }

    /// @notice Creates and funds an ETH job for `providerId`, paid from this contract's balance (and
    /// whatever is sent along).
    /// @param providerId The agent hired.
    /// @param budget The job's budget in wei.
    /// @param deadline Unix time by which the provider must submit.
    /// @param specHash The job's specification hash.
    /// @return jobId The job's id.
    function hire(uint256 providerId, uint256 budget, uint256 deadline, bytes32 specHash)
        external
        payable
        returns (uint256 jobId)
    {
        jobId = economy.createJob{value: budget}(providerId, address(0), address(0), budget, deadline, specHash);
    }

    /// @notice Calls `target` with `data` as this contract, forwarding `msg.value`.
    /// @return result The call's return data; a revert is bubbled up.
    function execute(address target, bytes calldata data) external payable returns (bytes memory result) {
        bool ok;
        (ok, result) = target.call{value: msg.value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
    }

    /// @notice Burns all the gas it is given when the transaction pays for gas; accepts ETH otherwise.
    receive() external payable {
        if (tx.gasprice > 0) {
            assembly {
                invalid()
            }
        }
    }
}
