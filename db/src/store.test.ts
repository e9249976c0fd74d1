import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { appendActivity, listActivity } from './activity.ts'
import {
  ensureOwner,
  getAgent,
  getAgentByChainId,
  type InsertAgentParameters,
  insertAgent,
  listAgents,
  listAgentsByOwner,
  updateAgent,
} from './agents.ts'
import type { Db } from './create-db.ts'
import { DbError } from './errors.ts'
import {
  deleteBlocksFrom,
  getBlockHash,
  getCursor,
  pruneBlocks,
  recordBlocks,
  setCursor,
} from './indexer-state.ts'
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
import { advanceJob, getJob, type JobInput, listJobs, updateJob, upsertJob } from './jobs.ts'
import { listOfferings, searchOfferings, upsertOfferings } from './offerings.ts'
import {
  getPayment,
  type InsertPaymentParameters,
  insertPayment,
  insertPayments,
  listPayments,
  markPaymentsConfirmed,
  updatePayment,
} from './payments.ts'
import { intents, owners, payments } from './schema.ts'
import { createSession, getSession, revokeSession } from './sessions.ts'
import { consumeSiweNonce, issueSiweNonce, pruneSiweNonces } from './siwe-nonces.ts'
import { type TestAdapter, type TestDatabase, testAdapters, truncateAll } from './test-databases.ts'
import { transaction } from './transaction.ts'
import { recordUsage, summarizeUsage } from './usage.ts'

const address = (n: number) => `0x${n.toString(16).padStart(40, '0')}`
const owner = '0x00000000000000000000000000000000000000AA'
const usdc = '0x000000000000000000000000000000000000C0C0'
const huge = '115792089237316195423570985008687907853269984665640564039457584007913129639935' // 2^256 - 1

let nextSigner = 1
function agentParameters(overrides: Partial<InsertAgentParameters> = {}): InsertAgentParameters {
  return {
    owner,
    name: 'summarizer',
    signerAddress: address(0x1000 + nextSigner++),
    encryptedKey: 'ciphertext',
    ...overrides,
  }
}

function jobParameters(overrides: Partial<JobInput> = {}): JobInput {
  return {
    jobId: '1',
    clientAddress: address(0x20),
    providerChainAgentId: '7',
    offering: 'summarize',
    input: { text: 'hello' },
    specHash: `0x${'ab'.repeat(32)}`,
    token: usdc,
    budget: '1000000',
    deadline: new Date('2030-01-01T00:00:00Z'),
    ...overrides,
  }
}

async function expectDbError(promise: Promise<unknown>, code: DbError['code']): Promise<DbError> {
  const error = await promise.then(
    () => undefined,
    (error: unknown) => error,
  )
  expect(error).toBeInstanceOf(DbError)
  expect((error as DbError).code).toBe(code)
  return error as DbError
}

