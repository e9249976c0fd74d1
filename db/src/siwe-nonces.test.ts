import { describe, expect, test } from 'vitest'
import { siweNonces } from './schema.ts'
import { consumeSiweNonce, issueSiweNonce, pruneSiweNonces } from './siwe-nonces.ts'
import { describeStorage, expectStoreError, storeErrorCode } from './test-store.ts'

describeStorage((store) => {
  describe('issueSiweNonce', () => {
    test('default', async () => {
      const now = new Date('2030-01-01T00:00:00Z')
      const { nonce, expiresAt } = await issueSiweNonce(store.db, { now, ttlMs: 60_000 })
      expect(nonce).toMatch(/^[0-9a-f]{32}$/)
      expect(expiresAt.toISOString()).toBe('2030-01-01T00:01:00.000Z')
      expect((await issueSiweNonce(store.db)).nonce).not.toBe(nonce)
    })
  })

  describe('consumeSiweNonce', () => {
    test('default', async () => {
      const { nonce } = await issueSiweNonce(store.db)
      await consumeSiweNonce(store.db, nonce)
      await expectStoreError(consumeSiweNonce(store.db, nonce), 'NONCE_USED')
    })

    test('behavior: expired and unknown nonces are refused', async () => {
      const { nonce } = await issueSiweNonce(store.db, { ttlMs: 1000 })
      await expectStoreError(
        consumeSiweNonce(store.db, nonce, { now: new Date(Date.now() + 2000) }),
        'NONCE_EXPIRED',
      )
      await expectStoreError(consumeSiweNonce(store.db, 'nope'), 'NONCE_NOT_FOUND')
    })

    test('behavior: of 20 concurrent uses exactly one succeeds', async () => {
      const { nonce } = await issueSiweNonce(store.db)
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, () => consumeSiweNonce(store.db, nonce)),
      )
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1)
      for (const outcome of outcomes)
        if (outcome.status === 'rejected') expect(storeErrorCode(outcome.reason)).toBe('NONCE_USED')
    })
  })

  describe('pruneSiweNonces', () => {
    test('default', async () => {
      const used = await issueSiweNonce(store.db)
      await consumeSiweNonce(store.db, used.nonce)
      await issueSiweNonce(store.db, { ttlMs: -1, prune: 0 })
      const live = await issueSiweNonce(store.db, { prune: 0 })
      expect(await pruneSiweNonces(store.db)).toBe(2)
      await consumeSiweNonce(store.db, live.nonce)
    })

    test('behavior: `limit` bounds the rows one call deletes', async () => {
      for (let i = 0; i < 5; i++) await issueSiweNonce(store.db, { ttlMs: -1, prune: 0 })
      expect(await pruneSiweNonces(store.db, { limit: 3 })).toBe(3)
      expect(await pruneSiweNonces(store.db, { limit: 3 })).toBe(2)
      expect(await pruneSiweNonces(store.db, { limit: 3 })).toBe(0)
    })
  })

  describe('issueSiweNonce pruning', () => {
    test('behavior: issuing prunes dead nonces as it goes, so the table cannot grow without bound', async () => {
      // Nonces asked for and never used: before, every one of them stayed in the table for good.
      for (let i = 0; i < 30; i++) await issueSiweNonce(store.db, { ttlMs: -1 })
      const used = await issueSiweNonce(store.db)
      await consumeSiweNonce(store.db, used.nonce)
      const live = await issueSiweNonce(store.db)
      const rows = await store.db.select().from(siweNonces)
      expect(rows.map((r) => r.nonce)).toEqual([live.nonce])
      await consumeSiweNonce(store.db, live.nonce)
    })
  })
})
