import { type BaseError, ConflictError, type Intent } from '@agora/db'
import type { Hex } from 'viem'
import type { RuntimeClient } from '../client.ts'
import { ChainUnavailableError, wrapChainError } from '../errors.ts'
import { refusalOf, signAndBroadcast } from './broadcast.ts'
import { gasLimit } from './gas.ts'
import { intentHandlers } from './handlers/intent-handlers.ts'
import type { IntentHandler, SentIntent } from './intent-handler.ts'
import { joinLane, leaveLane, takeBatch } from './lanes.ts'
import type { Outbox, Sent, Waiting } from './outbox.ts'
import { awaitRecovery } from './recovery-gate.ts'
import { finishedReplays, relayersShortOfSent, rolledBackRelayers } from './repair-rollback.ts'
import { resumeSent } from './resume-sent.ts'
import { withRetries } from './retry.ts'
import { settleIntent } from './settle-intent.ts'
import { watchTransaction } from './watch-transaction.ts'

/**
 * Sends a recorded intent unless it already went out, and resolves with the receipt of the
 * transaction that carried it: a confirmed intent answers at once, a sent one is resumed (its very
 * bytes rebroadcast), a failed one is refused. Concurrent calls for one key share one send. While
 * recovery finishes earlier transactions of the intent's lane (or a rolled-back chain is replayed),
 * it waits for them a few seconds, then throws a `ChainUnavailableError`: the intent stays recorded
 * and the outbox sends it once recovery is over.
 *
 * @example
 * const { intent } = await recordIntent(client, db, input)
 * const { receipt } = await sendIntent(client, intent)
 */
export function sendIntent(client: RuntimeClient, intent: Intent): Promise<SentIntent> {
  return runIntent(client, intent, { gated: true })
}

/**
 * `sendIntent` for recovery, which finishes lanes itself: `gated: false` skips the wait for it.
 * Concurrent calls for one key share one run.
 */
