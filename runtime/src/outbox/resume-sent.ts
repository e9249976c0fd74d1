import type { Intent } from '@agora/db'
import type { TransactionReceipt } from 'viem'
import { broadcast, fillNonce, refusalOf } from './broadcast.ts'
import type { Outbox } from './outbox.ts'
import { receiptOfAny } from './receipts.ts'
import { sentTxOf } from './sent-tx.ts'
import { watchTransaction } from './watch-transaction.ts'

/**
 * A sent intent from an earlier run (or an outage): the receipt of whichever of its versions landed,
 * else its latest bytes again and their receipt. Undefined when those bytes can never land, so the
 * intent must be built afresh: its nonce went to another transaction, or the node refuses them for
 * good (then its nonce is filled by a no-op first, so nothing after it stays stuck, and the intent is
 * pending again).
 */
export async function resumeSent(outbox: Outbox, intent: Intent): Promise<TransactionReceipt | undefined> {
  const tx = sentTxOf(intent)
  const landed = await receiptOfAny(outbox, tx)
  if (landed) return watchTransaction(outbox, tx)
  const latest = tx.versions.at(-1)!
  try {
    await broadcast(
      outbox,
      latest.rawTx,
      tx.versions.map((v) => v.hash),
      tx.relayer,
    )
  } catch (error) {
    const refusal = refusalOf(error)
    if (refusal === 'nonce-taken') return undefined
    if (refusal !== 'refused') throw error
    outbox.log(
      `transactions: the node refuses ${latest.hash} (${(error as Error).message}); sending it afresh`,
    )
    const mined = await outbox.publicClient.getTransactionCount({ address: tx.relayer, blockTag: 'latest' })
    if (mined <= tx.nonce) await fillNonce(outbox, tx.relayer, tx.nonce)
    await outbox.unsend(latest.hash)
    return undefined
  }
  return watchTransaction(outbox, tx)
}
