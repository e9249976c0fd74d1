import { and, asc, eq, gte, inArray, isNull, max, sql } from 'drizzle-orm'
import type { Db } from './create-db.ts'
import { normalizeAddress } from './normalize.ts'
import { type Intent, intents } from './schema.ts'

/** One signed version of an intent's transaction: replacements share its nonce, not its hash. */
export type TxVersion = { txHash: string; rawTx: string }

/**
 * Every signed version of a sent intent's transaction, oldest first, the current one last. A
 * replacement (same nonce, higher fee) keeps the versions it replaced, since any of them may be the
 * one that lands. Until the schema has a column for them they live in the intent's `result`
 * (`{ replaced: TxVersion[] }`), which is only written with the outcome once the intent is settled.
 *
 * @example
 * for (const { txHash } of txVersionsOf(intent)) await client.getTransactionReceipt({ hash: txHash })
 */
export function txVersionsOf(intent: Intent): TxVersion[] {
  const replaced = (intent.result as { replaced?: TxVersion[] } | null)?.replaced
  const current = intent.txHash && intent.rawTx ? [{ txHash: intent.txHash, rawTx: intent.rawTx }] : []
  return [...(Array.isArray(replaced) ? replaced : []), ...current]
}

/**
 * Records a replacement of the transaction `txHash` (every sent intent it carries, a batch's too):
 * the new version becomes current, the old one is kept among the versions. Call it before
 * broadcasting the replacement. Returns how many intents it updated.
 *
 * @example
 * await markIntentsReplaced(db, { txHash: stuck, replacement: { txHash: keccak256(raw), rawTx: raw } })
 */
export async function markIntentsReplaced(
  db: Db,
  parameters: { txHash: string; replacement: TxVersion },
): Promise<number> {
  const { txHash, rawTx } = parameters.replacement
  const updated = await db
    .update(intents)
    .set({
      txHash,
      rawTx,
      attempts: sql`${intents.attempts} + 1`,
      updatedAt: sql`now()`,
      result: sql`jsonb_set(coalesce(${intents.result}, '{}'::jsonb), '{replaced}',
        coalesce(${intents.result}->'replaced', '[]'::jsonb)
          || jsonb_build_array(jsonb_build_object('txHash', ${intents.txHash}, 'rawTx', ${intents.rawTx})))`,
    })
    .where(and(eq(intents.txHash, parameters.txHash), eq(intents.status, 'sent')))
    .returning({ id: intents.id })
  return updated.length
}

/**
 * Makes `landed` the current version of the sent intents whose current version is `txHash` (an
 * earlier version landed instead of the replacement): what a later replay of the chain resends.
 *
 * @example
 * await markIntentsLandedAs(db, { txHash: current, landed: { txHash: receipt.transactionHash, rawTx } })
 */
export async function markIntentsLandedAs(
  db: Db,
  parameters: { txHash: string; landed: TxVersion },
): Promise<void> {
  await db
    .update(intents)
    .set({ txHash: parameters.landed.txHash, rawTx: parameters.landed.rawTx, updatedAt: sql`now()` })
    .where(and(eq(intents.txHash, parameters.txHash), eq(intents.status, 'sent')))
}

/**
 * Puts the sent intents carried by `txHash` back to pending, forgetting their nonce and signed bytes:
 * the node refused those bytes, so they never left and never will. Returns the ids.
 *
 * @example
 * await markIntentsUnsent(db, txHash) // the node said "insufficient funds": sign again later
 */
export async function markIntentsUnsent(db: Db, txHash: string): Promise<number[]> {
  const rows = await db
    .update(intents)
    .set({ status: 'pending', nonce: null, txHash: null, rawTx: null, result: null, updatedAt: sql`now()` })
    .where(and(eq(intents.txHash, txHash), eq(intents.status, 'sent')))
    .returning({ id: intents.id })
  return rows.map((row) => row.id)
}

/**
 * A signer's intents that hold a nonce from `nonce` up (any status), with the intents riding in
 * their transactions (a batch's other calls hold no nonce); by nonce, then id. What a replay of a
 * chain that lost those nonces works from.
 *
 * @example
 * const lost = await listSignerIntentsFrom(db, { signer: relayer, nonce: await chainNonce(relayer) })
 */
export async function listSignerIntentsFrom(
  db: Db,
  parameters: { signer: string; nonce: number },
): Promise<Intent[]> {
  const signer = normalizeAddress(parameters.signer, 'signer')
  const holders = db
    .select({ txHash: intents.txHash })
    .from(intents)
    .where(and(eq(intents.signer, signer), gte(intents.nonce, parameters.nonce)))
  return db
    .select()
    .from(intents)
    .where(
      and(
        eq(intents.signer, signer),
        sql`(${intents.nonce} >= ${parameters.nonce} or (${isNull(intents.nonce)} and ${inArray(intents.txHash, holders)}))`,
      ),
    )
    .orderBy(sql`${intents.nonce} asc nulls last`, asc(intents.id))
}

/**
 * The highest nonce of a confirmed intent, per signer: transactions the runtime saw land. A chain
 * whose next nonce for a signer is not above it has lost them.
 *
 * @example
 * const landed = await getLandedNonces(db) // Map { '0xabc…' => 41 }
 */
export async function getLandedNonces(db: Db): Promise<Map<string, number>> {
  const rows = await db
    .select({ signer: intents.signer, nonce: max(intents.nonce) })
    .from(intents)
    .where(eq(intents.status, 'confirmed'))
    .groupBy(intents.signer)
  return new Map(rows.filter((r) => r.nonce !== null).map((r) => [r.signer, r.nonce!]))
}
