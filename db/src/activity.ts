import { and, asc, eq, gt, inArray, max, sql } from 'drizzle-orm'
import type { Db } from './create-db.ts'
import { assertJson } from './normalize.ts'
import { type Activity, type ActivityKind, activity } from './schema.ts'

// Arbitrary but fixed key of the lock that orders activity writers.
const activityLockKey = 7_220_418_412

export type AppendActivityParameters = {
  agentId?: string | null
  kind: ActivityKind
  data?: Record<string, unknown>
}

/**
 * Appends one event to the feed and returns it with its id.
 *
 * Ids come from a sequence, which hands them out at insert time, not at commit: with two writers a
 * reader could see id 8 before 7 commits and then skip 7 for good. A transaction-scoped lock makes
 * writers commit in id order, so "everything after id N" never misses a row. Keep transactions
 * that append activity short; inside a long one, the lock is held until it ends.
 *
 * @example
 * await appendActivity(db, { agentId, kind: 'payment', data: { amount: '2500000', to } })
 */
export async function appendActivity(db: Db, parameters: AppendActivityParameters): Promise<Activity> {
  const [row] = await appendActivities(db, [parameters])
  return row!
}

/** Appends several events at once (one transaction, consecutive ids), in the order given. */
export async function appendActivities(db: Db, entries: AppendActivityParameters[]): Promise<Activity[]> {
  if (entries.length === 0) return []
  for (const entry of entries) assertJson(entry.data, 'data')
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${sql.raw(String(activityLockKey))})`)
    return tx.insert(activity).values(entries).returning()
  })
}

export type ListActivityParameters = {
  /** One agent's feed; every agent's without it. */
  agentId?: string
  /** Only events after this id (the SSE `Last-Event-ID`). */
  afterId?: number
  /** Only events of these kinds. */
  kinds?: readonly ActivityKind[]
  limit?: number
}

/**
 * Events in id order, oldest first.
 *
 * @example
 * const events = await listActivity(db, { agentId, afterId: Number(lastEventId), limit: 100 })
 */
export function listActivity(db: Db, parameters: ListActivityParameters = {}): Promise<Activity[]> {
  return db
    .select()
    .from(activity)
    .where(
      and(
        parameters.agentId ? eq(activity.agentId, parameters.agentId) : undefined,
        parameters.afterId !== undefined ? gt(activity.id, parameters.afterId) : undefined,
        parameters.kinds ? inArray(activity.kind, [...parameters.kinds]) : undefined,
      ),
    )
    .orderBy(asc(activity.id))
    .limit(parameters.limit ?? 100)
}

/**
 * The id of the newest event, 0 when there is none: where a reader that wants only what comes next
 * starts.
 *
 * @example
 * let cursor = await lastActivityId(db)
 */
export async function lastActivityId(db: Db): Promise<number> {
  const [row] = await db.select({ id: max(activity.id) }).from(activity)
  return Number(row?.id ?? 0)
}
