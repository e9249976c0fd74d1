// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AgentModule} from "./AgentModule.sol";

/// @notice The part of the identity registry the factory uses.
interface IAgentLauncherRegistry {
    function registerWithWallet(address agentOwner, string calldata agentURI, address wallet)
        external
        returns (uint256 agentId);
}

/// @notice The part of Safe's proxy factory (1.4.1) the factory uses.
interface ISafeProxyFactory {
    function createProxyWithNonce(address singleton, bytes memory initializer, uint256 saltNonce)
        external
        returns (address proxy);
}

/// @notice Safe 1.4.1 `setup`, encoded as the new proxy's initializer.
interface ISafeSetup {
    function setup(
        address[] calldata owners,
        uint256 threshold,
        address to,
        bytes calldata data,
        address fallbackHandler,
        address paymentToken,
        uint256 payment,
        address payable paymentReceiver
    ) external;
}

/// @notice Safe 1.4.1 `enableModule`, called by a new Safe on itself from inside its setup.
interface ISafeModules {
    function enableModule(address module) external;
}

/// @notice The ERC-6551 registry's account creation.
interface ITokenBoundAccountRegistry {
    function createAccount(address implementation, bytes32 salt, uint256 chainId, address tokenContract, uint256 tokenId)
        external
        returns (address account);
}

/// @title Agent factory
/// @notice Launches an agent in one transaction: deploys its Safe (through the real Safe proxy
/// factory, with the owners and threshold given, and the agent module enabled with the agent's key and
/// policy), mints its identity token to the owner with the Safe bound as its payment wallet, and creates
/// its ERC-6551 token-bound account. The agent's key is not an owner of its Safe: it acts only through
/// the module, within the policy.
/// @dev A launch cannot be front-run. The Safe's address is public before the launch lands (the caller,
/// the salt and the setup fix it), and Safe's proxy factory deploys for anyone, so a copy of the
/// deployment with a higher tip used to take the address and make the launch revert. Each Safe's
/// setup therefore delegatecalls `setUpAgent`, which first asks this factory whether it is launching
/// right now (a transient flag, set only around its own `createProxyWithNonce`): anyone else's
/// deployment of that Safe reverts, and the address stays free for the launch.
contract AgentFactory {
    /// @notice Parameters of a launch.
    /// @param owner Who receives the identity token.
    /// @param agentURI The registration file's URI.
    /// @param safeOwners Owners of the agent's Safe (its human owner, or several).
    /// @param threshold Signatures the Safe requires.
    /// @param agentKey The key the agent signs its calls with, through the module.
    /// @param policy The agent's spending policy, written to the module.
    /// @param salt Caller-chosen salt. With the caller and the Safe's setup (owners, threshold, agent key, policy) it fixes
    /// the Safe's address, so retrying the same launch cannot create a second agent.
    struct LaunchParams {
        address owner;
        string agentURI;
        address[] safeOwners;
        uint256 threshold;
        bytes32 salt;
        address agentKey;
        AgentModule.PolicyChange policy;
    }

    IAgentLauncherRegistry public immutable identity;
    ISafeProxyFactory public immutable safeProxyFactory;
    address public immutable safeSingleton;
    address public immutable safeFallbackHandler;
    ITokenBoundAccountRegistry public immutable accountRegistry;
    address public immutable accountImplementation;
    /// @notice The module every agent's Safe is launched with.
    AgentModule public immutable module;

    /// @notice An agent was launched; every address it owns is here.
    event AgentLaunched(
        uint256 indexed agentId, address indexed owner, address indexed safe, address account, bytes32 salt
    );

    error FactoryNoSafeOwners();
    error FactoryInvalidThreshold(uint256 threshold, uint256 owners);
    /// @notice A Safe with this factory's setup was being deployed by someone other than this factory.
    error FactoryNotLaunching();
    error FactoryNoAgentKey();

    /// @dev This factory's own address, for code running in a new Safe's context (delegatecall).
    address private immutable _self = address(this);

    /// @dev Set only while `launch` has Safe's proxy factory deploy the agent's Safe.
    bool private transient _launching;

    constructor(
        IAgentLauncherRegistry identity_,
        ISafeProxyFactory safeProxyFactory_,
        address safeSingleton_,
        address safeFallbackHandler_,
        ITokenBoundAccountRegistry accountRegistry_,
        address accountImplementation_,
        AgentModule module_
    ) {
        identity = identity_;
        safeProxyFactory = safeProxyFactory_;
        safeSingleton = safeSingleton_;
        safeFallbackHandler = safeFallbackHandler_;
        accountRegistry = accountRegistry_;
        accountImplementation = accountImplementation_;
        module = module_;
    }

    /// @notice Launches an agent. The Safe's `setup` validates the owners and threshold, and checks
    /// (`setUpAgent`) that this launch is the one deploying it.
    /// @return agentId The identity token id.
    /// @return safe The agent's Safe, bound as its payment wallet.
    /// @return account The identity token's ERC-6551 account.
    function launch(LaunchParams calldata params) external returns (uint256 agentId, address safe, address account) {
        uint256 owners = params.safeOwners.length;
        if (owners == 0) revert FactoryNoSafeOwners();
        // Safe's proxy factory drops the reason when setup reverts: refuse a bad threshold here, clearly.
        if (params.threshold == 0 || params.threshold > owners) revert FactoryInvalidThreshold(params.threshold, owners);
        if (params.agentKey == address(0)) revert FactoryNoAgentKey();
        _launching = true;
        safe = safeProxyFactory.createProxyWithNonce(
            safeSingleton, _safeInitializer(params), uint256(_saltNonce(msg.sender, params.salt))
        );
        _launching = false;
        agentId = identity.registerWithWallet(params.owner, params.agentURI, safe);
        account = accountRegistry.createAccount(accountImplementation, bytes32(0), block.chainid, address(identity), agentId);
        emit AgentLaunched(agentId, params.owner, safe, account, params.salt);
    }

    /// @notice The Safe initializer `launch` uses for these parameters (for address prediction).
    function safeInitializer(LaunchParams calldata params) external view returns (bytes memory) {
        return _safeInitializer(params);
    }

    /// @notice Run by every Safe this factory sets up, from inside its `setup` (a delegatecall, so in the
    /// Safe's context): reverts unless this factory is launching it right now, then enables the module on
    /// the Safe and writes the agent's key and policy to it (both calls come from the Safe itself).
    function setUpAgent(address agentKey, AgentModule.PolicyChange calldata policy) external {
        if (!AgentFactory(_self).launching()) revert FactoryNotLaunching();
        ISafeModules(address(this)).enableModule(address(module));
        module.initialize(agentKey, policy);
    }

    /// @notice Whether a launch is deploying its Safe at this moment (only ever true inside `launch`).
    function launching() external view returns (bool) {
        return _launching;
    }

    /// @notice The Safe proxy factory salt nonce `launch` uses for this caller and salt.
    function saltNonce(address caller, bytes32 salt) external pure returns (uint256) {
        return uint256(_saltNonce(caller, salt));
    }

    function _safeInitializer(LaunchParams calldata params) private view returns (bytes memory) {
        return abi.encodeCall(
            ISafeSetup.setup,
            (
                params.safeOwners,
                params.threshold,
                address(this),
                abi.encodeCall(AgentFactory.setUpAgent, (params.agentKey, params.policy)),
                safeFallbackHandler,
                address(0),
                0,
                payable(address(0))
            )
        );
    }

    function _saltNonce(address caller, bytes32 salt) private pure returns (bytes32) {
        return keccak256(abi.encode(caller, salt));
    }
}
