import { getHighestNonce, type Intent, listSignerIntentsFrom } from '@agora/db'
import type { Address } from 'viem'
import type { RuntimeClient } from '../client.ts'
import { wrapChainError } from '../errors.ts'
import { broadcast, fillNonce } from './broadcast.ts'
import { landedNonces } from './nonces.ts'
import type { Outbox } from './outbox.ts'
import { sentTxOf } from './sent-tx.ts'
import { watchTransaction } from './watch-transaction.ts'

/**
 * One nonce of a relayer to put back: the live intent that held it, or nothing (a no-op fills it).
 * `sentAt`: when its transaction was first sent (a no-op's is its predecessor's).
 */
type Slot = { relayer: Address; nonce: number; intent?: Intent; sentAt: number }

/**
 * Puts back what a rolled-back chain lost (a node restored from an older state, as anvil after
 * `kill -9`). The chain is the source of truth: when a relayer's next nonce on chain is not above
 * one the runtime saw land, every transaction it sent from that nonce on is sent again from its
 * stored signed bytes, each relayer's in nonce order and across relayers in the order they were
 * first sent (a step is only sent once the step it depends on landed, so that order keeps every
 * dependency); a batch's one transaction once, and a no-op where a nonce held nothing that may land.
 * The same bytes have the same hash, so the outbox's rows stay true. Resolves with how many
 * transactions were put back (0 when nothing was lost). New transactions wait meanwhile.
 *
 * @example
 * const replayed = await repairRollback(client)
 */
export async function repairRollback(client: RuntimeClient): Promise<number> {
  const { outbox } = client
  if (outbox.recovery.replaying) return 0
  const rolled = await rolledBackRelayers(outbox)
  if (rolled.length === 0) return 0
  outbox.recovery.replays++
  const replay = (async () => {
    const queues = await Promise.all(rolled.map((r) => slotsOf(client, r.relayer, r.next)))
    const total = queues.reduce((n, q) => n + q.length, 0)
    outbox.log(
      `transactions: the chain lost ${total} transaction(s) the runtime saw land; sending them again`,
    )
    for (let slot = nextSlot(queues); slot; slot = nextSlot(queues)) await putBack(client, slot)
    outbox.nonces.clear()
    client.safes.clear()
    return total
  })()
  outbox.recovery.replaying = replay
  try {
    return await replay
  } finally {
    outbox.recovery.replaying = undefined
  }
}

/**
 * The relayers whose next nonce on chain is not above one the runtime saw land: the chain lost their
 * transactions (one request for all of them).
 */
export async function rolledBackRelayers(outbox: Outbox): Promise<{ relayer: Address; next: number }[]> {
  const landed = await landedNonces(outbox)
  const counts = await Promise.all(
    outbox.relayers.map((r) =>
      outbox.publicClient.getTransactionCount({ address: r.address, blockTag: 'latest' }),
    ),
  ).catch((error: unknown) => {
    throw wrapChainError(error, "reading the relayers' nonces")
  })
  return outbox.relayers
    .map((r, i) => ({ relayer: r.address, next: counts[i]! }))
    .filter(({ relayer, next }) => next <= (landed.get(relayer.toLowerCase()) ?? -1))
}

/**
 * The replays a call built now has seen finish: one under way is not (the chain is not whole yet).
 * Read before a call is built; a different count when it is judged means a replay came between.
 */
export function finishedReplays(outbox: Outbox): number {
  const { replays, replaying } = outbox.recovery
  return replaying ? replays - 1 : replays
}

/**
 * The relayers of which the node holds fewer transactions (mined or in its pool) than the outbox
 * sent: a node restarted from a saved state lost the ones that were only in its pool, and until they
 * are sent again (the repair of stuck transactions does) what was built after them is refused or
 * reverts. Read under each relayer's lock, so no transaction is between its record and the node.
 */
export async function relayersShortOfSent(
  outbox: Outbox,
): Promise<{ relayer: Address; held: number; sent: number }[]> {
  const short = await Promise.all(
    outbox.relayers.map((r) =>
      outbox.relayerLocks.get(r.address)!.run(async () => {
        const [held, highest] = await Promise.all([
          outbox.publicClient.getTransactionCount({ address: r.address, blockTag: 'pending' }),
          getHighestNonce(outbox.db, r.address),
        ])
        const sent = Math.max(outbox.nonces.get(r.address) ?? 0, (highest ?? -1) + 1)
        return { relayer: r.address, held, sent }
      }),
    ),
  ).catch((error: unknown) => {
    throw wrapChainError(error, "reading the relayers' pending nonces")
  })
  return short.filter(({ held, sent }) => held < sent)
}

/** Takes the slot sent first among the relayers' next ones (each relayer's stay in nonce order). */
function nextSlot(queues: Slot[][]): Slot | undefined {
  let first: Slot[] | undefined
  for (const queue of queues)
    if (queue.length > 0 && (!first || queue[0]!.sentAt < first[0]!.sentAt)) first = queue
  return first?.shift()
}

/** A rolled-back relayer's nonces from `next` to the highest a live intent holds, in nonce order. */
async function slotsOf(client: RuntimeClient, relayer: Address, next: number): Promise<Slot[]> {
  const rows = await listSignerIntentsFrom(client.db, { signer: relayer, nonce: next })
  const live = new Map<number, Intent>()
  for (const row of rows)
    if (row.nonce !== null && (row.status === 'confirmed' || row.status === 'sent')) live.set(row.nonce, row)
  const highest = Math.max(-1, ...live.keys())
  const slots: Slot[] = []
  let sentAt = 0
  for (let nonce = next; nonce <= highest; nonce++) {
    const intent = live.get(nonce)
    sentAt = Math.max(sentAt, intent?.sentAt?.getTime() ?? 0)
    slots.push({ relayer, nonce, intent, sentAt })
  }
  return slots
}

/** Sends one slot's bytes (or a no-op) and waits until it landed. */
async function putBack(client: RuntimeClient, slot: Slot) {
  const { outbox } = client
  if (!slot.intent) {
    const filler = await fillNonce(outbox, slot.relayer, slot.nonce)
    await watchTransaction(outbox, {
      relayer: slot.relayer,
      nonce: slot.nonce,
      versions: [filler],
      since: Date.now(),
    })
    return
  }
  const tx = sentTxOf(slot.intent)
  const latest = tx.versions.at(-1)!
  await broadcast(
    outbox,
    latest.rawTx,
    tx.versions.map((v) => v.hash),
    tx.relayer,
  )
  const receipt = await watchTransaction(outbox, tx)
  if (slot.intent.status === 'confirmed' && receipt.status !== 'success')
    outbox.log(
      `transactions: LOST ${slot.intent.kind} ${slot.intent.idempotencyKey}: its transaction landed before the chain ` +
        `rolled back, and reverted when sent again (${receipt.transactionHash})`,
    )
}
