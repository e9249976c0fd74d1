import { and, asc, eq, inArray, max, ne, sql } from 'drizzle-orm'
import type { Db } from './create-db.ts'
import { ConflictError, NotFoundError } from './errors.ts'
import { assertJson, normalizeAddress } from './normalize.ts'
import { type Intent, type IntentKind, type IntentStatus, intents } from './schema.ts'

export type RecordIntentParameters = {
  /** Same key, same intent: a retried request never produces a second transaction. */
  idempotencyKey: string
  kind: IntentKind
  /** The address that will sign and send the transaction. */
  signer: string
  agentId?: string | null
  /** Everything needed to build the transaction again; JSON only (amounts as decimal strings). */
  payload?: Record<string, unknown>
}

export type RecordIntentReturnType = {
  intent: Intent
  /** False when the key was already recorded and `intent` is the earlier row. */
  created: boolean
}

/**
 * Writes a pending chain intent, or returns the one already recorded under `idempotencyKey`.
 * Safe under concurrent calls: one row per key, whoever wins. Run it in `transaction()` with the
 * domain row it serves, and write that row only when `created`.
 *
 * @example
 * const { intent, created } = await recordIntent(tx, { idempotencyKey: `pay:${requestId}`, kind: 'pay', signer, payload })
 */
export async function recordIntent(
  db: Db,
  parameters: RecordIntentParameters,
): Promise<RecordIntentReturnType> {
  const [result] = await recordIntents(db, [parameters])
  return result!
}

/**
 * `recordIntent` for many intents in one statement (group commit); results are in the order given.
 *
 * @example
 * const [first, second] = await recordIntents(tx, [a, b])
 */
export async function recordIntents(
  db: Db,
  rows: RecordIntentParameters[],
): Promise<RecordIntentReturnType[]> {
  if (rows.length === 0) return []
  for (const row of rows) assertJson(row.payload, 'payload')
  const values = rows.map((row) => ({ ...row, signer: normalizeAddress(row.signer, 'signer') }))
  // ON CONFLICT DO NOTHING waits for a concurrent insert of the same key to commit, so the read
  // that follows sees the winner's row.
  const inserted = await db.insert(intents).values(values).onConflictDoNothing().returning()
  const byKey = new Map(inserted.map((row) => [row.idempotencyKey, { intent: row, created: true }]))
  const missing = values.filter((v) => !byKey.has(v.idempotencyKey)).map((v) => v.idempotencyKey)
  if (missing.length > 0) {
    const existing = await db.select().from(intents).where(inArray(intents.idempotencyKey, missing))
    for (const row of existing) byKey.set(row.idempotencyKey, { intent: row, created: false })
  }
  const claimed = new Set<string>()
  return values.map((v) => {
    const result = byKey.get(v.idempotencyKey)
    if (!result)
      throw new ConflictError(`Intent ${v.idempotencyKey} conflicted but cannot be read back.`, {
        code: 'IDEMPOTENCY_CONFLICT',
      })
    if (result.intent.kind !== v.kind)
      throw new ConflictError(
        `Idempotency key ${v.idempotencyKey} is already used by a "${result.intent.kind}" intent, not "${v.kind}".`,
        { code: 'IDEMPOTENCY_CONFLICT' },
      )
    // The same key given twice in one call: the second is the first's repeat.
    if (claimed.has(v.idempotencyKey)) return { intent: result.intent, created: false }
    claimed.add(v.idempotencyKey)
    return result
  })
}

/** @example const intent = await getIntent(db, 12) */
export async function getIntent(db: Db, id: number): Promise<Intent | undefined> {
  const [intent] = await db.select().from(intents).where(eq(intents.id, id))
  return intent
}

/** @example const intent = await getIntentByKey(db, `pay:${requestId}`) */
export async function getIntentByKey(db: Db, idempotencyKey: string): Promise<Intent | undefined> {
  const [intent] = await db.select().from(intents).where(eq(intents.idempotencyKey, idempotencyKey))
  return intent
}

export type MarkIntentSentParameters = {
  txHash: string
  /**
   * The signer's nonce; null for an intent that rides in another intent's transaction (several
   * calls batched into one), whose row holds the nonce.
   */
  nonce: number | null
  /** The signed transaction, stored before broadcast so a restart resends the same bytes. */
  rawTx: string
}

/**
 * Records the signed transaction of an intent; call it before broadcasting. Calling it again on a
 * sent intent records a replacement (same nonce, higher fee) and counts another attempt.
 *
 * @example
 * const signed = await account.signTransaction(request)
 * await markIntentSent(db, intent.id, { txHash: keccak256(signed), nonce: request.nonce, rawTx: signed })
 * await client.sendRawTransaction({ serializedTransaction: signed })
 */
