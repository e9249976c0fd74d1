import type { ClientEvmSigner } from '@x402/evm'
import { type Address, hashTypedData, type LocalAccount, type TypedDataDefinition } from 'viem'

/** Safe 1.4.1's message type: what an owner signs for the Safe to accept a hash through ERC-1271. */
const safeMessageTypes = { SafeMessage: [{ name: 'message', type: 'bytes' }] } as const

/**
 * A typed-data signer whose address is a Safe (1.4.1, threshold 1, with the compatibility fallback
 * handler) and whose signatures the Safe accepts through ERC-1271: what an x402 client signs an
 * EIP-3009 authorization with, so the tokens move from the Safe.
 *
 * The fallback handler's `isValidSignature(bytes32 hash, bytes signature)` checks `signature` over
 * the Safe's own EIP-712 message `SafeMessage(bytes message)` in its domain `{chainId,
 * verifyingContract: safe}`, with `message` = `abi.encode(hash)` (the 32 bytes of the hash). So the
 * owner signs that message, with the EIP-712 digest of the typed data as `message`. The signature is
 * valid only while `owner` is an owner of the Safe and one signature is enough.
 *
 * @example
 * const signer = toSafeTypedSigner({ safe: agent.safeAddress, owner: client.signers.of(agent), chainId })
 * const ok = await publicClient.verifyTypedData({ address: signer.address, ...typedData, signature: await signer.signTypedData(typedData) })
 */
export function toSafeTypedSigner(parameters: {
  safe: Address
  owner: LocalAccount
  chainId: number
}): ClientEvmSigner {
  const { safe, owner, chainId } = parameters
  return {
    address: safe,
    signTypedData(typedData) {
      return owner.signTypedData({
        domain: { chainId, verifyingContract: safe },
        types: safeMessageTypes,
        primaryType: 'SafeMessage',
        message: { message: hashTypedData(typedData as TypedDataDefinition) },
      })
    },
  }
}
