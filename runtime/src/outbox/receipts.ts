import type { Hex, TransactionReceipt } from 'viem'
import type { Outbox } from './outbox.ts'
import { withRetries } from './retry.ts'

/** Polls for a transaction's receipt, backing off from `pollMs.first` to `pollMs.max`. */
export async function waitForReceipt(outbox: Outbox, hash: Hex): Promise<TransactionReceipt> {
  let delay = outbox.pollMs.first
  for (;;) {
    const receipt = await withRetries(outbox.log, 'receipt', () =>
      outbox.publicClient.getTransactionReceipt({ hash }).catch((error: unknown) => {
        if (error instanceof Error && error.name === 'TransactionReceiptNotFoundError') return undefined
        throw error
      }),
    )
    if (receipt) return receipt
    await new Promise((r) => setTimeout(r, delay))
    delay = Math.min(delay * 2, outbox.pollMs.max)
  }
}

/** One receipt wait per transaction hash, however many intents it carries. */
export function receiptOf(outbox: Outbox, hash: Hex): Promise<TransactionReceipt> {
  let receipt = outbox.receipts.get(hash)
  if (!receipt) {
    receipt = waitForReceipt(outbox, hash)
    outbox.receipts.set(hash, receipt)
    const forget = () => outbox.receipts.delete(hash)
    receipt.then(forget, forget)
  }
  return receipt
}
