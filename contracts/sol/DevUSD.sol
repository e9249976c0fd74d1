// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/**
 * @title DevUSD
 * @notice The devnet's stablecoin: a 6-decimal ERC-20 that only the deployer can mint, with
 * gasless approvals (EIP-2612 `permit`) and gasless transfers (EIP-3009), the shape of USDC that
 * x402's "exact" EVM scheme pays with.
 * @dev Every signature goes through {SignatureChecker.isValidSignatureNow}: an owner without code
 * is checked with ECDSA, an owner with code (a Safe, an agent's smart account) through ERC-1271.
 * The `(v, r, s)` overloads pack their parts into a 65-byte signature and take the same path, so a
 * contract owner whose signature happens to be 65 bytes (a one-owner Safe, for example) can use
 * them too; callers that do not know the signature's shape should use the `bytes` overloads.
 */
contract DevUSD is ERC20, IERC20Permit, EIP712, Nonces {
    /// @notice EIP-712 type hash of an EIP-2612 permit.
    bytes32 public constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");

    /// @notice EIP-712 type hash of an EIP-3009 transfer authorization.
    bytes32 public constant TRANSFER_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );

    /// @notice EIP-712 type hash of an EIP-3009 receive authorization.
    bytes32 public constant RECEIVE_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );

    /// @notice EIP-712 type hash of an EIP-3009 cancellation.
    bytes32 public constant CANCEL_AUTHORIZATION_TYPEHASH =
        keccak256("CancelAuthorization(address authorizer,bytes32 nonce)");

    /// @notice The only account allowed to mint: whoever deployed the token.
    address public immutable minter;

    /// @dev EIP-3009 nonces are random 32-byte values, so they are tracked as a set, not a counter.
    mapping(address authorizer => mapping(bytes32 nonce => bool used)) private _authorizations;

    /// @notice An EIP-3009 authorization was executed.
    event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce);

    /// @notice An EIP-3009 authorization was canceled before use.
    event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce);

    /// @notice The signature is not a valid signature of `signer` over the expected digest.
    error DevUSDInvalidSignature(address signer);

    /// @notice The permit's deadline has passed.
    error DevUSDPermitExpired(uint256 deadline);

    /// @notice The authorization's `validAfter` time has not passed yet.
    error DevUSDAuthorizationNotYetValid(uint256 validAfter);

    /// @notice The authorization's `validBefore` time has been reached.
    error DevUSDAuthorizationExpired(uint256 validBefore);

    /// @notice The authorization nonce was already used or canceled.
    error DevUSDAuthorizationUsed(address authorizer, bytes32 nonce);

    /// @notice `receiveWithAuthorization` was called by someone other than the payee.
    error DevUSDCallerNotPayee(address caller, address payee);

    /// @notice Someone other than the deployer tried to mint.
    error DevUSDUnauthorizedMinter(address caller);

    constructor() ERC20("Agora Dev USD", "dUSD") EIP712("Agora Dev USD", "1") {
        minter = msg.sender;
    }

    /**
     * @notice Six decimals, like USDC, so amounts mean the same as on chains where x402 pays in USDC.
     * @return Always 6.
     */
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /**
     * @notice Creates `amount` tokens for `to`.
     * @dev Only the deployer may mint; this token exists for development chains only.
     * @param to Receiver of the new tokens.
     * @param amount Amount in base units (6 decimals).
     */
    function mint(address to, uint256 amount) external {
        if (msg.sender != minter) revert DevUSDUnauthorizedMinter(msg.sender);
        _mint(to, amount);
    }

    /**
     * @notice Sets `spender`'s allowance over `owner`'s tokens from `owner`'s EIP-712 signature.
     * @dev EIP-2612 with the signature split into parts; `owner` may be a contract (ERC-1271),
     * which then receives the parts packed as `r ++ s ++ v`.
     * @param owner Account whose tokens are approved; the signer.
     * @param spender Account allowed to spend.
     * @param value New allowance.
     * @param deadline Last timestamp at which the permit is valid.
     * @param v Recovery byte of the signature.
     * @param r First 32 bytes of the signature.
     * @param s Second 32 bytes of the signature.
     */
    function permit(
        address owner,
        address spender,
        uint256 value,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        _permit(owner, spender, value, deadline, abi.encodePacked(r, s, v));
    }

    /**
     * @notice Sets `spender`'s allowance over `owner`'s tokens from `owner`'s EIP-712 signature.
     * @dev EIP-2612 with a signature of any length, so contract owners (ERC-1271) can sign.
     * @param owner Account whose tokens are approved; the signer.
     * @param spender Account allowed to spend.
     * @param value New allowance.
     * @param deadline Last timestamp at which the permit is valid.
     * @param signature ECDSA signature of an EOA owner, or ERC-1271 signature of a contract owner.
     */
    function permit(address owner, address spender, uint256 value, uint256 deadline, bytes memory signature)
        external
    {
        _permit(owner, spender, value, deadline, signature);
    }

    /**
     * @notice The next permit nonce of `owner`.
     * @param owner Account whose nonce is read.
     * @return The nonce the next permit of `owner` must be signed with.
     */
    function nonces(address owner) public view override(IERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    /**
     * @notice The EIP-712 domain separator that permits and authorizations are signed under.
     * @return The domain separator for this chain and contract.
     */
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /**
     * @notice Transfers `value` from `from` to `to` with `from`'s EIP-3009 signature; anyone may submit it.
     * @param from Payer and signer.
     * @param to Payee.
     * @param value Amount in base units.
     * @param validAfter The authorization is valid only after this timestamp.
     * @param validBefore The authorization is valid only before this timestamp.
     * @param nonce Unique 32-byte nonce chosen by the signer.
     * @param v Recovery byte of the signature.
     * @param r First 32 bytes of the signature.
     * @param s Second 32 bytes of the signature.
     */
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        _transferWithAuthorization(
            TRANSFER_WITH_AUTHORIZATION_TYPEHASH,
            from,
            to,
            value,
            validAfter,
            validBefore,
            nonce,
            abi.encodePacked(r, s, v)
        );
    }

    /**
     * @notice Transfers `value` from `from` to `to` with `from`'s EIP-3009 signature; anyone may submit it.
     * @dev Takes signatures of any length, so contract payers (ERC-1271) can sign.
     * @param from Payer and signer.
     * @param to Payee.
     * @param value Amount in base units.
     * @param validAfter The authorization is valid only after this timestamp.
     * @param validBefore The authorization is valid only before this timestamp.
     * @param nonce Unique 32-byte nonce chosen by the signer.
     * @param signature ECDSA signature of an EOA payer, or ERC-1271 signature of a contract payer.
     */
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes memory signature
    ) external {
        _transferWithAuthorization(
            TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, signature
        );
    }

    /**
     * @notice Like {transferWithAuthorization}, but only the payee may submit it, so a signature
     * seen in the mempool cannot be front-run into a different call.
     * @param from Payer and signer.
     * @param to Payee; must be the caller.
     * @param value Amount in base units.
     * @param validAfter The authorization is valid only after this timestamp.
     * @param validBefore The authorization is valid only before this timestamp.
     * @param nonce Unique 32-byte nonce chosen by the signer.
     * @param v Recovery byte of the signature.
     * @param r First 32 bytes of the signature.
     * @param s Second 32 bytes of the signature.
     */
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        if (msg.sender != to) revert DevUSDCallerNotPayee(msg.sender, to);
        _transferWithAuthorization(
            RECEIVE_WITH_AUTHORIZATION_TYPEHASH,
            from,
            to,
            value,
            validAfter,
            validBefore,
            nonce,
            abi.encodePacked(r, s, v)
        );
    }

    /**
     * @notice Like {transferWithAuthorization}, but only the payee may submit it.
     * @dev Takes signatures of any length, so contract payers (ERC-1271) can sign.
     * @param from Payer and signer.
     * @param to Payee; must be the caller.
     * @param value Amount in base units.
     * @param validAfter The authorization is valid only after this timestamp.
     * @param validBefore The authorization is valid only before this timestamp.
     * @param nonce Unique 32-byte nonce chosen by the signer.
     * @param signature ECDSA signature of an EOA payer, or ERC-1271 signature of a contract payer.
     */
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes memory signature
    ) external {
        if (msg.sender != to) revert DevUSDCallerNotPayee(msg.sender, to);
        _transferWithAuthorization(
            RECEIVE_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, signature
        );
    }

    /**
     * @notice Cancels an unused EIP-3009 authorization of `authorizer`.
     * @param authorizer Signer of the authorization to cancel.
     * @param nonce Nonce of the authorization to cancel.
     * @param v Recovery byte of the signature.
     * @param r First 32 bytes of the signature.
     * @param s Second 32 bytes of the signature.
     */
    function cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) external {
        _cancelAuthorization(authorizer, nonce, abi.encodePacked(r, s, v));
    }

    /**
     * @notice Cancels an unused EIP-3009 authorization of `authorizer`.
     * @dev Takes signatures of any length, so contract authorizers (ERC-1271) can sign.
     * @param authorizer Signer of the authorization to cancel.
     * @param nonce Nonce of the authorization to cancel.
     * @param signature ECDSA signature of an EOA authorizer, or ERC-1271 signature of a contract.
     */
    function cancelAuthorization(address authorizer, bytes32 nonce, bytes memory signature) external {
        _cancelAuthorization(authorizer, nonce, signature);
    }

    /**
     * @notice Whether an EIP-3009 authorization nonce was used or canceled.
     * @param authorizer Signer of the authorization.
     * @param nonce Nonce of the authorization.
     * @return True once the nonce is used or canceled.
     */
    function authorizationState(address authorizer, bytes32 nonce) external view returns (bool) {
        return _authorizations[authorizer][nonce];
    }

    function _permit(address owner, address spender, uint256 value, uint256 deadline, bytes memory signature)
        private
    {
        if (block.timestamp > deadline) revert DevUSDPermitExpired(deadline);
        // Consuming the nonce while building the digest makes a replayed signature fail the check.
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, _useNonce(owner), deadline))
        );
        _requireSignature(owner, digest, signature);
        _approve(owner, spender, value);
    }

    function _transferWithAuthorization(
        bytes32 typehash,
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes memory signature
    ) private {
        if (block.timestamp <= validAfter) revert DevUSDAuthorizationNotYetValid(validAfter);
        if (block.timestamp >= validBefore) revert DevUSDAuthorizationExpired(validBefore);
        _useAuthorization(from, nonce);
        bytes32 digest =
            _hashTypedDataV4(keccak256(abi.encode(typehash, from, to, value, validAfter, validBefore, nonce)));
        _requireSignature(from, digest, signature);
        emit AuthorizationUsed(from, nonce);
        _transfer(from, to, value);
    }

    function _cancelAuthorization(address authorizer, bytes32 nonce, bytes memory signature) private {
        _useAuthorization(authorizer, nonce);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(CANCEL_AUTHORIZATION_TYPEHASH, authorizer, nonce)));
        _requireSignature(authorizer, digest, signature);
        emit AuthorizationCanceled(authorizer, nonce);
    }

    /// @dev Marks the nonce used; a failed signature check afterwards reverts the whole call, mark included.
    function _useAuthorization(address authorizer, bytes32 nonce) private {
        if (_authorizations[authorizer][nonce]) revert DevUSDAuthorizationUsed(authorizer, nonce);
        _authorizations[authorizer][nonce] = true;
    }

    function _requireSignature(address signer, bytes32 digest, bytes memory signature) private view {
        if (!SignatureChecker.isValidSignatureNow(signer, digest, signature)) revert DevUSDInvalidSignature(signer);
    }
}
