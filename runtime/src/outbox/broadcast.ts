import type { Intent } from '@agora/db'
import { type Address, type Hex, keccak256, type LocalAccount } from 'viem'
import {
  ChainUnavailableError,
  isTransientChainError,
  TransactionFailedError,
  wrapChainError,
} from '../errors.ts'
import { feesPerGas } from './gas.ts'
import type { Call } from './intent-handler.ts'
import { nextNonce } from './nonces.ts'
import type { Outbox } from './outbox.ts'
import { withRetries } from './retry.ts'
import type { SentTx } from './sent-tx.ts'

/**
 * Why the node would not take a transaction's bytes; they never left, so they hold no nonce:
 * `refused` for good (e.g. more gas than a block holds), `unfunded` (the relayer cannot pay for gas:
 * fund it and the intent is sent again), `conflict` (the pool already holds another transaction at
 * that nonce), `nonce-taken` (the chain used the nonce for a transaction that is not one of these).
 */
export type Refusal = 'refused' | 'unfunded' | 'conflict' | 'nonce-taken'

/** The refusal a broadcast failed with, if the node refused (rather than the RPC failing on the way). */
export function refusalOf(error: unknown): Refusal | undefined {
  return error instanceof TransactionFailedError ? (error.meta?.refusal as Refusal | undefined) : undefined
}

/**
 * Signs `call` with the relayer's next nonce, records the signed bytes on every intent it carries
 * (the first holds the nonce), then broadcasts. The relayer's nonce and the call's own sequence (a
 * Safe nonce) count as spent only once the node took the bytes, or may have (the RPC failed on the
 * way: then the repair of stuck transactions takes over). Bytes the node refused are forgotten and
 * their intents are pending again: no nonce is left as a gap. A crash from the record on
 * rebroadcasts the same bytes.
 */
export async function signAndBroadcast(
  outbox: Outbox,
  relayer: LocalAccount,
  call: Call,
  gas: bigint,
  carried: Intent[],
): Promise<SentTx> {
  const { maxFeePerGas, maxPriorityFeePerGas } = await withRetries(outbox.log, 'fees', () =>
    feesPerGas(outbox),
  ).catch((error: unknown) => {
    throw wrapChainError(error, 'reading gas fees')
  })
  return outbox.relayerLocks.get(relayer.address)!.run(async () => {
    const nonce = await nextNonce(outbox, relayer.address).catch((error: unknown) => {
      throw wrapChainError(error, "reading the relayer's nonce")
    })
    const rawTx = await relayer.signTransaction({
      chainId: outbox.chainId,
      type: 'eip1559',
      nonce,
      to: call.to,
      data: call.data,
      value: call.value ?? 0n,
      gas,
      maxFeePerGas,
      maxPriorityFeePerGas,
    })
    const hash = keccak256(rawTx)
    // The signed bytes are in the outbox before they leave: a crash from here on rebroadcasts them.
    await Promise.all(
      carried.map((intent, n) =>
        outbox.markSent(intent.id, { nonce: n === 0 ? nonce : null, txHash: hash, rawTx }),
      ),
    )
    const spend = () => {
      outbox.nonces.set(relayer.address, nonce + 1)
      call.commit?.()
    }
    try {
      await broadcast(outbox, rawTx, [hash], relayer.address)
    } catch (error) {
      const refusal = refusalOf(error)
      if (!refusal) {
        spend() // the node may hold the bytes: they keep the nonce
        throw error
      }
      await outbox.unsend(hash)
      if (refusal !== 'refused' && refusal !== 'unfunded') outbox.nonces.delete(relayer.address)
      throw error
    }
    spend()
    return { relayer: relayer.address, nonce, versions: [{ hash, rawTx }], since: Date.now() }
  })
}

/**
 * Hands signed bytes to the node. Bytes it already has are fine (a rebroadcast), and so is "nonce
 * too low" when one of `hashes` (the transaction's versions) landed. A refusal is a
 * `TransactionFailedError` whose `meta.refusal` says which (`refusalOf`); an RPC that does not answer
 * is a `ChainUnavailableError` (the node may or may not have the bytes).
 */
export async function broadcast(outbox: Outbox, rawTx: Hex, hashes: Hex[], relayer: Address): Promise<void> {
  try {
    await withRetries(outbox.log, 'broadcast', () =>
      outbox.publicClient.sendRawTransaction({ serializedTransaction: rawTx }),
    )
  } catch (error) {
    if (isTransientChainError(error)) throw wrapChainError(error, 'broadcasting a transaction')
    const text = error instanceof Error ? error.message : String(error)
    // The node has these very bytes already (a rebroadcast): waiting for the receipt is all there is to do.
    if (/already known|already imported|transaction already exists/i.test(text)) return
    let refusal: Refusal = 'refused'
    if (/nonce too low|nonce has already been used|old nonce/i.test(text)) {
      for (const hash of hashes) {
        const landed = await outbox.publicClient.getTransactionReceipt({ hash }).catch(() => undefined)
        if (landed) return
      }
      refusal = 'nonce-taken'
    } else if (/insufficient funds|funds for gas/i.test(text)) refusal = 'unfunded'
    else if (/underpriced|already in the pool|replacement/i.test(text)) refusal = 'conflict'
    if (/gas limit/i.test(text)) outbox.blockGasLimit = undefined // read it again before the next one
    const first = text.split('\n')[0]
    throw new TransactionFailedError(`The node refused the transaction: ${first}`, {
      cause: error,
      meta: { refusal, relayer },
    })
  }
}

/**
 * Spends a relayer's `nonce` on nothing (a transfer of 0 to itself) so the transactions after it are
 * not stuck behind bytes that can never land. Resolves with the filler's hash and bytes.
 */
export async function fillNonce(
  outbox: Outbox,
  relayer: Address,
  nonce: number,
): Promise<{ hash: Hex; rawTx: Hex }> {
  const account = outbox.relayers.find((r) => r.address === relayer)
  if (!account) throw new ChainUnavailableError(`${relayer} is not one of this runtime's relayers.`)
  const { maxFeePerGas, maxPriorityFeePerGas } = await feesPerGas(outbox)
  const rawTx = await account.signTransaction({
    chainId: outbox.chainId,
    type: 'eip1559',
    nonce,
    to: relayer,
    value: 0n,
    gas: 21_000n,
    maxFeePerGas,
    maxPriorityFeePerGas,
  })
  const hash = keccak256(rawTx)
  outbox.log(`transactions: filling nonce ${nonce} of ${relayer} with a transfer to itself (${hash})`)
  await broadcast(outbox, rawTx, [hash], relayer)
  return { hash, rawTx }
}
