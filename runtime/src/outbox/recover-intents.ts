import { type Intent, listUnfinishedIntents } from '@agora/db'
import type { RuntimeClient } from '../client.ts'
import { resumeSent } from './resume-sent.ts'
import { send } from './send-intent.ts'
import { settleIntent } from './settle-intent.ts'

/**
 * Finishes every intent a previous process left unfinished: sent ones are resumed in nonce order
 * (their receipt, or the very same bytes again), then pending ones are sent with fresh nonces.
 *
 * @example
 * const { recovered } = await recoverIntents(client)
 */
export async function recoverIntents(client: RuntimeClient): Promise<{ recovered: number }> {
  const { outbox } = client
  const unfinished = await listUnfinishedIntents(outbox.db)
  if (unfinished.length > 0)
    outbox.log(`transactions: finishing ${unfinished.length} intent(s) left by the last run`)
  // Sent ones first, in nonce order, so that pending ones get fresh nonces after them. An intent
  // that rode in another's transaction (a batch) has that transaction's nonce.
  const sent = unfinished.filter((i) => i.status === 'sent')
  const nonceOfTx = new Map(sent.filter((i) => i.nonce !== null).map((i) => [i.txHash, i.nonce!]))
  const nonceOf = (i: Intent) => i.nonce ?? nonceOfTx.get(i.txHash) ?? -1
  sent.sort((a, b) => nonceOf(a) - nonceOf(b))
  for (const intent of sent) {
    await finish(client, intent, async () => {
      const receipt = await resumeSent(outbox, intent)
      if (receipt) await settleIntent(client, intent, receipt)
      else await send(client, intent)
    })
  }
  outbox.nonces.clear()
  for (const intent of unfinished.filter((i) => i.status === 'pending')) {
    await finish(client, intent, () => send(client, intent))
  }
  return { recovered: unfinished.length }
}

async function finish(client: RuntimeClient, intent: Intent, run: () => Promise<unknown>) {
  try {
    await run()
  } catch (error) {
    client.outbox.log(
      `transactions: ${intent.kind} ${intent.idempotencyKey} did not complete: ${(error as Error).message}`,
    )
  }
}
