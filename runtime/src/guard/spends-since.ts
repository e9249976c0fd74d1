import { type Db, tables } from '@agora/db'
import { and, eq, gte, inArray, notInArray } from 'drizzle-orm'

const { jobs, payments } = tables

/** An agent's spends within its budget period, oldest first, by key; loaded once, then kept. */
export type Ledger = {
  token: string
  periodMs: number
  entries: Map<string, { at: number; amount: bigint }>
  /** The sum of `entries`. */
  total: bigint
}

/**
 * An agent's spends in a token since `since`, oldest first, by key: payments not failed, jobs not
 * refunded.
 */
export async function spendsSince(
  db: Db,
  agentId: string,
  token: string,
  since: Date,
): Promise<Ledger['entries']> {
  const t = token.toLowerCase()
  const paid = await db
    .select({ key: payments.idempotencyKey, at: payments.createdAt, amount: payments.amount })
    .from(payments)
    .where(
      and(
        eq(payments.fromAgentId, agentId),
        eq(payments.token, t),
        gte(payments.createdAt, since),
        inArray(payments.status, ['pending', 'sent', 'confirmed']),
      ),
    )
  const hired = await db
    .select({ key: jobs.jobId, at: jobs.createdAt, amount: jobs.budget })
    .from(jobs)
    .where(
      and(
        eq(jobs.clientAgentId, agentId),
        eq(jobs.token, t),
        gte(jobs.createdAt, since),
        notInArray(jobs.status, ['declined', 'rejected', 'expired', 'failed']),
      ),
    )
  const rows = [...paid, ...hired].sort((a, b) => a.at.getTime() - b.at.getTime())
  return new Map(rows.map((r) => [r.key, { at: r.at.getTime(), amount: BigInt(r.amount) }]))
}
