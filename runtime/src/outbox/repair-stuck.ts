import { markIntentsReplaced } from '@agora/db'
import { keccak256, parseTransaction } from 'viem'
import { TransactionFailedError, wrapChainError } from '../errors.ts'
import { broadcast, refusalOf } from './broadcast.ts'
import { feesPerGas } from './gas.ts'
import type { Outbox } from './outbox.ts'
import { receiptOfAny } from './receipts.ts'
import type { SentTx } from './sent-tx.ts'

/** The most replacements one transaction gets; after them it is rebroadcast as it stands. */
const maxReplacements = 5

/**
 * A transaction that has not landed in `stuckAfterMs`: when it is the relayer's next nonce, it is
 * rebroadcast if the node lost it and otherwise replaced by the same call at the same nonce with
 * higher fees (the new version is recorded before it is broadcast; every version stays watched).
 * Behind a lower nonce it is only made sure the node has it. Throws when its nonce went to another
 * transaction and none of its versions landed (`refusalOf`: `nonce-taken`).
 */
export async function repairStuck(outbox: Outbox, tx: SentTx): Promise<void> {
  const mined = await outbox.publicClient
    .getTransactionCount({ address: tx.relayer, blockTag: 'latest' })
    .catch((error: unknown) => {
      throw wrapChainError(error, "reading the relayer's nonce")
    })
  const latest = tx.versions.at(-1)!
  if (mined > tx.nonce) {
    if (await receiptOfAny(outbox, tx)) return
    throw new TransactionFailedError(
      `Nonce ${tx.nonce} of ${tx.relayer} went to another transaction than ${latest.hash}.`,
      { meta: { refusal: 'nonce-taken', relayer: tx.relayer } },
    )
  }
  const known = await outbox.publicClient.getTransaction({ hash: latest.hash }).then(
    () => true,
    () => false,
  )
  if (!known || mined < tx.nonce || tx.versions.length > maxReplacements) {
    if (!known) outbox.log(`transactions: ${latest.hash} is not in the node's pool; broadcasting it again`)
    await broadcast(
      outbox,
      latest.rawTx,
      tx.versions.map((v) => v.hash),
      tx.relayer,
    )
    return
  }
  await replaceTransaction(outbox, tx)
}

/**
 * Re-signs `tx`'s latest version with fees at least an eighth higher (and at least the chain's
 * current ones), records it as a replacement of the carried intents, then broadcasts it.
 */
export async function replaceTransaction(outbox: Outbox, tx: SentTx): Promise<void> {
  const latest = tx.versions.at(-1)!
  const account = outbox.relayers.find((r) => r.address === tx.relayer)
  if (!account) return
  const old = parseTransaction(latest.rawTx)
  const fees = await feesPerGas(outbox)
  const bump = (value: bigint | undefined) => (value ?? 0n) + (value ?? 0n) / 8n + 1n
  const max = (a: bigint, b: bigint) => (a > b ? a : b)
  const maxPriorityFeePerGas = max(fees.maxPriorityFeePerGas, bump(old.maxPriorityFeePerGas))
  const maxFeePerGas = max(max(fees.maxFeePerGas, bump(old.maxFeePerGas)), maxPriorityFeePerGas)
  const rawTx = await account.signTransaction({
    chainId: outbox.chainId,
    type: 'eip1559',
    nonce: tx.nonce,
    to: old.to!,
    data: old.data,
    value: old.value ?? 0n,
    gas: old.gas!,
    maxFeePerGas,
    maxPriorityFeePerGas,
  })
  const hash = keccak256(rawTx)
  await markIntentsReplaced(outbox.db, { txHash: latest.hash, replacement: { txHash: hash, rawTx } })
  tx.versions.push({ hash, rawTx })
  outbox.log(
    `transactions: replacing ${latest.hash} (nonce ${tx.nonce}) with ${hash} at ${maxFeePerGas} wei/gas`,
  )
  try {
    await broadcast(
      outbox,
      rawTx,
      tx.versions.map((v) => v.hash),
      tx.relayer,
    )
  } catch (error) {
    // Still underpriced for this node: the next repair bids higher. Anything else is the caller's.
    if (refusalOf(error) !== 'conflict') throw error
  }
}
