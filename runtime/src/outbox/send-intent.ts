import type { Intent } from '@agora/db'
import { ConflictError } from '@agora/db'
import type { Hex } from 'viem'
import type { RuntimeClient } from '../client.ts'
import { wrapChainError } from '../errors.ts'
import { signAndBroadcast } from './broadcast.ts'
import { gasLimit } from './gas.ts'
import { intentHandlers } from './handlers/intent-handlers.ts'
import type { Call, IntentHandler, SentIntent } from './intent-handler.ts'
import { joinLane, leaveLane, takeBatch } from './lanes.ts'
import type { Waiting } from './outbox.ts'
import { receiptOf } from './receipts.ts'
import { resumeSent } from './resume-sent.ts'
import { withRetries } from './retry.ts'
import { settleIntent } from './settle-intent.ts'

type Sent = { call: Call; hash: Hex; batched: boolean }

/**
 * Sends a recorded intent unless it already went out, and resolves with the receipt of the
 * transaction that carried it: a confirmed intent answers at once, a sent one is resumed (its very
 * bytes rebroadcast), a failed one is refused. Concurrent calls for one key share one send.
 *
 * @example
 * const { intent } = await recordIntent(client, db, input)
 * const { receipt } = await sendIntent(client, intent)
 */
export function sendIntent(client: RuntimeClient, intent: Intent): Promise<SentIntent> {
  const { inFlight } = client.outbox
  const key = intent.idempotencyKey
  const existing = inFlight.get(key)
  if (existing) return existing
  const run = (async () => {
    if (intent.status === 'confirmed') {
      const receipt = await client.outbox.publicClient.getTransactionReceipt({ hash: intent.txHash as Hex })
      return { intent, receipt }
    }
    if (intent.status === 'failed') {
      throw new ConflictError(`This ${intent.kind} already failed: ${intent.lastError}`)
    }
    if (intent.status === 'sent') {
      const receipt = await resumeSent(client.outbox, intent)
      return receipt ? settleIntent(client, intent, receipt) : send(client, intent)
    }
    return send(client, intent)
  })()
  inFlight.set(key, run)
  const forget = () => inFlight.delete(key)
  run.then(forget, forget)
  return run
}

/**
 * Builds, simulates, signs, records and broadcasts one intent, holding its lane; intents of the same
 * kind queued behind it in the lane go along in the same transaction when the kind can batch.
 */
export async function send(client: RuntimeClient, intent: Intent): Promise<SentIntent> {
  const { outbox } = client
  const handler: IntentHandler = intentHandlers[intent.kind]
  const lane = handler.lane(intent.payload)
  const me: Waiting = { intent }
  const batchable = handler.buildMany !== undefined && outbox.maxBatch > 1
  if (batchable) joinLane(outbox, lane, me)
  // The lane is held until the transaction is broadcast, not until it is mined: a Safe's next
  // transaction is built against the pending state, so one agent's transactions pipeline.
  let sent: Sent
  try {
    sent = await outbox.laneLocks.run(lane, async () => {
      if (me.sent) return me.sent
      if (me.error) throw me.error
      // Intents recorded together reach their lane over a few microtasks: let them all queue up.
      if (batchable) await new Promise((resolve) => setImmediate(resolve))
      const batch = batchable ? takeBatch(outbox, lane, me) : [me]
      if (batch.length > 1) {
        const many = await sendMany(client, handler, lane, batch)
        if (many) return many
        // The batch would not go through as one (one of its calls is refused): each goes alone.
        outbox.log(
          `transactions: ${batch.length} ${intent.kind} intents refused as one batch; sending them one by one`,
        )
        for (const other of batch) if (other !== me) delete other.taken
      }
      return sendOne(client, handler, lane, intent)
    })
  } finally {
    if (batchable) leaveLane(outbox, lane, me)
  }
  const receipt = await receiptOf(outbox, sent.hash)
  if (receipt.status !== 'success') sent.call.rollback?.()
  return settleIntent(client, { ...intent, status: 'sent', txHash: sent.hash }, receipt, sent.batched)
}

/** Sends one intent as its own transaction (inside its lane). */
async function sendOne(client: RuntimeClient, handler: IntentHandler, lane: string, intent: Intent) {
  const { outbox } = client
  const relayer = outbox.relayerFor(lane)
  const call = await handler.build(client, intent)
  let gas: bigint
  try {
    gas = await withRetries(outbox.log, intent.kind, () =>
      gasLimit(outbox, intent.kind, relayer.address, call),
    )
  } catch (error) {
    call.rollback?.()
    let wrapped = wrapChainError(error, intent.kind)
    if (wrapped.code !== 'CHAIN_UNAVAILABLE') {
      wrapped = (await handler.explain?.(client, intent).catch(() => undefined)) ?? wrapped
      await outbox.markFailed(intent.id, wrapped.shortMessage)
      await handler.onFailed?.(client, intent, wrapped)
    }
    throw wrapped
  }
  const hash = await signAndBroadcast(outbox, relayer, call, gas, [intent])
  return { call, hash, batched: false }
}

/**
 * Sends several intents of one lane as one transaction. Undefined, with nothing sent and nothing
 * reserved, when the batch cannot go as one (a call in it would be refused): the caller then sends
 * each on its own. Once the batch is recorded, a failure is every member's failure: none of them
 * may be sent again apart from it.
 */
async function sendMany(
  client: RuntimeClient,
  handler: IntentHandler,
  lane: string,
  batch: Waiting[],
): Promise<Sent | undefined> {
  const { outbox } = client
  const relayer = outbox.relayerFor(lane)
  const intents = batch.map((w) => w.intent)
  let call: Call
  try {
    call = await handler.buildMany!(client, intents)
  } catch {
    return undefined
  }
  let gas: bigint
  try {
    gas = await gasLimit(outbox, intents[0]!.kind, relayer.address, call, intents.length)
  } catch {
    call.rollback?.()
    return undefined
  }
  try {
    const hash = await signAndBroadcast(outbox, relayer, call, gas, intents)
    const sent = { call, hash, batched: true }
    for (const other of batch.slice(1)) other.sent = sent
    return sent
  } catch (error) {
    for (const other of batch.slice(1)) other.error = error
    throw error
  }
}
