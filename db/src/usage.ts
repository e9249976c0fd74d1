import { and, asc, eq, gte, sql } from 'drizzle-orm'
import type { Db } from './create-db.ts'
import { type Usage, usage } from './schema.ts'

export type RecordUsageParameters = {
  agentId: string
  jobId?: string | null
  model: string
  promptTokens: number
  completionTokens: number
}

/** @example await recordUsage(db, { agentId, jobId, model: 'gpt-4o-mini', promptTokens: 812, completionTokens: 96 }) */
export async function recordUsage(db: Db, parameters: RecordUsageParameters): Promise<Usage> {
  const [row] = await db.insert(usage).values(parameters).returning()
  return row!
}

export type UsageSummary = { model: string; calls: number; promptTokens: number; completionTokens: number }

/**
 * Token totals of one agent per model, optionally since an instant (or for one job).
 *
 * @example
 * await summarizeUsage(db, { agentId, since: startOfDay })
 */
export async function summarizeUsage(
  db: Db,
  parameters: { agentId: string; jobId?: string; since?: Date },
): Promise<UsageSummary[]> {
  const rows = await db
    .select({
      model: usage.model,
      calls: sql<string>`count(*)`,
      promptTokens: sql<string>`coalesce(sum(${usage.promptTokens}), 0)`,
      completionTokens: sql<string>`coalesce(sum(${usage.completionTokens}), 0)`,
    })
    .from(usage)
    .where(
      and(
        eq(usage.agentId, parameters.agentId),
        parameters.jobId ? eq(usage.jobId, parameters.jobId) : undefined,
        parameters.since ? gte(usage.createdAt, parameters.since) : undefined,
      ),
    )
    .groupBy(usage.model)
    .orderBy(asc(usage.model))
  // Token counts, not money: sums stay far below 2^53.
  return rows.map((row) => ({
    model: row.model,
    calls: Number(row.calls),
    promptTokens: Number(row.promptTokens),
    completionTokens: Number(row.completionTokens),
  }))
}
