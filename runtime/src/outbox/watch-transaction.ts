import { markIntentsLandedAs } from '@agora/db'
import type { TransactionReceipt } from 'viem'
import { noteLanded } from './nonces.ts'
import type { Outbox } from './outbox.ts'
import { receiptOfAny } from './receipts.ts'
import { repairStuck } from './repair-stuck.ts'
import type { SentTx } from './sent-tx.ts'

/**
 * Resolves with the receipt of whichever version of `tx` lands, polling with backoff from
 * `pollMs.first` to `pollMs.max`. A transaction not mined after `stuckAfterMs` is repaired
 * (rebroadcast if the node lost it, replaced with higher fees if it sits underpriced), and the watch
 * goes on over every version. One watch per transaction, however many intents it carries. Rejects
 * when its nonce went to a transaction that is none of its versions (`refusalOf`: `nonce-taken`).
 *
 * @example
 * const receipt = await watchTransaction(outbox, tx)
 */
export function watchTransaction(outbox: Outbox, tx: SentTx): Promise<TransactionReceipt> {
  const key = tx.versions[0]!.hash
  let watch = outbox.watches.get(key)
  if (!watch) {
    watch = watchUntilLanded(outbox, tx)
    outbox.watches.set(key, watch)
    const forget = () => outbox.watches.delete(key)
    watch.then(forget, forget)
  }
  return watch
}

async function watchUntilLanded(outbox: Outbox, tx: SentTx): Promise<TransactionReceipt> {
  let delay = outbox.pollMs.first
  for (;;) {
    const receipt = await receiptOfAny(outbox, tx)
    if (receipt) {
      noteLanded(outbox, tx)
      const latest = tx.versions.at(-1)!
      // An earlier version landed, not the replacement: that is what a replay of the chain must resend.
      if (receipt.transactionHash !== latest.hash) {
        const landed = tx.versions.find((v) => v.hash === receipt.transactionHash)!
        await markIntentsLandedAs(outbox.db, {
          txHash: latest.hash,
          landed: { txHash: landed.hash, rawTx: landed.rawTx },
        })
      }
      return receipt
    }
    if (Date.now() - tx.since >= outbox.stuckAfterMs) {
      await repairStuck(outbox, tx)
      tx.since = Date.now()
    }
    await new Promise((r) => setTimeout(r, delay))
    delay = Math.min(delay * 2, outbox.pollMs.max)
  }
}