export function runIntent(client: RuntimeClient, intent: Intent, { gated }: { gated: boolean }) {
  const { inFlight } = client.outbox
  const key = intent.idempotencyKey
  const existing = inFlight.get(key)
  if (existing) return existing
  const run = (async () => {
    if (gated && (intent.status === 'pending' || intent.status === 'sent')) {
      const recovering = awaitRecovery(client.outbox, intentHandlers[intent.kind].lane(intent.payload))
      if (recovering) await recovering
    }
    if (intent.status === 'confirmed') {
      const receipt = await client.outbox.publicClient
        .getTransactionReceipt({ hash: intent.txHash as Hex })
        .catch((error: unknown) => {
          // Landed, and gone from the chain since (it was rolled back): it is being put back.
          if (error instanceof Error && error.name === 'TransactionReceiptNotFoundError')
            throw new ChainUnavailableError(
              `The ${intent.kind} landed, but the chain does not have it now.`,
              {
                cause: error,
                meta: { reason: 'rolled-back' },
              },
            )
          throw wrapChainError(error, `reading the ${intent.kind} receipt`)
        })
      return { intent, receipt }
    }
    if (intent.status === 'failed') {
      throw new ConflictError(`This ${intent.kind} already failed: ${intent.lastError}`)
    }
    if (intent.status === 'sent') {
      const receipt = await resumeSent(client.outbox, intent)
      // Whether it rode in a batch is not known here: its gas teaches nothing about one call.
      if (receipt) return settleIntent(client, { ...intent, txHash: receipt.transactionHash }, receipt, true)
      return send(client, { ...intent, status: 'pending' })
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
 * kind queued behind it in the lane go along in the same transaction when the kind can batch. When
 * the transaction's nonce went to another one and none of its versions landed, the call never ran:
 * it is built and sent again (once).
 */
export async function send(client: RuntimeClient, intent: Intent, attempt = 1): Promise<SentIntent> {
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
  let receipt: Awaited<ReturnType<typeof watchTransaction>>
  try {
    receipt = await watchTransaction(outbox, sent.tx)
  } catch (error) {
    if (refusalOf(error) !== 'nonce-taken' || attempt > 1) throw error
    sent.call.rollback?.()
    outbox.log(`transactions: ${intent.kind} ${intent.idempotencyKey} lost its nonce; sending it again`)
    return send(client, { ...intent, status: 'pending' }, attempt + 1)
  }
  if (receipt.status !== 'success') {
    sent.call.rollback?.()
    // Reverted on a chain that had lost transactions (its state was not what the call was built
    // on): the call did not run. Pending again, it goes out once they are back on the chain.
    if (await nodeLostTransactions(outbox, sent.replays)) {
      await outbox.unsend(receipt.transactionHash)
      throw new ChainUnavailableError(
        `${intent.kind} waits: the chain lost transactions it had, and they are being sent again first.`,
        { meta: { reason: 'rolled-back' } },
      )
    }
  }
  const settled = { ...intent, status: 'sent' as const, txHash: receipt.transactionHash }
  return settleIntent(client, settled, receipt, sent.batched)
}

/**
 * Sends one intent as its own transaction (inside its lane). Nothing is spent when the call is
 * refused (by the simulation or by the node): its sequence (a Safe nonce) stays where it was.
 */
async function sendOne(client: RuntimeClient, handler: IntentHandler, lane: string, intent: Intent) {
  const { outbox } = client
  const relayer = outbox.relayerFor(lane)
  for (let attempt = 1; ; attempt++) {
    const replays = finishedReplays(outbox)
    const call = await handler.build(client, intent).catch((error: unknown) => {
      throw wrapChainError(error, `building the ${intent.kind} transaction`)
    })
    let gas: bigint
    try {
      gas = await withRetries(outbox.log, intent.kind, () =>
        gasLimit(outbox, intent.kind, relayer.address, call),
      )
    } catch (error) {
      throw await refuse(client, handler, intent, wrapChainError(error, intent.kind), replays)
    }
    try {
      const tx = await signAndBroadcast(outbox, relayer, call, gas, [intent])
      return { call, tx, batched: false, replays }
    } catch (error) {
      const refusal = refusalOf(error)
      // The nonce the outbox held was taken meanwhile: it is read again, and the call sent once more.
      if ((refusal === 'nonce-taken' || refusal === 'conflict') && attempt < 3) continue
      if (refusal === 'refused')
        throw await refuse(client, handler, intent, wrapChainError(error, intent.kind), replays)
      if (refusal)
        throw new ChainUnavailableError(`${intent.kind} could not be sent now: ${(error as Error).message}`, {
          cause: error,
          meta: { refusal },
        })
      throw error
    }
  }
}

/**
 * A refused call: the intent fails with the clearest reason there is, unless the chain just did not
 * answer, or the node had lost transactions (`nodeLostTransactions`) for a call built on `replays`.
 */
async function refuse(
  client: RuntimeClient,
  handler: IntentHandler,
  intent: Intent,
  wrapped: BaseError,
  replays: number,
): Promise<BaseError> {
  if (wrapped.code === 'CHAIN_UNAVAILABLE') return wrapped
  // What the node refuses on may be among the transactions it lost (a rolled-back chain, a pool
  // emptied by a restart: a Safe's nonce one ahead of the chain's). Not a failure: it goes out after
  // they are back.
  if (await nodeLostTransactions(client.outbox, replays))
    return new ChainUnavailableError(
      `${intent.kind} waits: the chain lost transactions it had, and they are being sent again first.`,
      { cause: wrapped, meta: { reason: 'rolled-back' } },
    )
  const error = (await handler.explain?.(client, intent).catch(() => undefined)) ?? wrapped
  await client.outbox.markFailed(intent.id, error.shortMessage)
  await handler.onFailed?.(client, intent, error)
  return error
}

/**
 * Whether the node lacked transactions when a call built after `replays` (`finishedReplays`, read
 * before building it) was refused or reverted, so that says nothing about the call: a replay of a
 * rolled-back chain began since it was built (or is under way), the chain lost transactions the
 * runtime saw land, or the node holds fewer of a relayer's transactions than the outbox sent (a
 * restarted node whose pool lost them). A node that does not answer the question counts as one.
 */
async function nodeLostTransactions(outbox: Outbox, replays: number): Promise<boolean> {
  if (finishedReplays(outbox) !== replays || outbox.recovery.replaying) return true
  try {
    const [rolled, short] = await Promise.all([rolledBackRelayers(outbox), relayersShortOfSent(outbox)])
    return rolled.length > 0 || short.length > 0
  } catch {
    return true // the node does not say: the call is judged again later
  }
}

/**
 * Sends several intents of one lane as one transaction. Undefined, with nothing sent and nothing
 * spent, when the batch cannot go as one (a call in it would be refused, or the node refused it):
 * the caller then sends each on its own. Once the batch is out, a failure is every member's
 * failure: none of them may be sent again apart from it.
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
  const replays = finishedReplays(outbox)
  let call: Sent['call']
  let gas: bigint
  try {
    call = await handler.buildMany!(client, intents)
    gas = await gasLimit(outbox, intents[0]!.kind, relayer.address, call, intents.length)
  } catch {
    return undefined
  }
  try {
    const tx = await signAndBroadcast(outbox, relayer, call, gas, intents)
    const sent = { call, tx, batched: true, replays }
    for (const other of batch.slice(1)) other.sent = sent
    return sent
  } catch (error) {
    if (refusalOf(error)) return undefined // refused: its members are pending again, each goes alone
    for (const other of batch.slice(1)) other.error = error
    throw error
  }
}
