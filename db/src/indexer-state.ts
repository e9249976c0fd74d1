import { eq, gte, lt, sql } from 'drizzle-orm'
import type { Db } from './create-db.ts'
import { type IndexerCursor, indexedBlocks, indexerCursors } from './schema.ts'

/**
 * Where the named indexer stopped, or undefined before its first block.
 *
 * @example
 * await getCursor(db, 'economy')
 */
export async function getCursor(db: Db, name: string): Promise<IndexerCursor | undefined> {
  const [cursor] = await db.select().from(indexerCursors).where(eq(indexerCursors.name, name))
  return cursor
}

export type SetCursorParameters = { name: string; blockNumber: bigint; blockHash: string }

/**
 * Moves the named cursor (forward, or back after a reorg). Write it in the same transaction as
 * the rows derived from the block so both land together.
 *
 * @example
 * await setCursor(tx, { name: 'economy', blockNumber: block.number, blockHash: block.hash })
 */
export async function setCursor(db: Db, parameters: SetCursorParameters): Promise<IndexerCursor> {
  const [cursor] = await db
    .insert(indexerCursors)
    .values(parameters)
    .onConflictDoUpdate({
      target: indexerCursors.name,
      set: { blockNumber: parameters.blockNumber, blockHash: parameters.blockHash, updatedAt: sql`now()` },
    })
    .returning()
  return cursor!
}

/**
 * Remembers blocks' hashes in one statement, replacing those seen before at the same heights.
 *
 * @example
 * await recordBlocks(tx, [{ number: block.number, hash: block.hash }])
 */
export async function recordBlocks(db: Db, blocks: { number: bigint; hash: string }[]): Promise<void> {
  if (blocks.length === 0) return
  // One row per height: the last hash given for a height wins.
  const byNumber = new Map(blocks.map((b) => [b.number, b]))
  await db
    .insert(indexedBlocks)
    .values([...byNumber.values()])
    .onConflictDoUpdate({ target: indexedBlocks.number, set: { hash: sql`excluded.hash` } })
}

/**
 * The hash recorded for a height; compare it with the chain's to detect a reorg.
 *
 * @example
 * const reorged = (await getBlockHash(db, block.number - 1n)) !== block.parentHash
 */
export async function getBlockHash(db: Db, number: bigint): Promise<string | undefined> {
  const [block] = await db.select().from(indexedBlocks).where(eq(indexedBlocks.number, number))
  return block?.hash
}

/**
 * Forgets blocks below `below`, the depth past which reorgs are not expected. Returns the count.
 *
 * @example
 * await pruneBlocks(db, { below: head - 128n })
 */
export async function pruneBlocks(db: Db, parameters: { below: bigint }): Promise<number> {
  const deleted = await db
    .delete(indexedBlocks)
    .where(lt(indexedBlocks.number, parameters.below))
    .returning({ number: indexedBlocks.number })
  return deleted.length
}

/**
 * Forgets `from` and every later block: the part of the chain a reorg replaced. Returns the count.
 *
 * @example
 * await deleteBlocksFrom(tx, forkPoint + 1n)
 */
export async function deleteBlocksFrom(db: Db, from: bigint): Promise<number> {
  const deleted = await db
    .delete(indexedBlocks)
    .where(gte(indexedBlocks.number, from))
    .returning({ number: indexedBlocks.number })
  return deleted.length
}
