import { type Intent, listUnfinishedIntents } from '@agora/db'
import { parseTransaction } from 'viem'
import type { RuntimeClient } from '../client.ts'
import { intentHandlers } from './handlers/intent-handlers.ts'
import { holdLane } from './recovery-gate.ts'
import { runIntent } from './send-intent.ts'

export type RecoverIntentsParameters = {
  /** Leave intents recorded or touched more recently than this alone (a send may be under way). */
  olderThanMs?: number
}

export type RecoverIntentsReturnType = {
  /** How many unfinished intents were handed out. */
  recovered: number
  /** Settles once every one of them is settled, sent again, or given up for now. */
  settled: Promise<void>
}

/**
 * Finishes intents left unfinished by an earlier run or an outage, in the background. Sent ones are
 * resumed in nonce order (the receipt of any version, or their very bytes again), and their lanes are
 * held until they are settled, so a new transaction of the same Safe is not built on a nonce they
 * are about to use; pending ones are sent after them. Intents this process is sending are left alone.
 *
 * @example
 * const { recovered, settled } = await recoverIntents(client)
 * await settled
 */
export async function recoverIntents(
  client: RuntimeClient,
  parameters: RecoverIntentsParameters = {},
): Promise<RecoverIntentsReturnType> {
  const { outbox } = client
  const before = Date.now() - (parameters.olderThanMs ?? 0)
  // This process's relayers' intents only: another process's are its own to finish.
  const signers = outbox.relayers.map((r) => r.address)
  const unfinished = (await listUnfinishedIntents(outbox.db, { signers })).filter(
    (i) => !outbox.inFlight.has(i.idempotencyKey) && i.updatedAt.getTime() <= before,
  )
  if (unfinished.length === 0) return { recovered: 0, settled: Promise.resolve() }
  outbox.log(`transactions: finishing ${unfinished.length} intent(s) left unfinished`)
  const laneOf = (i: Intent) => intentHandlers[i.kind].lane(i.payload)
  const byLane = new Map<string, Intent[]>()
  for (const intent of [...unfinished].sort((a, b) => order(a) - order(b))) {
    const lane = laneOf(intent)
    byLane.set(lane, [...(byLane.get(lane) ?? []), intent])
  }
  const work: Promise<void>[] = []
  for (const [lane, intents] of byLane) {
    const sent = intents.filter((i) => i.status === 'sent')
    const pending = intents.filter((i) => i.status === 'pending')
    const resumed = (async () => {
      for (const intent of sent) await finish(client, intent)
    })()
    // Pending ones after the lane's sent ones, this pass's and any an earlier pass still holds.
    const held =
      sent.length > 0 ? holdLane(outbox, lane, resumed) : (outbox.recovery.lanes.get(lane) ?? resumed)
    work.push(held.then(() => Promise.all(pending.map((intent) => finish(client, intent)))).then(() => {}))
  }
  return { recovered: unfinished.length, settled: Promise.all(work).then(() => {}) }
}

/** Sent intents by nonce (a batch's riders have their transaction's), pending ones after them by age. */
function order(intent: Intent): number {
  if (intent.status !== 'sent' || !intent.rawTx) return Number.MAX_SAFE_INTEGER / 2 + intent.id
  return intent.nonce ?? parseTransaction(intent.rawTx as `0x${string}`).nonce ?? 0
}

async function finish(client: RuntimeClient, intent: Intent) {
  try {
    await runIntent(client, intent, { gated: false })
  } catch (error) {
    client.outbox.log(
      `transactions: ${intent.kind} ${intent.idempotencyKey} did not complete: ${(error as Error).message.split('\n')[0]}`,
    )
  }
}
