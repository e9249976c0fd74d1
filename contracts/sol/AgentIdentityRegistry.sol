// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/// @title Agent identity registry
/// @notice ERC-721 registry of agent identities in the spirit of ERC-8004's identity registry. Each
/// token is an agent: its URI points at the agent's registration file, and its `agentWallet` is the
/// address that receives the agent's payments. The wallet can only be bound with the wallet's own
/// signature (EIP-712, or ERC-1271 so a Safe can sign) over a per-agent nonce, or by a trusted launcher
/// in the transaction that creates the wallet, and it is cleared whenever the token changes hands.
/// As ERC-8004 readers expect, every binding and clearing is also announced as the `agentWallet`
/// metadata entry (`MetadataSet`, the wallet's 20 bytes, or empty when cleared), and
/// `getMetadata(agentId, "agentWallet")` reads it back in the same encoding.
/// A token cannot be moved into its own ERC-6551 account (or into an account whose chain of holders
/// leads back to it), where it would be locked forever.
contract AgentIdentityRegistry is ERC721, Ownable, EIP712 {
    /// @notice EIP-712 type of the consent a wallet gives to be bound to an agent. `nonce` is the
    /// agent's `walletNonce`, which every binding by consent moves on, so a consent binds once.
    bytes32 public constant AGENT_WALLET_TYPEHASH = keccak256(
        "AgentWalletSet(uint256 agentId,address newWallet,address owner,uint256 nonce,uint256 deadline)"
    );

    /// @notice How many holders up from the receiving account the transfer check follows.
    uint256 public constant MAX_ACCOUNT_DEPTH = 8;

    /// @dev Runtime code length of an ERC-6551 registry proxy: 45-byte ERC-1167 proxy, 128-byte footer.
    uint256 private constant _ACCOUNT_CODE_LENGTH = 0xad;
    /// @dev Offset of `chainId` in that code (the footer is salt, chainId, tokenContract, tokenId).
    uint256 private constant _ACCOUNT_FOOTER_OFFSET = 0x4d;

    /// @dev Metadata key reserved for the wallet; it has its own setter with signature checks.
    string private constant AGENT_WALLET = "agentWallet";
    /// @dev Its hash, what a key is compared with.
    bytes32 private constant AGENT_WALLET_KEY = keccak256(bytes(AGENT_WALLET));

    /// @dev The next agent id; ids start at 1 so that 0 can mean "no agent".
    uint256 private _nextAgentId = 1;

    /// @dev An agent's payment wallet and its consent nonce share one slot.
    struct WalletBinding {
        address wallet;
        uint96 nonce;
    }

    mapping(uint256 agentId => string) private _agentURIs;
    mapping(uint256 agentId => WalletBinding) private _agentWallets;
    mapping(uint256 agentId => mapping(string key => bytes)) private _metadata;

    /// @dev Prefix of the URI of agents registered without one: `baseURI ++ agentId`.
    string private _baseAgentURI;

    /// @notice Contracts trusted to bind a wallet they have just created (the agent factory).
    mapping(address launcher => bool) public isLauncher;

    /// @notice An agent was registered.
    event Registered(uint256 indexed agentId, string agentURI, address indexed owner);
    /// @notice The agent's registration file moved.
    event URIUpdated(uint256 indexed agentId, string newURI, address indexed updatedBy);
    /// @notice A metadata entry was written. The reserved `agentWallet` entry is announced with it too:
    /// `metadataValue` is the bound wallet's 20 bytes (`abi.encodePacked(wallet)`), empty when cleared.
    event MetadataSet(uint256 indexed agentId, string indexed indexedMetadataKey, string metadataKey, bytes metadataValue);
    /// @notice The agent's payment wallet was bound (or cleared, when `wallet` is zero).
    event AgentWalletSet(uint256 indexed agentId, address indexed wallet, address indexed setBy);
    /// @notice The URI prefix of agents without a URI of their own changed.
    event BaseURISet(string baseURI);
    /// @notice A launcher was trusted or distrusted.
    event LauncherSet(address indexed launcher, bool trusted);

    error IdentityNotAuthorized(uint256 agentId, address caller);
    error IdentityNotLauncher(address caller);
    error IdentityUnknownAgent(uint256 agentId);
    error IdentitySignatureExpired(uint256 deadline);
    error IdentityInvalidWalletSignature(uint256 agentId, address wallet);
    error IdentityReservedMetadataKey(string key);
    error IdentityZeroAddress();
    error IdentityTransferIntoOwnAccount(uint256 agentId, address to);

    constructor(address initialOwner) ERC721("Agora Agent", "AGENT") Ownable(initialOwner) EIP712("AgentIdentityRegistry", "1") {}

    // ------------------------------------------------------------------ registration

    /// @notice Registers a new agent owned by the caller.
    /// @param agentURI Where the agent's registration file lives (may be empty and set later).
    /// @return agentId The new agent's id (the ERC-721 token id).
    function register(string calldata agentURI) external returns (uint256 agentId) {
        agentId = _register(msg.sender, agentURI);
    }

    /// @notice Registers an agent for `agentOwner` and binds `wallet` as its payment wallet. Only a
    /// trusted launcher may call this: it vouches that it created `wallet` for this agent in the same
    /// transaction, which stands in for the wallet's signature.
    /// @param agentOwner Who owns the new identity token.
    /// @param agentURI Where the agent's registration file lives.
    /// @param wallet The payment wallet to bind.
    /// @return agentId The new agent's id.
    function registerWithWallet(address agentOwner, string calldata agentURI, address wallet)
        external
        returns (uint256 agentId)
    {
        if (!isLauncher[msg.sender]) revert IdentityNotLauncher(msg.sender);
        if (wallet == address(0)) revert IdentityZeroAddress();
        agentId = _register(agentOwner, agentURI);
        _agentWallets[agentId].wallet = wallet;
        _emitAgentWallet(agentId, wallet, msg.sender);
    }

    /// @notice The id the next registration will receive.
    function nextAgentId() external view returns (uint256) {
        return _nextAgentId;
    }

    function _register(address agentOwner, string calldata agentURI) private returns (uint256 agentId) {
        if (agentOwner == address(0)) revert IdentityZeroAddress();
        unchecked {
            agentId = _nextAgentId++;
        }
        _mint(agentOwner, agentId);
        if (bytes(agentURI).length != 0) _agentURIs[agentId] = agentURI;
        emit Registered(agentId, agentURI, agentOwner);
    }

    // ------------------------------------------------------------------ URI and metadata

    /// @notice Points the agent at a new registration file. Owner or approved operator only.
    function setAgentURI(uint256 agentId, string calldata newURI) external {
        _checkAuthorized(agentId);
        _agentURIs[agentId] = newURI;
        emit URIUpdated(agentId, newURI, msg.sender);
    }

    /// @notice The agent's registration file URI: its own, or `baseURI ++ agentId` when it has none
    /// (the cheap default for agents a runtime launches and serves the registration files of).
    function tokenURI(uint256 agentId) public view override returns (string memory) {
        _requireOwned(agentId);
        string memory own = _agentURIs[agentId];
        return bytes(own).length != 0 ? own : super.tokenURI(agentId);
    }

    /// @notice Writes an on-chain metadata entry. `agentWallet` is reserved: use `setAgentWallet`.
    function setMetadata(uint256 agentId, string calldata key, bytes calldata value) external {
        _checkAuthorized(agentId);
        if (keccak256(bytes(key)) == AGENT_WALLET_KEY) revert IdentityReservedMetadataKey(key);
        _metadata[agentId][key] = value;
        emit MetadataSet(agentId, key, key, value);
    }

    /// @notice Reads an on-chain metadata entry. `agentWallet` reads the bound wallet as ERC-8004 has
    /// it: its 20 bytes (`abi.encodePacked(wallet)`), or empty bytes when none is bound.
    function getMetadata(uint256 agentId, string calldata key) external view returns (bytes memory) {
        if (keccak256(bytes(key)) == AGENT_WALLET_KEY) return _walletBytes(_agentWallets[agentId].wallet);
        return _metadata[agentId][key];
    }

    // ------------------------------------------------------------------ wallet

    /// @notice The agent's bound payment wallet, or zero when none is bound.
    function getAgentWallet(uint256 agentId) external view returns (address) {
        return _agentWallets[agentId].wallet;
    }

    /// @notice Where payments to the agent go: its bound wallet, or its owner when none is bound.
    /// Reverts for an unknown agent.
    function paymentAddress(uint256 agentId) external view returns (address) {
        address wallet = _agentWallets[agentId].wallet;
        if (wallet != address(0)) return wallet;
        address agentOwner = _ownerOf(agentId);
        if (agentOwner == address(0)) revert IdentityUnknownAgent(agentId);
        return agentOwner;
    }

    /// @notice The agent's payment address (as `paymentAddress`) and its owner, in one call: what the
    /// economy reads to tell a job between two agents of the same owner. Reverts for an unknown agent.
    /// @return wallet Where payments to the agent go.
    /// @return agentOwner The identity token's holder.
    function paymentAddressAndOwner(uint256 agentId) external view returns (address wallet, address agentOwner) {
        agentOwner = _ownerOf(agentId);
        if (agentOwner == address(0)) revert IdentityUnknownAgent(agentId);
        wallet = _agentWallets[agentId].wallet;
        if (wallet == address(0)) wallet = agentOwner;
    }

    /// @notice The nonce the next wallet consent for `agentId` must carry.
    function walletNonce(uint256 agentId) external view returns (uint256) {
        return _agentWallets[agentId].nonce;
    }

    /// @notice The EIP-712 digest `newWallet` signs to consent to being bound to `agentId`, at the
    /// agent's current `walletNonce`.
    function agentWalletDigest(uint256 agentId, address newWallet, address agentOwner, uint256 deadline)
        public
        view
        returns (bytes32)
    {
        return _walletDigest(agentId, newWallet, agentOwner, _agentWallets[agentId].nonce, deadline);
    }

    /// @notice Binds `newWallet` as the agent's payment wallet. Called by the owner or an approved
    /// operator, with the wallet's EIP-712 signature (ECDSA for an account, ERC-1271 for a contract
    /// wallet such as a Safe). The signature names the current owner and the agent's `walletNonce`,
    /// which this moves on: it cannot be replayed after a transfer, nor after the wallet is unbound.
    function setAgentWallet(uint256 agentId, address newWallet, uint256 deadline, bytes calldata signature) external {
        address agentOwner = _checkAuthorized(agentId);
        if (newWallet == address(0)) revert IdentityZeroAddress();
        if (block.timestamp > deadline) revert IdentitySignatureExpired(deadline);
        WalletBinding storage binding = _agentWallets[agentId];
        uint96 nonce = binding.nonce;
        bytes32 digest = _walletDigest(agentId, newWallet, agentOwner, nonce, deadline);
        if (!SignatureChecker.isValidSignatureNow(newWallet, digest, signature)) {
            revert IdentityInvalidWalletSignature(agentId, newWallet);
        }
        unchecked {
            // 2^96 bindings of one agent cannot happen.
            _agentWallets[agentId] = WalletBinding(newWallet, nonce + 1);
        }
        _emitAgentWallet(agentId, newWallet, msg.sender);
    }

    /// @notice Unbinds the agent's wallet (its consent nonce stays). Owner or approved operator only.
    function unsetAgentWallet(uint256 agentId) external {
        _checkAuthorized(agentId);
        _agentWallets[agentId].wallet = address(0);
        _emitAgentWallet(agentId, address(0), msg.sender);
    }

    // ------------------------------------------------------------------ administration

    /// @notice Sets the URI prefix of agents registered without a URI. Registry owner only.
    function setBaseURI(string calldata newBaseURI) external onlyOwner {
        _baseAgentURI = newBaseURI;
        emit BaseURISet(newBaseURI);
    }

    /// @notice The URI prefix of agents registered without a URI of their own (`tokenURI` is then
    /// `baseURI ++ agentId`); empty while none is set.
    function baseURI() external view returns (string memory) {
        return _baseAgentURI;
    }

    /// @notice Trusts or distrusts a launcher (the agent factory). Registry owner only.
    function setLauncher(address launcher, bool trusted) external onlyOwner {
        isLauncher[launcher] = trusted;
        emit LauncherSet(launcher, trusted);
    }

    // ------------------------------------------------------------------ internals

    function _baseURI() internal view override returns (string memory) {
        return _baseAgentURI;
    }

    /// @dev On every transfer between two holders: refuses a holder that is the token's own ERC-6551
    /// account (directly, or through a chain of accounts leading back to it), and clears the wallet,
    /// so the new owner binds its own. Mints are not checked (it would cost every launch a cold
    /// account read): minting to the predicted account of the very id being minted is left to the
    /// minter, who must have created that account for a token that did not exist yet.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        from = super._update(to, tokenId, auth);
        if (from != address(0)) {
            if (to != address(0)) _refuseOwnAccount(to, tokenId);
            WalletBinding storage binding = _agentWallets[tokenId];
            if (binding.wallet != address(0)) {
                binding.wallet = address(0);
                _emitAgentWallet(tokenId, address(0), msg.sender);
            }
        }
    }

    /// @dev Follows holders up from `to` (the token's new holder) through ERC-6551 accounts of this
    /// registry's tokens, up to `MAX_ACCOUNT_DEPTH` of them: reaching `tokenId`'s own account means the
    /// token would (indirectly) hold itself. An account is recognised by its registry proxy code, whose
    /// footer names its token; nothing is called, so no foreign code runs in a transfer.
    function _refuseOwnAccount(address to, uint256 tokenId) private view {
        address holder = to;
        for (uint256 depth; depth < MAX_ACCOUNT_DEPTH; ++depth) {
            (bool isAccount, uint256 accountTokenId) = _accountToken(holder);
            if (!isAccount) return;
            if (accountTokenId == tokenId) revert IdentityTransferIntoOwnAccount(tokenId, to);
            holder = _ownerOf(accountTokenId);
        }
    }

    /// @dev Whether `account` is an ERC-6551 account (registry proxy) of a token of this registry on
    /// this chain, and which token.
    function _accountToken(address account) private view returns (bool isAccount, uint256 tokenId) {
        if (account.code.length != _ACCOUNT_CODE_LENGTH) return (false, 0);
        uint256 chainId;
        address tokenContract;
        assembly ("memory-safe") {
            let buffer := mload(0x40)
            extcodecopy(account, buffer, _ACCOUNT_FOOTER_OFFSET, 0x60)
            chainId := mload(buffer)
            tokenContract := and(mload(add(buffer, 0x20)), 0xffffffffffffffffffffffffffffffffffffffff)
            tokenId := mload(add(buffer, 0x40))
        }
        isAccount = chainId == block.chainid && tokenContract == address(this);
    }

    /// @dev Announces a binding (or, with a zero `wallet`, a clearing) of the agent's wallet: our own
    /// `AgentWalletSet`, and the `agentWallet` metadata entry ERC-8004 readers follow.
    function _emitAgentWallet(uint256 agentId, address wallet, address setBy) private {
        emit AgentWalletSet(agentId, wallet, setBy);
        emit MetadataSet(agentId, AGENT_WALLET, AGENT_WALLET, _walletBytes(wallet));
    }

    /// @dev The `agentWallet` metadata value: the wallet's 20 bytes, or empty bytes for none.
    function _walletBytes(address wallet) private pure returns (bytes memory) {
        return wallet == address(0) ? bytes("") : abi.encodePacked(wallet);
    }

    function _walletDigest(uint256 agentId, address newWallet, address agentOwner, uint256 nonce, uint256 deadline)
        private
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(abi.encode(AGENT_WALLET_TYPEHASH, agentId, newWallet, agentOwner, nonce, deadline))
        );
    }

    function _checkAuthorized(uint256 agentId) private view returns (address agentOwner) {
        agentOwner = _ownerOf(agentId);
        if (agentOwner == address(0)) revert IdentityUnknownAgent(agentId);
        if (!_isAuthorized(agentOwner, msg.sender, agentId)) revert IdentityNotAuthorized(agentId, msg.sender);
    }
}
