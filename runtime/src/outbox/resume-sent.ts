import type { Intent } from '@agora/db'
import { BaseError } from '@agora/db'
import type { Address, Hex, TransactionReceipt } from 'viem'
import { broadcast } from './broadcast.ts'
import type { Outbox } from './outbox.ts'
import { waitForReceipt } from './receipts.ts'

/**
 * A sent intent: its receipt if it landed, else the same bytes again. Undefined when its nonce went
 * to another transaction, so these bytes can never land: the intent is then built afresh.
 */
export async function resumeSent(outbox: Outbox, intent: Intent): Promise<TransactionReceipt | undefined> {
  const hash = intent.txHash as Hex
  const landed = await outbox.publicClient.getTransactionReceipt({ hash }).catch(() => undefined)
  if (landed) return landed
  try {
    await broadcast(outbox, intent.rawTx as Hex, hash, intent.signer as Address)
  } catch (error) {
    if (error instanceof BaseError && /nonce too low/i.test(String((error.cause as Error)?.message)))
      return undefined
    throw error
  }
  return waitForReceipt(outbox, hash)
}