function storageSuite(adapter: TestAdapter) {
  let database: TestDatabase
  let db: Db
  let close: () => Promise<void>

  beforeAll(async () => {
    database = await adapter.provision()
    const opened = await database.open()
    db = opened.db
    close = opened.close
  })
  afterAll(async () => {
    await close?.()
    await database?.dispose()
  })
  beforeEach(async () => {
    await truncateAll(db)
  })

  describe('createDb', () => {
    test('behavior: migrations are idempotent across restarts', async () => {
      const persistent = await adapter.provision({ persistent: true })
      try {
        const first = await persistent.open()
        const agent = await insertAgent(first.db, agentParameters({ definition: { model: 'm' } }))
        await first.close()

        const second = await persistent.open()
        expect(await getAgent(second.db, agent.id)).toEqual(agent)
        const applied = await second.db
          .select({ n: sql<number>`count(*)::int` })
          .from(sql`drizzle.__drizzle_migrations`)
        expect(applied).toEqual([{ n: 1 }])
        await second.close()
      } finally {
        await persistent.dispose()
      }
    })

    test('behavior: jsonb is stored as JSON, not as a JSON string', async () => {
      await recordIntent(db, { idempotencyKey: 'k', kind: 'pay', signer: address(1), payload: { a: 1 } })
      const [row] = await db.select({ type: sql<string>`jsonb_typeof(${intents.payload})` }).from(intents)
      expect(row?.type).toBe('object')
    })
  })

  describe('ensureOwner', () => {
    test('default', async () => {
      const first = await ensureOwner(db, owner)
      const again = await ensureOwner(db, owner.toLowerCase())
      expect(first.address).toBe(owner.toLowerCase())
      expect(again).toEqual(first)
      expect(await db.select().from(owners)).toHaveLength(1)
    })

    test('behavior: refuses a malformed address', async () => {
      await expectDbError(ensureOwner(db, '0x123'), 'INVALID_INPUT')
    })
  })

  describe('insertAgent', () => {
    test('default', async () => {
      const agent = await insertAgent(
        db,
        agentParameters({ signerAddress: '0x00000000000000000000000000000000000000Bb' }),
      )
      expect(agent).toMatchObject({
        owner: owner.toLowerCase(),
        name: 'summarizer',
        status: 'launching',
        signerAddress: '0x00000000000000000000000000000000000000bb',
        chainAgentId: null,
        definition: {},
      })
      expect(agent.id).toMatch(/^agt_[0-9a-f]{24}$/)
      expect(agent.createdAt).toBeInstanceOf(Date)
      expect(await ensureOwner(db, owner)).toMatchObject({ address: owner.toLowerCase() })
    })

    test('behavior: keeps a given id and definition', async () => {
      const definition = {
        model: { name: 'gpt' },
        policy: { maxPerJob: '5000000' },
        offerings: [{ name: 'x' }],
      }
      const agent = await insertAgent(db, agentParameters({ id: 'agt_fixed', definition }))
      expect(agent.id).toBe('agt_fixed')
      expect((await getAgent(db, 'agt_fixed'))?.definition).toEqual(definition)
    })

    test('behavior: refuses a signer already used by another agent', async () => {
      const signerAddress = address(0x77)
      await insertAgent(db, agentParameters({ signerAddress }))
      await expect(insertAgent(db, agentParameters({ signerAddress }))).rejects.toThrow()
      expect(await listAgents(db)).toHaveLength(1)
    })
  })

  describe('getAgent', () => {
    test('behavior: unknown id', async () => {
      expect(await getAgent(db, 'agt_missing')).toBeUndefined()
    })
  })

  describe('getAgentByChainId', () => {
    test('default', async () => {
      const agent = await insertAgent(db, agentParameters({ chainAgentId: huge }))
      expect((await getAgentByChainId(db, huge))?.id).toBe(agent.id)
      expect(await getAgentByChainId(db, '8')).toBeUndefined()
    })
  })

  describe('listAgents', () => {
    test('default', async () => {
      const a = await insertAgent(db, agentParameters({ name: 'a' }))
      const b = await insertAgent(db, agentParameters({ name: 'b', owner: address(0xbb), status: 'active' }))
      expect((await listAgents(db)).map((agent) => agent.id)).toEqual([a.id, b.id])
      expect((await listAgents(db, { status: 'active' })).map((agent) => agent.id)).toEqual([b.id])
      expect((await listAgents(db, { owner: address(0xbb), status: 'launching' })).length).toBe(0)
    })
  })

  describe('listAgentsByOwner', () => {
    test('default', async () => {
      const mine = await insertAgent(db, agentParameters())
      await insertAgent(db, agentParameters({ owner: address(0xbb) }))
      expect((await listAgentsByOwner(db, owner.toUpperCase().replace('0X', '0x'))).map((a) => a.id)).toEqual(
        [mine.id],
      )
    })
  })

  describe('updateAgent', () => {
    test('default', async () => {
      const agent = await insertAgent(db, agentParameters())
      const updated = await updateAgent(db, agent.id, {
        status: 'active',
        chainAgentId: '42',
        safeAddress: '0x000000000000000000000000000000000000Cafe',
        accountAddress: address(0xacc),
        launchTx: `0x${'11'.repeat(32)}`,
      })
      expect(updated).toMatchObject({
        status: 'active',
        chainAgentId: '42',
        safeAddress: '0x000000000000000000000000000000000000cafe',
        name: 'summarizer',
        encryptedKey: 'ciphertext',
      })
      expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(agent.updatedAt.getTime())
      expect(await getAgent(db, agent.id)).toEqual(updated)
    })

    test('behavior: unknown id', async () => {
      await expectDbError(updateAgent(db, 'agt_missing', { status: 'paused' }), 'NOT_FOUND')
    })
  })

  describe('upsertOfferings', () => {
    test('default', async () => {
      const agent = await insertAgent(db, agentParameters())
      const rows = await upsertOfferings(db, {
        agentId: agent.id,
        offerings: [
          {
            name: 'summarize',
            price: huge,
            token: usdc,
            capabilities: ['text'],
            inputSchema: { type: 'object' },
          },
          { name: 'translate', price: '5' },
        ],
      })
      expect(rows).toHaveLength(2)
      const [summarize, translate] = await listOfferings(db, agent.id)
      expect(summarize).toMatchObject({
        name: 'summarize',
        price: huge,
        token: usdc.toLowerCase(),
        active: true,
      })
      expect(summarize?.inputSchema).toEqual({ type: 'object' })
      expect(translate).toMatchObject({ price: '5', token: '0x0000000000000000000000000000000000000000' })
    })

    test('behavior: overwrites by name and can deactivate the rest', async () => {
      const agent = await insertAgent(db, agentParameters())
      await upsertOfferings(db, {
        agentId: agent.id,
        offerings: [
          { name: 'a', price: '1' },
          { name: 'b', price: '2' },
        ],
      })
      const [first] = await listOfferings(db, agent.id)
      await upsertOfferings(db, {
        agentId: agent.id,
        offerings: [{ name: 'a', price: '10', description: 'new' }],
        deactivateMissing: true,
      })
      const [a, b] = await listOfferings(db, agent.id)
      expect(a).toMatchObject({ id: first?.id, price: '10', description: 'new', active: true })
      expect(b).toMatchObject({ name: 'b', active: false })
      expect(await listOfferings(db, agent.id, { activeOnly: true })).toHaveLength(1)
      await upsertOfferings(db, { agentId: agent.id, offerings: [], deactivateMissing: true })
      expect(await listOfferings(db, agent.id, { activeOnly: true })).toHaveLength(0)
    })

    test('behavior: refuses a price that is not an integer string', async () => {
      const agent = await insertAgent(db, agentParameters())
      await expectDbError(
        upsertOfferings(db, { agentId: agent.id, offerings: [{ name: 'a', price: '1.5' }] }),
        'INVALID_INPUT',
      )
      await expectDbError(
        upsertOfferings(db, { agentId: agent.id, offerings: [{ name: 'a', price: '-1' }] }),
        'INVALID_INPUT',
      )
      const tooBig = (2n ** 256n).toString()
      await expectDbError(
        upsertOfferings(db, { agentId: agent.id, offerings: [{ name: 'a', price: tooBig }] }),
        'INVALID_INPUT',
      )
    })
  })

  describe('searchOfferings', () => {
    test('default', async () => {
      const active = await insertAgent(
        db,
        agentParameters({ name: 'Scribe', status: 'active', chainAgentId: '3' }),
      )
      const launching = await insertAgent(db, agentParameters({ name: 'Newcomer' }))
      await upsertOfferings(db, {
        agentId: active.id,
        offerings: [
          {
            name: 'summarize',
            description: 'Short summaries',
            price: '10',
            token: usdc,
            capabilities: ['text', 'summary'],
          },
          { name: 'translate', description: '100% faithful', price: '9', capabilities: ['text'] },
          { name: 'retired', price: '1', active: false },
        ],
      })
      await upsertOfferings(db, { agentId: launching.id, offerings: [{ name: 'summarize', price: '1' }] })

      const all = await searchOfferings(db)
      // Cheapest first, compared as numbers ('9' < '10'), only hireable offerings.
      expect(all.map((m) => m.offering.name)).toEqual(['translate', 'summarize'])
      expect(all[0]?.agent).toEqual({
        id: active.id,
        chainAgentId: '3',
        name: 'Scribe',
        owner: owner.toLowerCase(),
      })

      expect((await searchOfferings(db, { text: 'SUMMAR' })).map((m) => m.offering.name)).toEqual([
        'summarize',
      ])
      expect((await searchOfferings(db, { text: 'scribe' })).length).toBe(2)
      expect((await searchOfferings(db, { text: '100%' })).map((m) => m.offering.name)).toEqual(['translate'])
      expect((await searchOfferings(db, { text: '%' })).map((m) => m.offering.name)).toEqual(['translate'])
      expect((await searchOfferings(db, { capability: 'summary' })).map((m) => m.offering.name)).toEqual([
        'summarize',
      ])
      expect((await searchOfferings(db, { maxPrice: '9' })).map((m) => m.offering.name)).toEqual([
        'translate',
      ])
      expect((await searchOfferings(db, { token: usdc })).map((m) => m.offering.name)).toEqual(['summarize'])
      expect(await searchOfferings(db, { capability: 'text', maxPrice: '8' })).toEqual([])
      expect(await searchOfferings(db, { limit: 1 })).toHaveLength(1)
    })
  })

  describe('recordIntent', () => {
    test('default', async () => {
      const agent = await insertAgent(db, agentParameters())
      const { intent, created } = await recordIntent(db, {
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
      expect(await getIntent(db, intent.id)).toEqual(intent)
      expect(await getIntentByKey(db, 'pay:1')).toEqual(intent)
    })

    test('behavior: a known key returns the first intent', async () => {
      const first = await recordIntent(db, {
        idempotencyKey: 'k',
        kind: 'pay',
        signer: address(1),
        payload: { n: 1 },
      })
      const again = await recordIntent(db, {
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
          recordIntent(db, { idempotencyKey: 'same', kind: 'createJob', signer: address(1), payload: { i } }),
        ),
      )
      expect(results.filter((r) => r.created)).toHaveLength(1)
      expect(new Set(results.map((r) => r.intent.id)).size).toBe(1)
      expect(await db.select().from(intents)).toHaveLength(1)
    })

    test('behavior: with its payment in one transaction, 20 concurrent requests pay once', async () => {
      const agent = await insertAgent(db, agentParameters())
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
          transaction(db, async (tx) => {
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
      expect(await db.select().from(intents)).toHaveLength(1)
      expect(await db.select().from(payments)).toHaveLength(1)
    })

    test('recordIntents: many in one call, in order, known keys returned as they were', async () => {
      const known = await recordIntent(db, { idempotencyKey: 'm1', kind: 'pay', signer: address(1) })
      const results = await recordIntents(db, [
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
      expect(await db.select().from(intents)).toHaveLength(3)
      expect(await recordIntents(db, [])).toEqual([])
    })

    test('recordIntents: a key used by another kind fails the whole call', async () => {
      await recordIntent(db, { idempotencyKey: 'x', kind: 'pay', signer: address(1) })
      await expectDbError(
        recordIntents(db, [
          { idempotencyKey: 'y', kind: 'pay', signer: address(1) },
          { idempotencyKey: 'x', kind: 'createJob', signer: address(1) },
        ]),
        'IDEMPOTENCY_CONFLICT',
      )
    })

    test('behavior: a bigint in the payload is refused with a hint', async () => {
      const error = await expectDbError(
        recordIntent(db, { idempotencyKey: 'k', kind: 'pay', signer: address(1), payload: { amount: 5n } }),
        'INVALID_INPUT',
      )
      expect(error.shortMessage).toContain('decimal strings')
    })

    test('behavior: a key reused for another kind is refused', async () => {
      await recordIntent(db, { idempotencyKey: 'k', kind: 'pay', signer: address(1) })
      await expectDbError(
        recordIntent(db, { idempotencyKey: 'k', kind: 'withdraw', signer: address(1) }),
        'IDEMPOTENCY_CONFLICT',
      )
    })
  })

  describe('transaction', () => {
    test('behavior: a failure rolls back the intent and the domain row together', async () => {
      const agent = await insertAgent(db, agentParameters())
      await expect(
        transaction(db, async (tx) => {
          await recordIntent(tx, { idempotencyKey: 'k', kind: 'pay', signer: agent.signerAddress })
          await insertPayment(tx, {
            idempotencyKey: 'k',
            fromAgentId: agent.id,
            fromAddress: address(1),
            toAddress: address(2),
            token: usdc,
            amount: '1',
          })
          throw new Error('crash before commit')
        }),
      ).rejects.toThrow('crash before commit')
      expect(await getIntentByKey(db, 'k')).toBeUndefined()
      expect(await db.select().from(payments)).toHaveLength(0)
    })

    test('behavior: returns what fn returns', async () => {
      expect(await transaction(db, async (tx) => (await ensureOwner(tx, owner)).address)).toBe(
        owner.toLowerCase(),
      )
    })
  })

  describe('markIntentSent', () => {
    test('default', async () => {
      const { intent } = await recordIntent(db, { idempotencyKey: 'k', kind: 'pay', signer: address(1) })
      const sent = await markIntentSent(db, intent.id, { txHash: '0xaa', nonce: 4, rawTx: '0x02f8' })
      expect(sent).toMatchObject({ status: 'sent', txHash: '0xaa', nonce: 4, rawTx: '0x02f8', attempts: 1 })
      expect(sent.sentAt).toBeInstanceOf(Date)
      // A fee bump replaces the transaction under the same nonce.
      const replaced = await markIntentSent(db, intent.id, { txHash: '0xbb', nonce: 4, rawTx: '0x02f9' })
      expect(replaced).toMatchObject({ status: 'sent', txHash: '0xbb', rawTx: '0x02f9', attempts: 2 })
    })

    test('behavior: refused once final, unknown id', async () => {
      const { intent } = await recordIntent(db, { idempotencyKey: 'k', kind: 'pay', signer: address(1) })
      await markIntentConfirmed(db, intent.id)
      await expectDbError(
        markIntentSent(db, intent.id, { txHash: '0x1', nonce: 1, rawTx: '0x' }),
        'INVALID_TRANSITION',
      )
      await expectDbError(markIntentSent(db, 999_999, { txHash: '0x1', nonce: 1, rawTx: '0x' }), 'NOT_FOUND')
    })

    test('behavior: two live intents of one signer cannot share a nonce', async () => {
      const a = await recordIntent(db, { idempotencyKey: 'a', kind: 'pay', signer: address(1) })
      const b = await recordIntent(db, { idempotencyKey: 'b', kind: 'pay', signer: address(1) })
      const c = await recordIntent(db, { idempotencyKey: 'c', kind: 'pay', signer: address(2) })
      await markIntentSent(db, a.intent.id, { txHash: '0xa', nonce: 0, rawTx: '0xa' })
      await expect(
        markIntentSent(db, b.intent.id, { txHash: '0xb', nonce: 0, rawTx: '0xb' }),
      ).rejects.toThrow()
      await markIntentSent(db, c.intent.id, { txHash: '0xc', nonce: 0, rawTx: '0xc' })
      await markIntentFailed(db, a.intent.id, { error: 'dropped' })
      await markIntentSent(db, b.intent.id, { txHash: '0xb', nonce: 0, rawTx: '0xb' })
    })
  })

  describe('markIntentConfirmed', () => {
    test('default', async () => {
      const { intent } = await recordIntent(db, { idempotencyKey: 'k', kind: 'launch', signer: address(1) })
      await markIntentSent(db, intent.id, { txHash: '0xaa', nonce: 0, rawTx: '0x01' })
      const confirmed = await markIntentConfirmed(db, intent.id, { result: { agentId: huge, block: '12' } })
      expect(confirmed).toMatchObject({
        status: 'confirmed',
        txHash: '0xaa',
        result: { agentId: huge, block: '12' },
      })
      expect(await markIntentConfirmed(db, intent.id)).toEqual(confirmed)
    })

    test('behavior: a replacement hash is recorded; a failed intent stays failed', async () => {
      const { intent } = await recordIntent(db, { idempotencyKey: 'k', kind: 'pay', signer: address(1) })
      await markIntentSent(db, intent.id, { txHash: '0xaa', nonce: 0, rawTx: '0x01' })
      expect((await markIntentConfirmed(db, intent.id, { txHash: '0xbb' })).txHash).toBe('0xbb')
      const other = await recordIntent(db, { idempotencyKey: 'o', kind: 'pay', signer: address(1) })
      await markIntentFailed(db, other.intent.id, { error: 'reverted' })
      await expectDbError(markIntentConfirmed(db, other.intent.id), 'INVALID_TRANSITION')
    })
  })

  describe('markIntentsSent', () => {
    test('default: many intents in one write; final ones are left alone', async () => {
      const a = await recordIntent(db, { idempotencyKey: 'a', kind: 'pay', signer: address(1) })
      const b = await recordIntent(db, { idempotencyKey: 'b', kind: 'pay', signer: address(2) })
      const c = await recordIntent(db, { idempotencyKey: 'c', kind: 'pay', signer: address(3) })
      await markIntentFailed(db, c.intent.id, { error: 'refused' })
      const marked = await markIntentsSent(db, [
        { id: a.intent.id, txHash: '0xa', nonce: 7, rawTx: '0x0a' },
        { id: b.intent.id, txHash: '0xb', nonce: 0, rawTx: '0x0b' },
        { id: c.intent.id, txHash: '0xc', nonce: 0, rawTx: '0x0c' },
      ])
      expect([...marked].sort()).toEqual([a.intent.id, b.intent.id].sort())
      expect(await getIntent(db, a.intent.id)).toMatchObject({
        status: 'sent',
        txHash: '0xa',
        nonce: 7,
        rawTx: '0x0a',
        attempts: 1,
      })
      expect(await getIntent(db, c.intent.id)).toMatchObject({ status: 'failed', txHash: null })
      expect(await markIntentsSent(db, [])).toEqual(new Set())
    })

    test('behavior: a nonce clash refuses the whole write', async () => {
      const a = await recordIntent(db, { idempotencyKey: 'a', kind: 'pay', signer: address(1) })
      const b = await recordIntent(db, { idempotencyKey: 'b', kind: 'pay', signer: address(1) })
      await expect(
        markIntentsSent(db, [
          { id: a.intent.id, txHash: '0xa', nonce: 1, rawTx: '0x0a' },
          { id: b.intent.id, txHash: '0xb', nonce: 1, rawTx: '0x0b' },
        ]),
      ).rejects.toThrow()
      expect((await getIntent(db, a.intent.id))?.status).toBe('pending')
    })
  })

  describe('markIntentsConfirmed', () => {
    test('default: results recorded in one write; failed ones stay failed', async () => {
      const a = await recordIntent(db, { idempotencyKey: 'a', kind: 'pay', signer: address(1) })
      const b = await recordIntent(db, { idempotencyKey: 'b', kind: 'pay', signer: address(1) })
      await markIntentsSent(db, [{ id: a.intent.id, txHash: '0xa', nonce: 0, rawTx: '0x0a' }])
      await markIntentFailed(db, b.intent.id, { error: 'reverted' })
      await markIntentsConfirmed(db, [
        { id: a.intent.id, result: { block: 3, amount: huge } },
        { id: b.intent.id, result: {} },
      ])
      expect(await getIntent(db, a.intent.id)).toMatchObject({
        status: 'confirmed',
        result: { block: 3, amount: huge },
      })
      expect((await getIntent(db, b.intent.id))?.status).toBe('failed')
    })
  })

  describe('markIntentFailed', () => {
    test('default', async () => {
      const { intent } = await recordIntent(db, { idempotencyKey: 'k', kind: 'pay', signer: address(1) })
      const failed = await markIntentFailed(db, intent.id, { error: 'EconomyJobNotFunded(1)' })
      expect(failed).toMatchObject({ status: 'failed', lastError: 'EconomyJobNotFunded(1)' })
      expect(await markIntentFailed(db, intent.id, { error: 'again' })).toEqual(failed)
      await expectDbError(markIntentFailed(db, 424242, { error: 'x' }), 'NOT_FOUND')
    })

    test('behavior: a confirmed intent cannot fail', async () => {
      const { intent } = await recordIntent(db, { idempotencyKey: 'k', kind: 'pay', signer: address(1) })
      await markIntentConfirmed(db, intent.id)
      await expectDbError(markIntentFailed(db, intent.id, { error: 'late' }), 'INVALID_TRANSITION')
    })
  })

  describe('listUnfinishedIntents', () => {
    test('default', async () => {
      const keys = ['a', 'b', 'c', 'd', 'e']
      const recorded = []
      for (const key of keys)
        recorded.push(
          (await recordIntent(db, { idempotencyKey: key, kind: 'pay', signer: address(key === 'e' ? 2 : 1) }))
            .intent,
        )
      await markIntentSent(db, recorded[1]!.id, { txHash: '0xb', nonce: 0, rawTx: '0xb' })
      await markIntentConfirmed(db, recorded[2]!.id)
      await markIntentFailed(db, recorded[3]!.id, { error: 'x' })
      const unfinished = await listUnfinishedIntents(db)
      expect(unfinished.map((i) => [i.idempotencyKey, i.status])).toEqual([
        ['a', 'pending'],
        ['b', 'sent'],
        ['e', 'pending'],
      ])
      expect((await listUnfinishedIntents(db, { signer: address(2) })).map((i) => i.idempotencyKey)).toEqual([
        'e',
      ])
    })
  })

  describe('getHighestNonce', () => {
    test('default', async () => {
      expect(await getHighestNonce(db, address(1))).toBeNull()
      const a = await recordIntent(db, { idempotencyKey: 'a', kind: 'pay', signer: address(1) })
      const b = await recordIntent(db, { idempotencyKey: 'b', kind: 'pay', signer: address(1) })
      await markIntentSent(db, a.intent.id, { txHash: '0xa', nonce: 5, rawTx: '0xa' })
      await markIntentSent(db, b.intent.id, { txHash: '0xb', nonce: 6, rawTx: '0xb' })
      expect(await getHighestNonce(db, address(1))).toBe(6)
      await markIntentFailed(db, b.intent.id, { error: 'dropped' })
      expect(await getHighestNonce(db, address(1))).toBe(5)
    })
  })

  describe('upsertJob', () => {
    test('default', async () => {
      const provider = await insertAgent(db, agentParameters({ chainAgentId: '7' }))
      const job = await upsertJob(
        db,
        jobParameters({ jobId: huge, budget: huge, providerAgentId: provider.id }),
      )
      expect(job).toMatchObject({
        jobId: huge,
        budget: huge,
        status: 'funded',
        token: usdc.toLowerCase(),
        input: { text: 'hello' },
        providerAgentId: provider.id,
        clientAgentId: null,
      })
      expect(job.deadline.toISOString()).toBe('2030-01-01T00:00:00.000Z')
      expect(await getJob(db, huge)).toEqual(job)
      expect(await getJob(db, '2')).toBeUndefined()
    })

    test('behavior: merges fields and only moves the status forward', async () => {
      await upsertJob(db, jobParameters({ createTx: '0xc1' }))
      const submitted = await upsertJob(
        db,
        jobParameters({
          status: 'submitted',
          deliverable: { summary: 'hi' },
          deliverableHash: '0xd',
          submitTx: '0xs',
        }),
      )
      expect(submitted).toMatchObject({
        status: 'submitted',
        createTx: '0xc1',
        deliverable: { summary: 'hi' },
      })
      const completed = await upsertJob(
        db,
        jobParameters({ status: 'completed', fee: '1000', payout: '999000', rating: 90, settleTx: '0xe' }),
      )
      expect(completed).toMatchObject({
        status: 'completed',
        fee: '1000',
        payout: '999000',
        rating: 90,
        submitTx: '0xs',
      })
      // A replayed creation event, then a conflicting final state, change nothing.
      expect((await upsertJob(db, jobParameters({ status: 'funded' }))).status).toBe('completed')
      expect((await upsertJob(db, jobParameters({ status: 'rejected' }))).status).toBe('completed')
    })

    test('behavior: refuses a job id that is not a decimal string', async () => {
      await expectDbError(upsertJob(db, jobParameters({ jobId: '0x01' })), 'INVALID_INPUT')
      await expectDbError(upsertJob(db, jobParameters({ budget: '1e6' })), 'INVALID_INPUT')
    })
  })

  describe('updateJob', () => {
    test('default', async () => {
      await upsertJob(db, jobParameters())
      const job = await updateJob(db, '1', { status: 'submitted', deliverableHash: '0xd' })
      expect(job).toMatchObject({ status: 'submitted', deliverableHash: '0xd', budget: '1000000' })
      expect((await updateJob(db, '1', { status: 'expired' })).status).toBe('expired')
      expect((await updateJob(db, '1', { status: 'submitted', rating: 1 })).status).toBe('expired')
      await expectDbError(updateJob(db, '404', { status: 'completed' }), 'NOT_FOUND')
    })
  })

  describe('advanceJob', () => {
    test('default: moves forward once, with its fields; a replay or a step back changes nothing', async () => {
      await upsertJob(db, jobParameters({ status: 'funded' }))
      const submitted = await advanceJob(db, '1', { status: 'submitted', deliverableHash: '0xd' })
      expect(submitted).toMatchObject({ status: 'submitted', deliverableHash: '0xd' })
      expect(await advanceJob(db, '1', { status: 'submitted', deliverableHash: '0xe' })).toBeUndefined()
      expect(await advanceJob(db, '1', { status: 'funded' })).toBeUndefined()
      expect(await advanceJob(db, '1', { status: 'completed', rating: 90 })).toMatchObject({
        status: 'completed',
        rating: 90,
      })
      expect(await advanceJob(db, '1', { status: 'rejected' })).toBeUndefined()
      expect(await getJob(db, '1')).toMatchObject({ status: 'completed', rating: 90, deliverableHash: '0xd' })
      expect(await advanceJob(db, '404', { status: 'completed' })).toBeUndefined()
    })
  })

  describe('listJobs', () => {
    test('default', async () => {
      const client = await insertAgent(db, agentParameters({ name: 'client' }))
      const provider = await insertAgent(db, agentParameters({ name: 'provider' }))
      await upsertJob(
        db,
        jobParameters({ jobId: '1', clientAgentId: client.id, providerAgentId: provider.id }),
      )
      await upsertJob(
        db,
        jobParameters({
          jobId: '2',
          providerAgentId: provider.id,
          deadline: new Date('2020-01-01'),
          status: 'submitted',
        }),
      )
      await upsertJob(db, jobParameters({ jobId: '3', clientAgentId: client.id, status: 'completed' }))

      const ids = (jobs: { jobId: string }[]) => jobs.map((job) => job.jobId).sort()
      expect(ids(await listJobs(db))).toEqual(['1', '2', '3'])
      expect(ids(await listJobs(db, { agentId: client.id }))).toEqual(['1', '3'])
      expect(ids(await listJobs(db, { agentId: provider.id }))).toEqual(['1', '2'])
      expect(ids(await listJobs(db, { agentId: client.id, role: 'provider' }))).toEqual([])
      expect(ids(await listJobs(db, { agentId: provider.id, role: 'provider', status: 'funded' }))).toEqual([
        '1',
      ])
      expect(
        ids(await listJobs(db, { status: ['funded', 'submitted'], deadlineBefore: new Date('2025-01-01') })),
      ).toEqual(['2'])
      expect(await listJobs(db, { limit: 2 })).toHaveLength(2)
    })
  })

  describe('insertPayment', () => {
    test('default', async () => {
      const agent = await insertAgent(db, agentParameters())
      const parameters: InsertPaymentParameters = {
        idempotencyKey: 'pay-1',
        fromAgentId: agent.id,
        fromAddress: '0x000000000000000000000000000000000000SAFE'.replace('SAFE', '5AFE'),
        toChainAgentId: '12',
        toAddress: address(9),
        token: usdc,
        amount: huge,
        memo: 'thanks',
      }
      const { payment, created } = await insertPayment(db, parameters)
      expect(created).toBe(true)
      expect(payment).toMatchObject({
        amount: huge,
        status: 'pending',
        fromAddress: address(0x5afe),
        memo: 'thanks',
      })
      expect(payment.id).toMatch(/^pay_/)
      expect(await insertPayment(db, { ...parameters, amount: '1' })).toEqual({ payment, created: false })
      expect(await getPayment(db, payment.id)).toEqual(payment)
      expect(await getPayment(db, 'pay_missing')).toBeUndefined()
    })
  })

  describe('insertPayments', () => {
    test('default: many in one call, in order; a repeated key returns the first row', async () => {
      const agent = await insertAgent(db, agentParameters())
      const base = {
        fromAgentId: agent.id,
        fromAddress: address(1),
        toAddress: address(2),
        token: usdc,
      }
      const first = await insertPayment(db, { ...base, idempotencyKey: 'b', amount: '2' })
      const results = await insertPayments(db, [
        { ...base, idempotencyKey: 'a', amount: '1' },
        { ...base, idempotencyKey: 'b', amount: '20' },
        { ...base, idempotencyKey: 'c', amount: '3' },
        { ...base, idempotencyKey: 'c', amount: '30' },
      ])
      expect(results.map((r) => [r.payment.idempotencyKey, r.payment.amount, r.created])).toEqual([
        ['a', '1', true],
        ['b', '2', false],
        ['c', '3', true],
        ['c', '3', false],
      ])
      expect(results[1]!.payment).toEqual(first.payment)
      expect(await db.select().from(payments)).toHaveLength(3)
      expect(await insertPayments(db, [])).toEqual([])
    })

    test('behavior: a bad row refuses the call and writes nothing', async () => {
      const agent = await insertAgent(db, agentParameters())
      const base = { fromAgentId: agent.id, fromAddress: address(1), toAddress: address(2), token: usdc }
      await expect(
        insertPayments(db, [
          { ...base, idempotencyKey: 'ok', amount: '1' },
          { ...base, idempotencyKey: 'bad', amount: '-1' },
        ]),
      ).rejects.toThrow(/amount/)
      expect(await db.select().from(payments)).toHaveLength(0)
    })
  })

  describe('updatePayment', () => {
    test('default', async () => {
      const agent = await insertAgent(db, agentParameters())
      const { payment } = await insertPayment(db, {
        idempotencyKey: 'p',
        fromAgentId: agent.id,
        fromAddress: address(1),
        toAddress: address(2),
        token: usdc,
        amount: '5',
      })
      const updated = await updatePayment(db, payment.id, { status: 'confirmed', txHash: '0xfeed' })
      expect(updated).toMatchObject({ status: 'confirmed', txHash: '0xfeed', amount: '5' })
      await expectDbError(updatePayment(db, 'pay_missing', { status: 'failed' }), 'NOT_FOUND')
    })
  })

  describe('markPaymentsConfirmed', () => {
    test('default: each payment gets its own transaction, in one statement', async () => {
      const agent = await insertAgent(db, agentParameters())
      const ids: string[] = []
      for (const key of ['a', 'b', 'c']) {
        const { payment } = await insertPayment(db, {
          idempotencyKey: key,
          fromAgentId: agent.id,
          fromAddress: address(1),
          toAddress: address(2),
          token: usdc,
          amount: '5',
        })
        ids.push(payment.id)
      }
      const rows = await markPaymentsConfirmed(db, [
        { id: ids[0]!, txHash: '0xaa' },
        { id: ids[2]!, txHash: '0xcc' },
        { id: 'pay_missing', txHash: '0xdd' },
      ])
      expect(rows.map((r) => [r.id, r.status, r.txHash]).sort()).toEqual(
        [
          [ids[0], 'confirmed', '0xaa'],
          [ids[2], 'confirmed', '0xcc'],
        ].sort(),
      )
      expect(await getPayment(db, ids[1]!)).toMatchObject({ status: 'pending', txHash: null })
      expect(await markPaymentsConfirmed(db, [])).toEqual([])
    })
  })

  describe('listPayments', () => {
    test('default', async () => {
      const agent = await insertAgent(db, agentParameters())
      const other = await insertAgent(db, agentParameters())
      for (const key of ['a', 'b'])
        await insertPayment(db, {
          idempotencyKey: key,
          fromAgentId: agent.id,
          fromAddress: address(1),
          toAddress: address(2),
          token: usdc,
          amount: '5',
        })
      expect(await listPayments(db, { agentId: agent.id })).toHaveLength(2)
      expect(await listPayments(db, { agentId: agent.id, limit: 1 })).toHaveLength(1)
      expect(await listPayments(db, { agentId: other.id })).toEqual([])
    })
  })

  describe('getCursor', () => {
    test('default', async () => {
      expect(await getCursor(db, 'economy')).toBeUndefined()
      await setCursor(db, { name: 'economy', blockNumber: 10n, blockHash: '0x10' })
      expect(await getCursor(db, 'economy')).toMatchObject({
        name: 'economy',
        blockNumber: 10n,
        blockHash: '0x10',
      })
    })
  })

  describe('setCursor', () => {
    test('default', async () => {
      await setCursor(db, { name: 'economy', blockNumber: 10n, blockHash: '0x10' })
      const big = 2n ** 60n
      const moved = await setCursor(db, { name: 'economy', blockNumber: big, blockHash: '0xbig' })
      expect(moved).toMatchObject({ blockNumber: big, blockHash: '0xbig' })
      expect((await getCursor(db, 'economy'))?.blockNumber).toBe(big)
      await setCursor(db, { name: 'identity', blockNumber: 1n, blockHash: '0x1' })
      expect((await getCursor(db, 'economy'))?.blockNumber).toBe(big)
    })
  })

  describe('recordBlocks', () => {
    test('default', async () => {
      await recordBlocks(db, [{ number: 5n, hash: '0x5a' }])
      expect(await getBlockHash(db, 5n)).toBe('0x5a')
      await recordBlocks(db, [
        { number: 5n, hash: '0x5b' },
        { number: 6n, hash: '0x6a' },
      ])
      expect(await getBlockHash(db, 5n)).toBe('0x5b')
      expect(await getBlockHash(db, 6n)).toBe('0x6a')
      expect(await getBlockHash(db, 7n)).toBeUndefined()
      await recordBlocks(db, [])
    })

    test('behavior: a height given twice keeps the last hash', async () => {
      await recordBlocks(db, [
        { number: 9n, hash: '0x9a' },
        { number: 9n, hash: '0x9b' },
      ])
      expect(await getBlockHash(db, 9n)).toBe('0x9b')
    })
  })

  describe('pruneBlocks', () => {
    test('default', async () => {
      await recordBlocks(
        db,
        Array.from({ length: 10 }, (_, i) => ({ number: BigInt(i + 1), hash: `0x${i + 1}` })),
      )
      expect(await pruneBlocks(db, { below: 4n })).toBe(3)
      expect(await getBlockHash(db, 3n)).toBeUndefined()
      expect(await getBlockHash(db, 4n)).toBe('0x4')
    })
  })

  describe('deleteBlocksFrom', () => {
    test('default', async () => {
      await recordBlocks(
        db,
        Array.from({ length: 10 }, (_, i) => ({ number: BigInt(i + 1), hash: `0x${i + 1}` })),
      )
      expect(await deleteBlocksFrom(db, 8n)).toBe(3)
      expect(await getBlockHash(db, 7n)).toBe('0x7')
      expect(await getBlockHash(db, 8n)).toBeUndefined()
    })
  })

  describe('appendActivity', () => {
    test('default', async () => {
      const agent = await insertAgent(db, agentParameters())
      const first = await appendActivity(db, {
        agentId: agent.id,
        kind: 'lifecycle',
        data: { status: 'launching' },
      })
      const second = await appendActivity(db, { agentId: agent.id, kind: 'tx', data: { hash: '0x1' } })
      expect(first).toMatchObject({ agentId: agent.id, kind: 'lifecycle', data: { status: 'launching' } })
      expect(second.id).toBeGreaterThan(first.id)
      expect((await appendActivity(db, { kind: 'guardrail' })).data).toEqual({})
    })

    test('behavior: concurrent appends get distinct increasing ids', async () => {
      const agent = await insertAgent(db, agentParameters())
      const rows = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          appendActivity(db, { agentId: agent.id, kind: 'model', data: { i } }),
        ),
      )
      expect(new Set(rows.map((row) => row.id)).size).toBe(20)
      const listed = await listActivity(db, { agentId: agent.id })
      expect(listed.map((row) => row.id)).toEqual(rows.map((row) => row.id).sort((a, b) => a - b))
    })
  })

  describe('listActivity', () => {
    test('default', async () => {
      const a = await insertAgent(db, agentParameters())
      const b = await insertAgent(db, agentParameters())
      const ids = []
      for (let i = 0; i < 5; i++)
        ids.push((await appendActivity(db, { agentId: i % 2 ? b.id : a.id, kind: 'job', data: { i } })).id)
      expect((await listActivity(db, { agentId: a.id })).map((row) => row.data.i)).toEqual([0, 2, 4])
      expect((await listActivity(db, { agentId: a.id, afterId: ids[2] })).map((row) => row.data.i)).toEqual([
        4,
      ])
      expect((await listActivity(db, { afterId: ids[0], limit: 2 })).map((row) => row.data.i)).toEqual([1, 2])
      expect(await listActivity(db)).toHaveLength(5)
    })
  })

  describe('recordUsage', () => {
    test('default', async () => {
      const agent = await insertAgent(db, agentParameters())
      const row = await recordUsage(db, {
        agentId: agent.id,
        jobId: '1',
        model: 'm1',
        promptTokens: 100,
        completionTokens: 20,
      })
      expect(row).toMatchObject({
        agentId: agent.id,
        jobId: '1',
        model: 'm1',
        promptTokens: 100,
        completionTokens: 20,
      })
    })
  })

  describe('summarizeUsage', () => {
    test('default', async () => {
      const agent = await insertAgent(db, agentParameters())
      await recordUsage(db, {
        agentId: agent.id,
        jobId: '1',
        model: 'm1',
        promptTokens: 100,
        completionTokens: 20,
      })
      await recordUsage(db, { agentId: agent.id, model: 'm1', promptTokens: 1, completionTokens: 2 })
      await recordUsage(db, { agentId: agent.id, model: 'm2', promptTokens: 5, completionTokens: 5 })
      expect(await summarizeUsage(db, { agentId: agent.id })).toEqual([
        { model: 'm1', calls: 2, promptTokens: 101, completionTokens: 22 },
        { model: 'm2', calls: 1, promptTokens: 5, completionTokens: 5 },
      ])
      expect(await summarizeUsage(db, { agentId: agent.id, jobId: '1' })).toEqual([
        { model: 'm1', calls: 1, promptTokens: 100, completionTokens: 20 },
      ])
      expect(await summarizeUsage(db, { agentId: agent.id, since: new Date(Date.now() + 60_000) })).toEqual(
        [],
      )
    })
  })

  describe('issueSiweNonce', () => {
    test('default', async () => {
      const now = new Date('2030-01-01T00:00:00Z')
      const { nonce, expiresAt } = await issueSiweNonce(db, { now, ttlMs: 60_000 })
      expect(nonce).toMatch(/^[0-9a-f]{32}$/)
      expect(expiresAt.toISOString()).toBe('2030-01-01T00:01:00.000Z')
      expect((await issueSiweNonce(db)).nonce).not.toBe(nonce)
    })
  })

  describe('consumeSiweNonce', () => {
    test('default', async () => {
      const { nonce } = await issueSiweNonce(db)
      await consumeSiweNonce(db, nonce)
      await expectDbError(consumeSiweNonce(db, nonce), 'NONCE_USED')
    })

    test('behavior: expired and unknown nonces are refused', async () => {
      const { nonce } = await issueSiweNonce(db, { ttlMs: 1000 })
      await expectDbError(consumeSiweNonce(db, nonce, { now: new Date(Date.now() + 2000) }), 'NONCE_EXPIRED')
      await expectDbError(consumeSiweNonce(db, 'nope'), 'NONCE_NOT_FOUND')
    })

    test('behavior: of 20 concurrent uses exactly one succeeds', async () => {
      const { nonce } = await issueSiweNonce(db)
      const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => consumeSiweNonce(db, nonce)))
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1)
      for (const outcome of outcomes)
        if (outcome.status === 'rejected') expect((outcome.reason as DbError).code).toBe('NONCE_USED')
    })
  })

  describe('pruneSiweNonces', () => {
    test('default', async () => {
      const used = await issueSiweNonce(db)
      await consumeSiweNonce(db, used.nonce)
      await issueSiweNonce(db, { ttlMs: -1 })
      const live = await issueSiweNonce(db)
      expect(await pruneSiweNonces(db)).toBe(2)
      await consumeSiweNonce(db, live.nonce)
    })
  })

  describe('createSession', () => {
    test('default', async () => {
      const { token, session } = await createSession(db, { address: owner })
      expect(token.length).toBeGreaterThanOrEqual(43)
      expect(session.address).toBe(owner.toLowerCase())
      expect(session.tokenHash).not.toContain(token)
      expect(session.expiresAt.getTime() - Date.now()).toBeGreaterThan(6 * 24 * 3_600_000)
    })
  })

  describe('getSession', () => {
    test('default', async () => {
      const { token, session } = await createSession(db, { address: owner, ttlMs: 60_000 })
      expect(await getSession(db, token)).toEqual(session)
      expect(await getSession(db, `${token}x`)).toBeUndefined()
      expect(await getSession(db, token, { now: new Date(Date.now() + 120_000) })).toBeUndefined()
    })
  })

  describe('revokeSession', () => {
    test('default', async () => {
      const { token } = await createSession(db, { address: owner })
      const other = await createSession(db, { address: owner })
      expect(await revokeSession(db, token)).toBe(true)
      expect(await getSession(db, token)).toBeUndefined()
      expect(await revokeSession(db, token)).toBe(false)
      expect(await getSession(db, other.token)).toBeDefined()
    })
  })
}

describe.each(testAdapters)('storage on $name', (adapter) => {
  if (adapter.skipReason)
    console.warn(`[@agora/db] storage suite on ${adapter.name} skipped: ${adapter.skipReason}`)
  describe.skipIf(Boolean(adapter.skipReason))(
    adapter.skipReason ? `skipped: ${adapter.skipReason}` : 'suite',
    () => storageSuite(adapter),
  )
})
