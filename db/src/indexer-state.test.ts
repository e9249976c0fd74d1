import { describe, expect, test } from 'vitest'
import {
  deleteBlocksFrom,
  getBlockHash,
  getCursor,
  pruneBlocks,
  recordBlocks,
  setCursor,
} from './indexer-state.ts'
import { describeStorage } from './test-store.ts'

describeStorage((store) => {
  describe('getCursor', () => {
    test('default', async () => {
      expect(await getCursor(store.db, 'economy')).toBeUndefined()
      await setCursor(store.db, { name: 'economy', blockNumber: 10n, blockHash: '0x10' })
      expect(await getCursor(store.db, 'economy')).toMatchObject({
        name: 'economy',
        blockNumber: 10n,
        blockHash: '0x10',
      })
    })
  })

  describe('setCursor', () => {
    test('default', async () => {
      await setCursor(store.db, { name: 'economy', blockNumber: 10n, blockHash: '0x10' })
      const big = 2n ** 60n
      const moved = await setCursor(store.db, { name: 'economy', blockNumber: big, blockHash: '0xbig' })
      expect(moved).toMatchObject({ blockNumber: big, blockHash: '0xbig' })
      expect((await getCursor(store.db, 'economy'))?.blockNumber).toBe(big)
      await setCursor(store.db, { name: 'identity', blockNumber: 1n, blockHash: '0x1' })
      expect((await getCursor(store.db, 'economy'))?.blockNumber).toBe(big)
    })
  })

  describe('recordBlocks', () => {
    test('default', async () => {
      await recordBlocks(store.db, [{ number: 5n, hash: '0x5a' }])
      expect(await getBlockHash(store.db, 5n)).toBe('0x5a')
      await recordBlocks(store.db, [
        { number: 5n, hash: '0x5b' },
        { number: 6n, hash: '0x6a' },
      ])
      expect(await getBlockHash(store.db, 5n)).toBe('0x5b')
      expect(await getBlockHash(store.db, 6n)).toBe('0x6a')
      expect(await getBlockHash(store.db, 7n)).toBeUndefined()
      await recordBlocks(store.db, [])
    })

    test('behavior: a height given twice keeps the last hash', async () => {
      await recordBlocks(store.db, [
        { number: 9n, hash: '0x9a' },
        { number: 9n, hash: '0x9b' },
      ])
      expect(await getBlockHash(store.db, 9n)).toBe('0x9b')
    })
  })

  describe('pruneBlocks', () => {
    test('default', async () => {
      await recordBlocks(
        store.db,
        Array.from({ length: 10 }, (_, i) => ({ number: BigInt(i + 1), hash: `0x${i + 1}` })),
      )
      expect(await pruneBlocks(store.db, { below: 4n })).toBe(3)
      expect(await getBlockHash(store.db, 3n)).toBeUndefined()
      expect(await getBlockHash(store.db, 4n)).toBe('0x4')
    })
  })

  describe('deleteBlocksFrom', () => {
    test('default', async () => {
      await recordBlocks(
        store.db,
        Array.from({ length: 10 }, (_, i) => ({ number: BigInt(i + 1), hash: `0x${i + 1}` })),
      )
      expect(await deleteBlocksFrom(store.db, 8n)).toBe(3)
      expect(await getBlockHash(store.db, 7n)).toBe('0x7')
      expect(await getBlockHash(store.db, 8n)).toBeUndefined()
    })
  })
})
