import { safeAbi } from '@agora/contracts'
import { type Agent, AuthError, getIntentByKey } from '@agora/db'
import { type Address, type Hex, hashTypedData, keccak256, zeroAddress } from 'viem'
import type { RuntimeClient } from '../../client.ts'
import { isTransientChainError, wrapChainError } from '../../errors.ts'
import { recordIntent } from '../../outbox/record-intent.ts'
import { sendIntent } from '../../outbox/send-intent.ts'
import { execTransactionData, type SafeCall, safeTransaction, safeTxTypes } from '../../wallet/safe-signer.ts'

/**
 * A Safe transaction the agent's owners must sign before the runtime can make a change: what the
 * runtime answers instead of changing anything. Sign `safeTxHash` (or `typedData`, the same EIP-712
 * message) with any Safe tool, e.g. protocol-kit's `createTransaction` at `safeTransaction.nonce`
 * then `signTransaction`, and send the same request again with the signatures as `ownerSignature`.
 */
export type OwnerSignatureRequest = {
  ownerSignatureRequired: true
  /** What the transaction does, in a sentence. */
  purpose: string
  safe: Address
  safeTxHash: Hex
  safeTransaction: {
    to: Address
    value: string
    data: Hex
    operation: 0 | 1
    safeTxGas: '0'
    baseGas: '0'
    gasPrice: '0'
    gasToken: Address
    refundReceiver: Address
    nonce: string
  }
  typedData: {
    domain: { chainId: number; verifyingContract: Address }
    types: typeof safeTxTypes
    primaryType: 'SafeTx'
  }
}

/**
 * Has the agent's Safe make `call` as its owners' own transaction. Without `signatures` nothing
 * happens: the Safe transaction to sign is returned (at the Safe's nonce now). With them, the
 * transaction is simulated (signatures that are not the owners' are refused with the Safe's reason),
 * recorded as an intent and sent by a relayer, and this returns once it landed. Idempotent: the same
 * call with the same signatures, sent again after it landed (a retry after a crash), does nothing more.
 *
 * @example
 * const request = await ownerTransaction(client, agent, { to: module, data }, signatures, 'Change the policy')
 * if (request) return request // the owner signs request.safeTxHash, then calls again
 */
export async function ownerTransaction(
  client: RuntimeClient,
  agent: Agent,
  call: SafeCall & { operation?: 0 | 1 },
  signatures: Hex | undefined,
  purpose: string,
): Promise<OwnerSignatureRequest | undefined> {
  const safe = agent.safeAddress as Address
  const key = signatures && `ownerTransaction:${agent.id}:${keccak256(call.data)}:${keccak256(signatures)}`
  const earlier = key ? await getIntentByKey(client.db, key) : undefined
  if (earlier?.status === 'confirmed') return undefined
  const { publicClient } = client.chain
  const nonce = await publicClient
    .readContract({ address: safe, abi: safeAbi, functionName: 'nonce' })
    .catch((error: unknown) => {
      throw wrapChainError(error, "Reading the Safe's nonce")
    })
  const message = safeTransaction(call, nonce)
  const domain = { chainId: client.chain.chainId, verifyingContract: safe }
  const safeTxHash = hashTypedData({ domain, types: safeTxTypes, primaryType: 'SafeTx', message })
  if (!signatures || !key) return signatureRequest(purpose, safe, safeTxHash, message, domain)
  const data = execTransactionData(message, signatures)
  const relayer = client.outbox.relayerFor(safe.toLowerCase()).address
  if (!earlier) {
    await publicClient.call({ account: relayer, to: safe, data }).catch((error: unknown) => {
      // A node that does not answer says nothing of the signatures: 503, try again.
      if (isTransientChainError(error)) throw wrapChainError(error, 'Simulating the owners’ Safe transaction')
      throw new AuthError(
        `The Safe refuses transaction ${safeTxHash} (nonce ${nonce}) with these signatures: ${reasonOf(error)}. Sign the transaction this request returns without ownerSignature.`,
        { code: 'FORBIDDEN', cause: error },
      )
    })
  }
  const { intent } = await recordIntent(client, client.db, {
    idempotencyKey: key,
    kind: 'ownerTransaction',
    agentId: agent.id,
    payload: { safe, to: safe, data, value: '0', safeTxHash },
  })
  await sendIntent(client, intent)
  return undefined
}

function signatureRequest(
  purpose: string,
  safe: Address,
  safeTxHash: Hex,
  message: ReturnType<typeof safeTransaction>,
  domain: { chainId: number; verifyingContract: Address },
): OwnerSignatureRequest {
  return {
    ownerSignatureRequired: true,
    purpose,
    safe,
    safeTxHash,
    safeTransaction: {
      to: message.to,
      value: message.value.toString(),
      data: message.data,
      operation: message.operation,
      safeTxGas: '0',
      baseGas: '0',
      gasPrice: '0',
      gasToken: zeroAddress,
      refundReceiver: zeroAddress,
      nonce: message.nonce.toString(),
    },
    typedData: { domain, types: safeTxTypes, primaryType: 'SafeTx' },
  }
}

/** The Safe's revert reason (`GS026`: not the owners' signatures), or the error's first line. */
function reasonOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  return text.match(/GS\d{3}/)?.[0] ?? text.split('\n')[0]!
}
