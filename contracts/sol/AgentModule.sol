// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

/// @notice The parts of a Safe 1.4.1 the module uses.
interface IModuleSafe {
    function execTransactionFromModuleReturnData(address to, uint256 value, bytes memory data, uint8 operation)
        external
        returns (bool success, bytes memory returnData);

    function isOwner(address owner) external view returns (bool);
}

/// @notice The economy functions the module recognises (selectors only).
interface IModuleEconomy {
    function identity() external view returns (IModuleIdentity);
    function pay(uint256 toAgentId, address token, uint256 amount, bytes32 memo) external payable;
    function createJob(
        uint256 providerId,
        address evaluator,
        address token,
        uint256 budget,
        uint256 deadline,
        bytes32 specHash
    ) external payable returns (uint256);
    function submitJob(uint256 jobId, bytes32 deliverableHash) external;
    function declineJob(uint256 jobId, bytes32 reasonHash) external;
    function completeJob(uint256 jobId, uint8 rating, bytes32 feedbackHash) external;
    function rejectJob(uint256 jobId, bytes32 reasonHash) external;
    function refundExpired(uint256 jobId) external;
    function withdrawOwed(address token) external;
}

/// @notice The identity registry's payment address lookup.
interface IModuleIdentity {
    function paymentAddress(uint256 agentId) external view returns (address);
}

/// @notice ERC-20 selectors the module recognises.
interface IModuleToken {
    function approve(address spender, uint256 amount) external returns (bool);
    function transfer(address to, uint256 amount) external returns (bool);
}

