import { getIntent, type Intent } from '@agora/db'
import type { TransactionReceipt } from 'viem'
import type { RuntimeClient } from '../../client.ts'
import { sendIntent } from '../../outbox/send-intent.ts'

export type SendRecordedParameters = {
  /** How long to wait for the transaction before answering with where it stands (default 20 s). */
  maxWaitMs?: number
}

/** A recorded intent's transaction landed, or it is still on its way (and will be finished later). */
export type SendRecordedReturnType =
  | { status: 'confirmed'; intent: Intent; receipt: TransactionReceipt }
  | { status: 'pending' | 'sent'; intent: Intent }

/**
 * Sends a recorded intent and waits for its transaction, but never reports as failed what may
 * still happen: when the chain does not answer (or is slow), the intent stays recorded, the
 * outbox finishes it later, and this resolves with its status (`pending` or `sent`). Only a
 * failure recorded on the intent (a refusal, a revert) is thrown.
 *
 * @example
 * const outcome = await sendRecorded(client, intent)
 * if (outcome.status !== 'confirmed') return { ...view, status: 'pending' }
 */
export async function sendRecorded(
  client: RuntimeClient,
  intent: Intent,
  parameters: SendRecordedParameters = {},
): Promise<SendRecordedReturnType> {
  const sending = sendIntent(client, intent)
  // What happens after the wait is recorded on the intent; nobody awaits it here any more.
  sending.catch(() => {})
  let timer: ReturnType<typeof setTimeout> | undefined
  const waited = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), parameters.maxWaitMs ?? 20_000)
  })
  try {
    const sent = await Promise.race([sending, waited])
    if (sent) return { status: 'confirmed', intent: sent.intent, receipt: sent.receipt }
  } catch (error) {
    const now = await getIntent(client.db, intent.id).catch(() => undefined)
    if (now?.status === 'pending' || now?.status === 'sent') {
      client.log(
        `runtime: ${intent.kind} ${intent.idempotencyKey} is recorded and will be sent later: ${(error as Error).message.split('\n')[0]}`,
      )
      return { status: now.status, intent: now }
    }
    throw error
  } finally {
    clearTimeout(timer)
  }
  const now = await getIntent(client.db, intent.id).catch(() => undefined)
  // Settled meanwhile: its own outcome (a failure is thrown as it happened).
  if (now?.status === 'confirmed' || now?.status === 'failed')
    return sending.then((sent) => ({ status: 'confirmed' as const, ...sent }))
  return { status: now?.status === 'sent' ? 'sent' : 'pending', intent: now ?? intent }
}
