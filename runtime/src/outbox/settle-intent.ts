import type { Intent } from '@agora/db'
import type { TransactionReceipt } from 'viem'
import type { RuntimeClient } from '../client.ts'
import { TransactionFailedError } from '../errors.ts'
import { learnGas } from './gas.ts'
import { intentHandlers } from './handlers/intent-handlers.ts'
import type { SentIntent } from './intent-handler.ts'

/**
 * Finishes an intent from its transaction's receipt: confirmed with the handler's result, or failed
 * (the handler hears of it) when the transaction reverted. Gas is learned from a success only, and
 * only when the transaction carried this one call (`batched`: it carried several).
 */
export async function settleIntent(
  client: RuntimeClient,
  intent: Intent,
  receipt: TransactionReceipt,
  batched = false,
): Promise<SentIntent> {
  const { outbox } = client
  const handler = intentHandlers[intent.kind]
  if (receipt.status !== 'success') {
    const error = new TransactionFailedError(
      `The ${intent.kind} transaction ${receipt.transactionHash} reverted.`,
    )
    await outbox.markFailed(intent.id, error.shortMessage)
    await handler.onFailed?.(client, intent, error)
    throw error
  }
  if (!batched) learnGas(outbox, intent.kind, receipt.gasUsed)
  const result = {
    txHash: receipt.transactionHash,
    blockNumber: Number(receipt.blockNumber),
    gasUsed: Number(receipt.gasUsed),
    ...(await handler.onSettled?.(client, intent, receipt)),
  }
  await outbox.markConfirmed(intent.id, result)
  return { intent: { ...intent, status: 'confirmed' as const, result }, receipt }
}
