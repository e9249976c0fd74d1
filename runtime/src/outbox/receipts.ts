import type { TransactionReceipt } from 'viem'
import { wrapChainError } from '../errors.ts'
import type { Outbox } from './outbox.ts'
import { withRetries } from './retry.ts'
import type { SentTx } from './sent-tx.ts'

/** The receipt of any version of `tx` that landed, if one did. */
export async function receiptOfAny(outbox: Outbox, tx: SentTx): Promise<TransactionReceipt | undefined> {
  const receipts = await Promise.all(
    tx.versions.map(({ hash }) =>
      withRetries(outbox.log, 'receipt', () =>
        outbox.publicClient.getTransactionReceipt({ hash }).catch((error: unknown) => {
          if (error instanceof Error && error.name === 'TransactionReceiptNotFoundError') return undefined
          throw error
        }),
      ).catch((error: unknown) => {
        throw wrapChainError(error, 'reading a receipt')
      }),
    ),
  )
  return receipts.find((r) => r !== undefined)
}
