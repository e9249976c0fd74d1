import { describe, expect, test } from 'vitest'
import {
  getLandedNonces,
  listSignerIntentsFrom,
  markIntentsLandedAs,
  markIntentsReplaced,
  markIntentsUnsent,
  txVersionsOf,
} from './intent-recovery.ts'
import {
  getIntent,
  markIntentConfirmed,
  markIntentFailed,
  markIntentsSent,
  recordIntents,
} from './intents.ts'
import { address, describeStorage } from './test-store.ts'

const hash = (n: number) => `0x${n.toString(16).padStart(64, '0')}`
const raw = (n: number) => `0x02f8${n.toString(16).padStart(4, '0')}`

describeStorage((store) => {
  /** Intents `keys` of `signer`, recorded and sent as one transaction (the first holds `nonce`). */
  async function sentTogether(keys: string[], nonce: number, tx: number, signer = address(1)) {
    const recorded = await recordIntents(
      store.db,
      keys.map((idempotencyKey) => ({ idempotencyKey, kind: 'pay' as const, signer })),
    )
    const ids = recorded.map((r) => r.intent.id)
    await markIntentsSent(
      store.db,
      ids.map((id, n) => ({ id, txHash: hash(tx), nonce: n === 0 ? nonce : null, rawTx: raw(tx) })),
    )
    return ids
  }

  describe('markIntentsReplaced', () => {
    test('default: the replacement becomes current, every earlier version is kept, a batch moves together', async () => {
      const ids = await sentTogether(['a', 'b'], 4, 1)
      await markIntentsReplaced(store.db, {
        txHash: hash(1),
        replacement: { txHash: hash(2), rawTx: raw(2) },
      })
      await markIntentsReplaced(store.db, {
        txHash: hash(2),
        replacement: { txHash: hash(3), rawTx: raw(3) },
      })
      for (const id of ids) {
        const intent = (await getIntent(store.db, id))!
        expect(intent).toMatchObject({ status: 'sent', txHash: hash(3), rawTx: raw(3) })
        expect(txVersionsOf(intent).map((v) => v.txHash)).toEqual([hash(1), hash(2), hash(3)])
      }
      expect((await getIntent(store.db, ids[0]!))!.nonce).toBe(4)
    })
  })

  describe('markIntentsLandedAs', () => {
    test('behavior: an earlier version that landed becomes the current one', async () => {
      const [id] = await sentTogether(['landed'], 5, 10)
      await markIntentsReplaced(store.db, {
        txHash: hash(10),
        replacement: { txHash: hash(11), rawTx: raw(11) },
      })
      await markIntentsLandedAs(store.db, { txHash: hash(11), landed: { txHash: hash(10), rawTx: raw(10) } })
      expect(await getIntent(store.db, id!)).toMatchObject({ txHash: hash(10), rawTx: raw(10) })
    })
  })

  describe('markIntentsUnsent', () => {
    test('behavior: refused bytes are forgotten and their intents pending again, nonce free', async () => {
      const ids = await sentTogether(['refused-1', 'refused-2'], 6, 20)
      expect((await markIntentsUnsent(store.db, hash(20))).sort()).toEqual([...ids].sort())
      for (const id of ids)
        expect(await getIntent(store.db, id)).toMatchObject({
          status: 'pending',
          nonce: null,
          txHash: null,
          rawTx: null,
        })
      // The nonce is free for the next transaction.
      await sentTogether(['next'], 6, 21)
    })
  })

  describe('listSignerIntentsFrom and getLandedNonces', () => {
    test('default: what a rolled-back signer held from a nonce up, riders included; the highest landed nonce', async () => {
      const signer = address(7)
      const [first] = await sentTogether(['n0'], 0, 30, signer)
      const batch = await sentTogether(['n1-a', 'n1-b'], 1, 31, signer)
      const [failed] = await sentTogether(['n2'], 2, 32, signer)
      await markIntentConfirmed(store.db, first!, { result: { blockNumber: 10 } })
      for (const id of batch) await markIntentConfirmed(store.db, id, { result: { blockNumber: 11 } })
      await markIntentFailed(store.db, failed!, { error: 'reverted' })
      const from1 = await listSignerIntentsFrom(store.db, { signer, nonce: 1 })
      expect(from1.map((i) => i.idempotencyKey)).toEqual(['n1-a', 'n2', 'n1-b'])
      expect((await getLandedNonces(store.db)).get(signer)).toBe(1)
    })
  })
})
