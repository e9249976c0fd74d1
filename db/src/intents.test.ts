import { describe, expect, test } from 'vitest'
import { insertAgent } from './agents.ts'
import {
  getHighestNonce,
  getIntent,
  getIntentByKey,
  listUnfinishedIntents,
  markIntentConfirmed,
  markIntentFailed,
  markIntentSent,
  markIntentsConfirmed,
  markIntentsSent,
  recordIntent,
  recordIntents,
} from './intents.ts'
import { type InsertPaymentParameters, insertPayment } from './payments.ts'
import { intents, payments } from './schema.ts'
import { address, agentParameters, describeStorage, expectStoreError, huge, usdc } from './test-store.ts'
import { transaction } from './transaction.ts'

describeStorage((store) => {
  describe('recordIntent', () => {
    test('default', async () => {
      const agent = await insertAgent(store.db, agentParameters())
      const { intent, created } = await recordIntent(store.db, {
        idempotencyKey: 'pay:1',
        kind: 'pay',
        agentId: agent.id,
        signer: agent.signerAddress.toUpperCase().replace('0X', '0x'),
        payload: { to: address(9), amount: huge },
      })
      expect(created).toBe(true)
      expect(intent).toMatchObject({
        kind: 'pay',
        status: 'pending',
        signer: agent.signerAddress,
        nonce: null,
        attempts: 0,
        payload: { to: address(9), amount: huge },
      })
      expect(typeof intent.id).toBe('number')
      expect(await getIntent(store.db, intent.id)).toEqual(intent)
      expect(await getIntentByKey(store.db, 'pay:1')).toEqual(intent)
    })

    test('behavior: a known key returns the first intent', async () => {
      const first = await recordIntent(store.db, {
        idempotencyKey: 'k',
        kind: 'pay',
        signer: address(1),
        payload: { n: 1 },
      })
      const again = await recordIntent(store.db, {
        idempotencyKey: 'k',
        kind: 'pay',
        signer: address(1),
        payload: { n: 2 },
      })
      expect(again).toEqual({ intent: first.intent, created: false })
    })

    test('behavior: 20 concurrent calls with one key leave one row', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          recordIntent(store.db, {
            idempotencyKey: 'same',
            kind: 'createJob',
            signer: address(1),
            payload: { i },
          }),
        ),
      )
      expect(results.filter((r) => r.created)).toHaveLength(1)
      expect(new Set(results.map((r) => r.intent.id)).size).toBe(1)
      expect(await store.db.select().from(intents)).toHaveLength(1)
    })

    test('behavior: with its payment in one transaction, 20 concurrent requests pay once', async () => {
      const agent = await insertAgent(store.db, agentParameters())
      const payment: InsertPaymentParameters = {
        idempotencyKey: 'req-9',
        fromAgentId: agent.id,
        fromAddress: address(0x5afe),
        toAddress: address(9),
        token: usdc,
        amount: '2500000',
      }
      await Promise.all(
        Array.from({ length: 20 }, () =>
          transaction(store.db, async (tx) => {
            const { created } = await recordIntent(tx, {
              idempotencyKey: 'req-9',
              kind: 'pay',
              agentId: agent.id,
              signer: agent.signerAddress,
            })
            if (created) await insertPayment(tx, payment)
          }),
        ),
      )
      expect(await store.db.select().from(intents)).toHaveLength(1)
      expect(await store.db.select().from(payments)).toHaveLength(1)
    })

    test('recordIntents: many in one call, in order, known keys returned as they were', async () => {
      const known = await recordIntent(store.db, { idempotencyKey: 'm1', kind: 'pay', signer: address(1) })
      const results = await recordIntents(store.db, [
        { idempotencyKey: 'm0', kind: 'pay', signer: address(1), payload: { n: 0 } },
        { idempotencyKey: 'm1', kind: 'pay', signer: address(1), payload: { n: 1 } },
        { idempotencyKey: 'm2', kind: 'pay', signer: address(2), payload: { n: 2 } },
        { idempotencyKey: 'm2', kind: 'pay', signer: address(2), payload: { n: 3 } },
      ])
      expect(results.map((r) => [r.intent.idempotencyKey, r.created])).toEqual([
        ['m0', true],
        ['m1', false],
        ['m2', true],
        ['m2', false],
      ])
      expect(results[1]!.intent).toEqual(known.intent)
      expect(results[3]!.intent).toEqual(results[2]!.intent)
      expect(results[2]!.intent.payload).toEqual({ n: 2 })
      expect(await store.db.select().from(intents)).toHaveLength(3)
      expect(await recordIntents(store.db, [])).toEqual([])
    })

    test('recordIntents: a key used by another kind fails the whole call', async () => {
      await recordIntent(store.db, { idempotencyKey: 'x', kind: 'pay', signer: address(1) })
      await expectStoreError(
        recordIntents(store.db, [
          { idempotencyKey: 'y', kind: 'pay', signer: address(1) },
          { idempotencyKey: 'x', kind: 'createJob', signer: address(1) },
        ]),
        'IDEMPOTENCY_CONFLICT',
      )
    })

    test('behavior: a bigint in the payload is refused with a hint', async () => {
      const error = await expectStoreError(
        recordIntent(store.db, {
          idempotencyKey: 'k',
          kind: 'pay',
          signer: address(1),
          payload: { amount: 5n },
        }),
        'INVALID_INPUT',
      )
      expect(error.shortMessage).toContain('decimal strings')
    })

    test('behavior: a key reused for another kind is refused', async () => {
      await recordIntent(store.db, { idempotencyKey: 'k', kind: 'pay', signer: address(1) })
      await expectStoreError(
        recordIntent(store.db, { idempotencyKey: 'k', kind: 'withdraw', signer: address(1) }),
        'IDEMPOTENCY_CONFLICT',
      )
    })
  })

  describe('markIntentSent', () => {
    test('default', async () => {
      const { intent } = await recordIntent(store.db, {
        idempotencyKey: 'k',
        kind: 'pay',
        signer: address(1),
      })
      const sent = await markIntentSent(store.db, intent.id, { txHash: '0xaa', nonce: 4, rawTx: '0x02f8' })
      expect(sent).toMatchObject({ status: 'sent', txHash: '0xaa', nonce: 4, rawTx: '0x02f8', attempts: 1 })
      expect(sent.sentAt).toBeInstanceOf(Date)
      // A fee bump replaces the transaction under the same nonce.
      const replaced = await markIntentSent(store.db, intent.id, {
        txHash: '0xbb',
        nonce: 4,
        rawTx: '0x02f9',
      })
      expect(replaced).toMatchObject({ status: 'sent', txHash: '0xbb', rawTx: '0x02f9', attempts: 2 })
    })

    test('behavior: refused once final, unknown id', async () => {
      const { intent } = await recordIntent(store.db, {
        idempotencyKey: 'k',
        kind: 'pay',
        signer: address(1),
      })
      await markIntentConfirmed(store.db, intent.id)
      await expectStoreError(
        markIntentSent(store.db, intent.id, { txHash: '0x1', nonce: 1, rawTx: '0x' }),
        'INVALID_TRANSITION',
      )
      await expectStoreError(
        markIntentSent(store.db, 999_999, { txHash: '0x1', nonce: 1, rawTx: '0x' }),
        'NOT_FOUND',
      )
    })

    test('behavior: two live intents of one signer cannot share a nonce', async () => {
      const a = await recordIntent(store.db, { idempotencyKey: 'a', kind: 'pay', signer: address(1) })
      const b = await recordIntent(store.db, { idempotencyKey: 'b', kind: 'pay', signer: address(1) })
      const c = await recordIntent(store.db, { idempotencyKey: 'c', kind: 'pay', signer: address(2) })
      await markIntentSent(store.db, a.intent.id, { txHash: '0xa', nonce: 0, rawTx: '0xa' })
      await expect(
        markIntentSent(store.db, b.intent.id, { txHash: '0xb', nonce: 0, rawTx: '0xb' }),
      ).rejects.toThrow()
      await markIntentSent(store.db, c.intent.id, { txHash: '0xc', nonce: 0, rawTx: '0xc' })
      await markIntentFailed(store.db, a.intent.id, { error: 'dropped' })
      await markIntentSent(store.db, b.intent.id, { txHash: '0xb', nonce: 0, rawTx: '0xb' })
    })
  })

  describe('markIntentConfirmed', () => {
    test('default', async () => {
      const { intent } = await recordIntent(store.db, {
        idempotencyKey: 'k',
        kind: 'launch',
        signer: address(1),
      })
      await markIntentSent(store.db, intent.id, { txHash: '0xaa', nonce: 0, rawTx: '0x01' })
      const confirmed = await markIntentConfirmed(store.db, intent.id, {
        result: { agentId: huge, block: '12' },
      })
      expect(confirmed).toMatchObject({
        status: 'confirmed',
        txHash: '0xaa',
        result: { agentId: huge, block: '12' },
      })
      expect(await markIntentConfirmed(store.db, intent.id)).toEqual(confirmed)
    })

    test('behavior: a replacement hash is recorded; a failed intent stays failed', async () => {
      const { intent } = await recordIntent(store.db, {
        idempotencyKey: 'k',
        kind: 'pay',
        signer: address(1),
      })
      await markIntentSent(store.db, intent.id, { txHash: '0xaa', nonce: 0, rawTx: '0x01' })
      expect((await markIntentConfirmed(store.db, intent.id, { txHash: '0xbb' })).txHash).toBe('0xbb')
      const other = await recordIntent(store.db, { idempotencyKey: 'o', kind: 'pay', signer: address(1) })
      await markIntentFailed(store.db, other.intent.id, { error: 'reverted' })
      await expectStoreError(markIntentConfirmed(store.db, other.intent.id), 'INVALID_TRANSITION')
    })
  })

  describe('markIntentsSent', () => {
    test('default: many intents in one write; final ones are left alone', async () => {
      const a = await recordIntent(store.db, { idempotencyKey: 'a', kind: 'pay', signer: address(1) })
      const b = await recordIntent(store.db, { idempotencyKey: 'b', kind: 'pay', signer: address(2) })
      const c = await recordIntent(store.db, { idempotencyKey: 'c', kind: 'pay', signer: address(3) })
      await markIntentFailed(store.db, c.intent.id, { error: 'refused' })
      const marked = await markIntentsSent(store.db, [
        { id: a.intent.id, txHash: '0xa', nonce: 7, rawTx: '0x0a' },
        { id: b.intent.id, txHash: '0xb', nonce: 0, rawTx: '0x0b' },
        { id: c.intent.id, txHash: '0xc', nonce: 0, rawTx: '0x0c' },
      ])
      expect([...marked].sort()).toEqual([a.intent.id, b.intent.id].sort())
      expect(await getIntent(store.db, a.intent.id)).toMatchObject({
        status: 'sent',
        txHash: '0xa',
        nonce: 7,
        rawTx: '0x0a',
        attempts: 1,
      })
      expect(await getIntent(store.db, c.intent.id)).toMatchObject({ status: 'failed', txHash: null })
      expect(await markIntentsSent(store.db, [])).toEqual(new Set())
    })

    test('behavior: a nonce clash refuses the whole write', async () => {
      const a = await recordIntent(store.db, { idempotencyKey: 'a', kind: 'pay', signer: address(1) })
      const b = await recordIntent(store.db, { idempotencyKey: 'b', kind: 'pay', signer: address(1) })
      await expect(
        markIntentsSent(store.db, [
          { id: a.intent.id, txHash: '0xa', nonce: 1, rawTx: '0x0a' },
          { id: b.intent.id, txHash: '0xb', nonce: 1, rawTx: '0x0b' },
        ]),
      ).rejects.toThrow()
      expect((await getIntent(store.db, a.intent.id))?.status).toBe('pending')
    })
  })

  describe('markIntentsConfirmed', () => {
    test('default: results recorded in one write; failed ones stay failed', async () => {
      const a = await recordIntent(store.db, { idempotencyKey: 'a', kind: 'pay', signer: address(1) })
      const b = await recordIntent(store.db, { idempotencyKey: 'b', kind: 'pay', signer: address(1) })
      await markIntentsSent(store.db, [{ id: a.intent.id, txHash: '0xa', nonce: 0, rawTx: '0x0a' }])
      await markIntentFailed(store.db, b.intent.id, { error: 'reverted' })
      await markIntentsConfirmed(store.db, [
        { id: a.intent.id, result: { block: 3, amount: huge } },
        { id: b.intent.id, result: {} },
      ])
      expect(await getIntent(store.db, a.intent.id)).toMatchObject({
        status: 'confirmed',
        result: { block: 3, amount: huge },
      })
      expect((await getIntent(store.db, b.intent.id))?.status).toBe('failed')
    })
  })

  describe('markIntentFailed', () => {
    test('default', async () => {
      const { intent } = await recordIntent(store.db, {
        idempotencyKey: 'k',
        kind: 'pay',
        signer: address(1),
      })
      const failed = await markIntentFailed(store.db, intent.id, { error: 'EconomyJobNotFunded(1)' })
      expect(failed).toMatchObject({ status: 'failed', lastError: 'EconomyJobNotFunded(1)' })
      expect(await markIntentFailed(store.db, intent.id, { error: 'again' })).toEqual(failed)
      await expectStoreError(markIntentFailed(store.db, 424242, { error: 'x' }), 'NOT_FOUND')
    })

    test('behavior: a confirmed intent cannot fail', async () => {
      const { intent } = await recordIntent(store.db, {
        idempotencyKey: 'k',
        kind: 'pay',
        signer: address(1),
      })
      await markIntentConfirmed(store.db, intent.id)
      await expectStoreError(markIntentFailed(store.db, intent.id, { error: 'late' }), 'INVALID_TRANSITION')
    })
  })

  describe('listUnfinishedIntents', () => {
    test('default', async () => {
      const keys = ['a', 'b', 'c', 'd', 'e']
      const recorded = []
      for (const key of keys)
        recorded.push(
          (
            await recordIntent(store.db, {
              idempotencyKey: key,
              kind: 'pay',
              signer: address(key === 'e' ? 2 : 1),
            })
          ).intent,
        )
      await markIntentSent(store.db, recorded[1]!.id, { txHash: '0xb', nonce: 0, rawTx: '0xb' })
      await markIntentConfirmed(store.db, recorded[2]!.id)
      await markIntentFailed(store.db, recorded[3]!.id, { error: 'x' })
      const unfinished = await listUnfinishedIntents(store.db)
      expect(unfinished.map((i) => [i.idempotencyKey, i.status])).toEqual([
        ['a', 'pending'],
        ['b', 'sent'],
        ['e', 'pending'],
      ])
      expect(
        (await listUnfinishedIntents(store.db, { signer: address(2) })).map((i) => i.idempotencyKey),
      ).toEqual(['e'])
    })
  })

  describe('getHighestNonce', () => {
    test('default', async () => {
      expect(await getHighestNonce(store.db, address(1))).toBeNull()
      const a = await recordIntent(store.db, { idempotencyKey: 'a', kind: 'pay', signer: address(1) })
      const b = await recordIntent(store.db, { idempotencyKey: 'b', kind: 'pay', signer: address(1) })
      await markIntentSent(store.db, a.intent.id, { txHash: '0xa', nonce: 5, rawTx: '0xa' })
      await markIntentSent(store.db, b.intent.id, { txHash: '0xb', nonce: 6, rawTx: '0xb' })
      expect(await getHighestNonce(store.db, address(1))).toBe(6)
      await markIntentFailed(store.db, b.intent.id, { error: 'dropped' })
      expect(await getHighestNonce(store.db, address(1))).toBe(5)
    })
  })
})
