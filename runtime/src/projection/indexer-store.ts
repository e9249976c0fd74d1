import {
  type Db,
  deleteBlocksFrom,
  getBlockHash,
  getCursor,
  pruneBlocks,
  recordBlocks,
  setCursor,
  transaction,
} from '@agora/db'
import type { IndexerStore } from './indexer.ts'

/** The indexer's progress in the runtime's database: cursor and block hashes move together. */
export function createIndexerStore(db: Db): IndexerStore {
  return {
    getCursor: (name) => getCursor(db, name),
    advance: (name, cursor, blocks) =>
      transaction(db, async (tx) => {
        await recordBlocks(tx, blocks)
        await setCursor(tx, { name, ...cursor })
      }),
    getBlockHash: (number) => getBlockHash(db, number),
    rewind: (name, cursor) =>
      transaction(db, async (tx) => {
        await deleteBlocksFrom(tx, cursor.blockNumber + 1n)
        await setCursor(tx, { name, ...cursor })
      }),
    pruneBlocks: async (below) => {
      await pruneBlocks(db, { below })
    },
  }
}