export async function markIntentSent(
  db: Db,
  id: number,
  parameters: MarkIntentSentParameters,
): Promise<Intent> {
  const [intent] = await db
    .update(intents)
    .set({
      ...parameters,
      status: 'sent',
      attempts: sql`${intents.attempts} + 1`,
      sentAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(and(eq(intents.id, id), inArray(intents.status, ['pending', 'sent'])))
    .returning()
  return intent ?? refuse(db, id, 'sent')
}

export type MarkIntentConfirmedParameters = {
  /** What the transaction produced (ids from its events, block number); JSON only. */
  result?: unknown
  /** The hash that was mined, when it differs from the last one sent (a replacement). */
  txHash?: string
}

/**
 * Marks an intent mined; confirming it twice is harmless.
 *
 * @example
 * await markIntentConfirmed(db, intent.id, { result: { jobId: '42', blockNumber: '1234' } })
 */
export async function markIntentConfirmed(
  db: Db,
  id: number,
  parameters: MarkIntentConfirmedParameters = {},
): Promise<Intent> {
  assertJson(parameters.result, 'result')
  const [intent] = await db
    .update(intents)
    .set({ ...parameters, status: 'confirmed', lastError: null, updatedAt: sql`now()` })
    .where(and(eq(intents.id, id), inArray(intents.status, ['pending', 'sent'])))
    .returning()
  return intent ?? refuse(db, id, 'confirmed')
}

/**
 * Gives up on an intent for good (reverted, or refused before sending); failing it twice is harmless.
 *
 * @example
 * await markIntentFailed(db, intent.id, { error: 'EconomyJobNotFunded(42)' })
 */
export async function markIntentFailed(db: Db, id: number, parameters: { error: string }): Promise<Intent> {
  const [intent] = await db
    .update(intents)
    .set({ status: 'failed', lastError: parameters.error, updatedAt: sql`now()` })
    .where(and(eq(intents.id, id), inArray(intents.status, ['pending', 'sent'])))
    .returning()
  return intent ?? refuse(db, id, 'failed')
}

/**
 * Pending and sent intents, oldest first: what a restarted sender must finish (rebroadcast the
 * stored `rawTx` of sent ones, sign pending ones). `signers`: only those these relayers send (a
 * process finishes its own relayers' intents, never another process's).
 *
 * @example
 * for (const intent of await listUnfinishedIntents(db)) await resume(intent)
 */
export function listUnfinishedIntents(
  db: Db,
  parameters: { signer?: string; signers?: readonly string[] } = {},
): Promise<Intent[]> {
  const signers = parameters.signers?.map((s) => normalizeAddress(s, 'signer'))
  return db
    .select()
    .from(intents)
    .where(
      and(
        inArray(intents.status, ['pending', 'sent']),
        parameters.signer ? eq(intents.signer, normalizeAddress(parameters.signer, 'signer')) : undefined,
        signers ? inArray(intents.signer, signers.length > 0 ? signers : ['']) : undefined,
      ),
    )
    .orderBy(asc(intents.id))
}

/**
 * The highest nonce a signer holds in a live (not failed) intent, or null if none.
 *
 * @example
 * const local = await getHighestNonce(db, signer)
 * const nonce = Math.max(chainNonce, local === null ? 0 : local + 1)
 */
export async function getHighestNonce(db: Db, signer: string): Promise<number | null> {
  const [row] = await db
    .select({ nonce: max(intents.nonce) })
    .from(intents)
    .where(and(eq(intents.signer, normalizeAddress(signer, 'signer')), ne(intents.status, 'failed')))
  return row?.nonce ?? null
}

// A terminal state is final; repeating the same terminal state returns the row unchanged.
async function refuse(db: Db, id: number, to: IntentStatus): Promise<Intent> {
  const current = await getIntent(db, id)
  if (!current) throw new NotFoundError(`Intent ${id} not found.`, { code: 'NOT_FOUND' })
  if (current.status === to && to !== 'sent') return current
  throw new ConflictError(`Intent ${id} is ${current.status} and cannot become ${to}.`, {
    code: 'INVALID_TRANSITION',
  })
}

/**
 * `markIntentSent` for many intents in one statement (group commit: concurrent senders share one
 * write). Returns the ids it marked; an intent already confirmed or failed is left as it is.
 */
export async function markIntentsSent(
  db: Db,
  sent: ({ id: number } & MarkIntentSentParameters)[],
): Promise<Set<number>> {
  if (sent.length === 0) return new Set()
  const values = sql.join(
    sent.map((s) => sql`(${s.id}::bigint, ${s.txHash}::text, ${s.nonce}::integer, ${s.rawTx}::text)`),
    sql`, `,
  )
  const result = await db.execute(sql`
    update ${intents} as i
    set status = 'sent', tx_hash = v.tx_hash, nonce = v.nonce, raw_tx = v.raw_tx,
        attempts = i.attempts + 1, sent_at = now(), updated_at = now()
    from (values ${values}) as v(id, tx_hash, nonce, raw_tx)
    where i.id = v.id and i.status in ('pending', 'sent')
    returning i.id`)
  // postgres-js hands back the rows, PGlite an object holding them.
  const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as {
    id: number | string
  }[]
  return new Set(rows.map((row) => Number(row.id)))
}

/** `markIntentConfirmed` for many intents in one statement; already confirmed ones are left as they are. */
export async function markIntentsConfirmed(
  db: Db,
  confirmed: { id: number; result: unknown }[],
): Promise<void> {
  if (confirmed.length === 0) return
  for (const c of confirmed) assertJson(c.result, 'result')
  const values = sql.join(
    confirmed.map((c) => sql`(${c.id}::bigint, ${JSON.stringify(c.result ?? null)}::jsonb)`),
    sql`, `,
  )
  await db.execute(sql`
    update ${intents} as i
    set status = 'confirmed', result = v.result, last_error = null, updated_at = now()
    from (values ${values}) as v(id, result)
    where i.id = v.id and i.status in ('pending', 'sent')`)
}
