import { eq, sql } from 'drizzle-orm'
import type { Db } from './create-db.ts'
import { ValidationError } from './errors.ts'
import { runtimeShards } from './schema.ts'

export type ShardHolder = { shard: number; url: string | null; pid: number; takenAt: Date }

/**
 * Records that this process now serves `shard` and where the others reach it. Call it only while
 * holding the shard's session lock: the lock decides who holds it, this row says where.
 *
 * @example
 * await recordShardHolder(db, { shard: 1, url: 'http://10.0.0.7:3001', pid: process.pid })
 */
export async function recordShardHolder(
  db: Db,
  parameters: { shard: number; url: string | null; pid: number },
): Promise<void> {
  const { shard, url, pid } = parameters
  if (!Number.isInteger(shard) || shard < 0)
    throw new ValidationError(`shard must be a whole number ≥ 0, got ${shard}.`)
  await db
    .insert(runtimeShards)
    .values({ shard, url, pid })
    .onConflictDoUpdate({ target: runtimeShards.shard, set: { url, pid, takenAt: sql`now()` } })
}

/** Who last took `shard` (it may have died since: its lock says whether it lives). */
export async function getShardHolder(db: Db, shard: number): Promise<ShardHolder | undefined> {
  const [row] = await db.select().from(runtimeShards).where(eq(runtimeShards.shard, shard))
  return row
}
