import { and, asc, eq, gte, inArray, sql } from 'drizzle-orm'
import type { Db } from './create-db.ts'
import { normalizeAddress } from './normalize.ts'
import { agents, type IntentKind, type IntentStatus, intents } from './schema.ts'

/** One intent of an owner's agents, as a quota counts it. */
export type OwnerIntent = {
  kind: IntentKind
  idempotencyKey: string
  status: IntentStatus
  /** The transaction that carried it, once signed (several intents may share one: a batch). */
  txHash: string | null
  /** Gas its transaction used, once confirmed. */
  gasUsed: bigint | null
  createdAt: Date
}

/**
 * The intents of every agent `owner` owns recorded since `since`, oldest first: what the runtime's
 * quotas count after a restart.
 *
 * @example
 * const recent = await listOwnerIntents(db, { owner, since: new Date(Date.now() - 86_400_000) })
 */
export async function listOwnerIntents(
  db: Db,
  parameters: { owner: string; since: Date; kinds?: readonly IntentKind[] },
): Promise<OwnerIntent[]> {
  const rows = await db
    .select({
      kind: intents.kind,
      idempotencyKey: intents.idempotencyKey,
      status: intents.status,
      txHash: intents.txHash,
      gasUsed: sql<string | null>`${intents.result} ->> 'gasUsed'`,
      createdAt: intents.createdAt,
    })
    .from(intents)
    .innerJoin(agents, eq(agents.id, intents.agentId))
    .where(
      and(
        eq(agents.owner, normalizeAddress(parameters.owner, 'owner')),
        gte(intents.createdAt, parameters.since),
        parameters.kinds ? inArray(intents.kind, [...parameters.kinds]) : undefined,
      ),
    )
    .orderBy(asc(intents.id))
  return rows.map((row) => ({
    ...row,
    gasUsed: row.gasUsed === null || !/^\d+$/.test(row.gasUsed) ? null : BigInt(row.gasUsed),
  }))
}