/// @title Agent module: an agent's on-chain spending policy, enforced by its Safe
/// @notice One module serves every agent's Safe. A Safe's owners keep full control of it; the agent's
/// key is not an owner. The agent acts only through `execute`: a relayer submits calls the agent's key
/// signed, and the module has the Safe make them only when each is within the policy its owners set:
/// - the economy's payment and job functions, with each payment and job budget counted;
/// - token approvals, to the economy only;
/// - transfers (of tokens, or plain ETH) only to the Safe's owners (not counted) or to payees the owners
///   allowed (counted);
/// - nothing else: no call to the Safe itself (owners, modules, guards, fallback handler, threshold),
///   no delegatecall, no other contract.
/// Spending is bounded per token (`address(0)` is ETH): a cap per call and a budget per period, counted
/// here; a token without a limit cannot be spent. With `restricted` set, payments and jobs go only to
/// allowed agents (by id, or by the agent's payment address being an allowed payee).
/// The owners change the policy, pause the agent, and rotate or revoke its key through the Safe itself
/// (each a call from the Safe to this module, effective in that same transaction). The agent's calls
/// carry the module's own per-Safe nonce, so the owners' use of the Safe never disturbs the agent.
/// @dev Budget periods are fixed windows: the first counted spend opens one, and each later window starts
/// a whole number of periods after it. A policy change keeps what was spent in the open window.
contract AgentModule is EIP712 {
    /// @notice One call the agent asks its Safe to make (always a plain call, never a delegatecall).
    struct Call {
        address to;
        uint256 value;
        bytes data;
    }

    /// @notice A token's limit. `perPeriod` is ignored when `period` is 0 (no budget, only the cap).
    struct TokenLimit {
        address token;
        uint96 perCall;
        uint96 perPeriod;
        uint32 period;
    }

    /// @notice A change of policy, applied in this order: limits removed, limits set, agents and payees
    /// disallowed, then allowed, and `restricted` set.
    struct PolicyChange {
        address[] removeLimits;
        TokenLimit[] setLimits;
        uint256[] disallowAgents;
        uint256[] allowAgents;
        address[] disallowPayees;
        address[] allowPayees;
        bool restricted;
    }

    /// @notice An agent's state in one slot: its key, the nonce of its next call, and two switches.
    struct Agent {
        address key;
        uint64 nonce;
        bool paused;
        bool restricted;
    }

    struct Limit {
        uint96 perCall;
        uint96 perPeriod;
        uint32 period;
        bool enabled;
    }

    struct Spent {
        uint96 amount;
        uint40 periodStart;
    }

    bytes32 private constant EXECUTE_TYPEHASH =
        keccak256("Execute(address safe,uint64 nonce,bytes32 callsHash)");
    bytes32 private constant CALL_TYPEHASH = keccak256("Call(address to,uint256 value,bytes data)");

    /// @notice The economy whose payment and job functions agents may call.
    address public immutable economy;
    /// @notice The identity registry, for the payment addresses of allowed agents.
    IModuleIdentity public immutable identity;

    mapping(address safe => Agent) private _agents;
    mapping(address safe => mapping(address token => Limit)) private _limits;
    mapping(address safe => mapping(address token => Spent)) private _spent;
    mapping(address safe => mapping(uint256 agentId => bool)) private _allowedAgents;
    mapping(address safe => mapping(address payee => bool)) private _allowedPayees;

    /// @notice The Safe's agent key was set (`address(0)`: revoked).
    event AgentKeySet(address indexed safe, address indexed key);
    /// @notice The Safe's agent was paused or resumed.
    event PausedSet(address indexed safe, bool paused);
    /// @notice A token's limit was set.
    event LimitSet(address indexed safe, address indexed token, uint96 perCall, uint96 perPeriod, uint32 period);
    /// @notice A token's limit was removed: the agent can no longer spend it.
    event LimitRemoved(address indexed safe, address indexed token);
    /// @notice An agent id was allowed or disallowed as a counterparty.
    event AgentAllowedSet(address indexed safe, uint256 indexed agentId, bool allowed);
    /// @notice An address was allowed or disallowed as a payee.
    event PayeeAllowedSet(address indexed safe, address indexed payee, bool allowed);
    /// @notice Payments and jobs were restricted to allowed counterparties, or opened to all.
    event RestrictedSet(address indexed safe, bool restricted);

    error ModuleNoAgent(address safe);
    error ModulePaused(address safe);
    error ModuleBadNonce(address safe, uint64 expected, uint64 given);
    error ModuleInvalidSignature(address safe, address signer);
    error ModuleNoCalls();
    error ModuleCallNotAllowed(address safe, address to, bytes4 selector);
    error ModuleValueNotAllowed(address safe, address to, uint256 value);
    error ModuleValueMismatch(address safe, uint256 amount, uint256 value);
    error ModuleSpenderNotAllowed(address safe, address token, address spender);
    error ModulePayeeNotAllowed(address safe, address payee);
    error ModuleCounterpartyNotAllowed(address safe, uint256 agentId);
    error ModuleTokenNotAllowed(address safe, address token);
    error ModuleOverCallCap(address safe, address token, uint256 amount, uint256 cap);
    error ModuleOverBudget(address safe, address token, uint256 total, uint256 budget);
    error ModuleInvalidLimit(address safe, address token);

    /// @param economy_ The economy agents pay and hire through.
    constructor(address economy_) EIP712("AgentModule", "1") {
        economy = economy_;
        identity = IModuleEconomy(economy_).identity();
    }

    // ------------------------------------------------------------------ the agent's path

    /// @notice Has `safe` make `calls`, signed by its agent's key over (safe, nonce, calls), each checked
    /// against the Safe's policy. All or nothing: a refused or failing call reverts the whole batch with
    /// its own error. Anyone may submit (a relayer pays the gas); the nonce makes each signature count once.
    /// @param safe The agent's Safe.
    /// @param nonce The agent's next nonce (`agentOf(safe).nonce`).
    /// @param calls The calls, made in order.
    /// @param signature The agent key's signature of the EIP-712 `Execute` message.
    function execute(address safe, uint64 nonce, Call[] calldata calls, bytes calldata signature) external {
        Agent memory agent = _agents[safe];
        if (agent.key == address(0)) revert ModuleNoAgent(safe);
        if (agent.paused) revert ModulePaused(safe);
        if (nonce != agent.nonce) revert ModuleBadNonce(safe, agent.nonce, nonce);
        if (calls.length == 0) revert ModuleNoCalls();
        (address signer, ECDSA.RecoverError failure,) =
            ECDSA.tryRecoverCalldata(executeDigest(safe, nonce, calls), signature);
        if (failure != ECDSA.RecoverError.NoError || signer != agent.key) revert ModuleInvalidSignature(safe, signer);
        _agents[safe].nonce = nonce + 1;
        for (uint256 i; i < calls.length; ++i) {
            Call calldata call = calls[i];
            _check(safe, agent, call);
            _make(safe, call.to, call.value, call.data);
        }
    }

    /// @notice The EIP-712 digest the agent's key signs for `execute`.
    function executeDigest(address safe, uint64 nonce, Call[] calldata calls) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(EXECUTE_TYPEHASH, safe, nonce, _callsHash(calls))));
    }

    // ------------------------------------------------------------------ the owners' path (from the Safe)

    /// @notice Sets the calling Safe's agent key and policy: what a launch (from inside the Safe's setup)
    /// or a move of an older agent onto this module does, in one call.
    function initialize(address key, PolicyChange calldata change) external {
        _setKey(key);
        _configure(change);
    }

    /// @notice Changes the calling Safe's policy.
    function configure(PolicyChange calldata change) external {
        _configure(change);
    }

    /// @notice Rotates the calling Safe's agent key; `address(0)` revokes it (the agent can do nothing).
    function setAgentKey(address key) external {
        _setKey(key);
    }

    /// @notice Pauses (or resumes) the calling Safe's agent: while paused every `execute` reverts.
    function setPaused(bool paused) external {
        _agents[msg.sender].paused = paused;
        emit PausedSet(msg.sender, paused);
    }

    // ------------------------------------------------------------------ views

    /// @notice The Safe's agent: key (`address(0)` if none), next nonce, and switches.
    function agentOf(address safe) external view returns (Agent memory) {
        return _agents[safe];
    }

    /// @notice The Safe's limit for `token` (`enabled` false: the agent cannot spend it).
    function limitOf(address safe, address token) external view returns (Limit memory) {
        return _limits[safe][token];
    }

    /// @notice What the Safe's agent has spent of `token` in the window that is open now.
    function spentOf(address safe, address token) external view returns (uint256 amount, uint256 periodStart) {
        Spent memory spent = _spent[safe][token];
        return _rolled(spent.amount, spent.periodStart, _limits[safe][token].period);
    }

    /// @notice Whether the Safe's agent may pay or hire agent `agentId` when restricted.
    function isAgentAllowed(address safe, uint256 agentId) external view returns (bool) {
        return _allowedAgents[safe][agentId];
    }

    /// @notice Whether `payee` is an allowed payee of the Safe's agent.
    function isPayeeAllowed(address safe, address payee) external view returns (bool) {
        return _allowedPayees[safe][payee];
    }

    // ------------------------------------------------------------------ hashing and making calls

    /// @dev keccak256 of the calls' EIP-712 struct hashes, concatenated (each hashed in scratch memory).
    function _callsHash(Call[] calldata calls) private pure returns (bytes32 hash) {
        uint256 count = calls.length;
        bytes32[] memory hashes = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            Call calldata call = calls[i];
            hashes[i] = _callHash(call.to, call.value, call.data);
        }
        assembly ("memory-safe") {
            hash := keccak256(add(hashes, 0x20), shl(5, count))
        }
    }

    /// @dev `keccak256(abi.encode(CALL_TYPEHASH, to, value, keccak256(data)))`, without keeping memory.
    function _callHash(address to, uint256 value, bytes calldata data) private pure returns (bytes32 hash) {
        bytes32 typehash = CALL_TYPEHASH;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, data.offset, data.length)
            let dataHash := keccak256(ptr, data.length)
            mstore(ptr, typehash)
            mstore(add(ptr, 0x20), to)
            mstore(add(ptr, 0x40), value)
            mstore(add(ptr, 0x60), dataHash)
            hash := keccak256(ptr, 0x80)
        }
    }

    /// @dev Has `safe` make the call (operation 0: a plain call) through Safe's
    /// `execTransactionFromModuleReturnData`, reverting with the call's own revert data when it fails,
    /// and with the Safe's when the Safe refuses (a module it has not enabled). The call is encoded in
    /// scratch memory, so a batch's memory does not grow with each call.
    function _make(address safe, address to, uint256 value, bytes calldata data) private {
        bytes4 selector = IModuleSafe.execTransactionFromModuleReturnData.selector;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), to)
            mstore(add(ptr, 0x24), value)
            mstore(add(ptr, 0x44), 0x80)
            mstore(add(ptr, 0x64), 0)
            mstore(add(ptr, 0x84), data.length)
            calldatacopy(add(ptr, 0xa4), data.offset, data.length)
            // Zero the padding after the data, which the ABI wants.
            mstore(add(add(ptr, 0xa4), data.length), 0)
            let size := add(0xa4, and(add(data.length, 0x1f), not(0x1f)))
            if iszero(call(gas(), safe, 0, ptr, size, 0, 0)) {
                returndatacopy(ptr, 0, returndatasize())
                revert(ptr, returndatasize())
            }
            // Returns (bool success, bytes returnData); anything shorter is not a Safe.
            if lt(returndatasize(), 0x60) { revert(0, 0) }
            returndatacopy(ptr, 0, 0x40)
            if iszero(mload(ptr)) {
                let offset := mload(add(ptr, 0x20))
                if gt(offset, sub(returndatasize(), 0x20)) { revert(0, 0) }
                returndatacopy(ptr, offset, 0x20)
                let length := mload(ptr)
                if gt(length, sub(returndatasize(), add(offset, 0x20))) { revert(0, 0) }
                returndatacopy(ptr, add(offset, 0x20), length)
                revert(ptr, length)
            }
        }
    }

    // ------------------------------------------------------------------ checks

    function _check(address safe, Agent memory agent, Call calldata call) private {
        bytes calldata data = call.data;
        if (data.length == 0) return _transfer(safe, address(0), call.to, call.value);
        if (data.length < 4) revert ModuleCallNotAllowed(safe, call.to, bytes4(0));
        bytes4 selector = bytes4(data[:4]);
        if (call.to == economy) return _economyCall(safe, agent, call, selector);
        if (!_limits[safe][call.to].enabled) revert ModuleCallNotAllowed(safe, call.to, selector);
        if (call.value != 0) revert ModuleValueNotAllowed(safe, call.to, call.value);
        if (selector == IModuleToken.approve.selector) {
            (address spender,) = abi.decode(data[4:], (address, uint256));
            if (spender != economy) revert ModuleSpenderNotAllowed(safe, call.to, spender);
        } else if (selector == IModuleToken.transfer.selector) {
            (address to, uint256 amount) = abi.decode(data[4:], (address, uint256));
            _transfer(safe, call.to, to, amount);
        } else {
            revert ModuleCallNotAllowed(safe, call.to, selector);
        }
    }

    function _economyCall(address safe, Agent memory agent, Call calldata call, bytes4 selector) private {
        bytes calldata args = call.data[4:];
        if (selector == IModuleEconomy.pay.selector) {
            (uint256 toAgentId, address token, uint256 amount,) = abi.decode(args, (uint256, address, uint256, bytes32));
            _spendWith(safe, agent, toAgentId, token, amount, call.value);
        } else if (selector == IModuleEconomy.createJob.selector) {
            (uint256 providerId,, address token, uint256 budget,,) =
                abi.decode(args, (uint256, address, address, uint256, uint256, bytes32));
            _spendWith(safe, agent, providerId, token, budget, call.value);
        } else if (
            selector == IModuleEconomy.submitJob.selector || selector == IModuleEconomy.declineJob.selector
                || selector == IModuleEconomy.completeJob.selector || selector == IModuleEconomy.rejectJob.selector
                || selector == IModuleEconomy.refundExpired.selector || selector == IModuleEconomy.withdrawOwed.selector
        ) {
            if (call.value != 0) revert ModuleValueNotAllowed(safe, call.to, call.value);
        } else {
            revert ModuleCallNotAllowed(safe, call.to, selector);
        }
    }

    /// @dev A payment or a job's budget to agent `agentId`: value only for ETH, and exactly the amount.
    function _spendWith(address safe, Agent memory agent, uint256 agentId, address token, uint256 amount, uint256 value)
        private
    {
        if (value != (token == address(0) ? amount : 0)) revert ModuleValueMismatch(safe, amount, value);
        if (agent.restricted && !_allowedAgents[safe][agentId]) {
            if (!_allowedPayees[safe][identity.paymentAddress(agentId)]) {
                revert ModuleCounterpartyNotAllowed(safe, agentId);
            }
        }
        _spend(safe, token, amount);
    }

    /// @dev A transfer out of the Safe: free to its owners, counted to allowed payees, refused elsewhere.
    function _transfer(address safe, address token, address to, uint256 amount) private {
        if (IModuleSafe(safe).isOwner(to)) {
            if (!_limits[safe][token].enabled) revert ModuleTokenNotAllowed(safe, token);
            return;
        }
        if (!_allowedPayees[safe][to]) revert ModulePayeeNotAllowed(safe, to);
        _spend(safe, token, amount);
    }

    function _spend(address safe, address token, uint256 amount) private {
        Limit storage limit = _limits[safe][token];
        (uint256 perCall, uint256 perPeriod, uint256 period) = (limit.perCall, limit.perPeriod, limit.period);
        if (!limit.enabled) revert ModuleTokenNotAllowed(safe, token);
        if (amount > perCall) revert ModuleOverCallCap(safe, token, amount, perCall);
        if (period == 0) return;
        Spent storage spent = _spent[safe][token];
        (uint256 spentAmount, uint256 periodStart) = _rolled(spent.amount, spent.periodStart, period);
        uint256 total = spentAmount + amount;
        if (total > perPeriod) revert ModuleOverBudget(safe, token, total, perPeriod);
        // total <= perPeriod < 2^96; periodStart <= block.timestamp, far below 2^40.
        (spent.amount, spent.periodStart) = (uint96(total), uint40(periodStart));
    }

    /// @dev The window open now: the first spend opens one; later ones start whole periods after it.
    function _rolled(uint256 amount, uint256 periodStart, uint256 period)
        private
        view
        returns (uint256, uint256)
    {
        if (periodStart == 0) return (0, block.timestamp);
        if (period == 0 || block.timestamp < periodStart + period) return (amount, periodStart);
        return (0, block.timestamp - ((block.timestamp - periodStart) % period));
    }

    // ------------------------------------------------------------------ policy writes

    function _setKey(address key) private {
        _agents[msg.sender].key = key;
        emit AgentKeySet(msg.sender, key);
    }

    function _configure(PolicyChange calldata change) private {
        address safe = msg.sender;
        for (uint256 i; i < change.removeLimits.length; ++i) {
            delete _limits[safe][change.removeLimits[i]];
            emit LimitRemoved(safe, change.removeLimits[i]);
        }
        for (uint256 i; i < change.setLimits.length; ++i) {
            TokenLimit calldata limit = change.setLimits[i];
            // A limit makes its address callable as a token: never the Safe, this module or the economy.
            if (limit.token == safe || limit.token == address(this) || limit.token == economy) {
                revert ModuleInvalidLimit(safe, limit.token);
            }
            _limits[safe][limit.token] = Limit(limit.perCall, limit.perPeriod, limit.period, true);
            emit LimitSet(safe, limit.token, limit.perCall, limit.perPeriod, limit.period);
        }
        _setAgents(safe, change.disallowAgents, false);
        _setAgents(safe, change.allowAgents, true);
        _setPayees(safe, change.disallowPayees, false);
        _setPayees(safe, change.allowPayees, true);
        if (_agents[safe].restricted != change.restricted) {
            _agents[safe].restricted = change.restricted;
            emit RestrictedSet(safe, change.restricted);
        }
    }

    function _setAgents(address safe, uint256[] calldata ids, bool allowed) private {
        for (uint256 i; i < ids.length; ++i) {
            _allowedAgents[safe][ids[i]] = allowed;
            emit AgentAllowedSet(safe, ids[i], allowed);
        }
    }

    function _setPayees(address safe, address[] calldata payees, bool allowed) private {
        for (uint256 i; i < payees.length; ++i) {
            _allowedPayees[safe][payees[i]] = allowed;
            emit PayeeAllowedSet(safe, payees[i], allowed);
        }
    }
}
