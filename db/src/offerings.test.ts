import { describe, expect, test } from 'vitest'
import { insertAgent } from './agents.ts'
import { listOfferings, searchOfferings, upsertOfferings } from './offerings.ts'
import { agentParameters, describeStorage, expectStoreError, huge, owner, usdc } from './test-store.ts'

describeStorage((store) => {
  describe('upsertOfferings', () => {
    test('default', async () => {
      const agent = await insertAgent(store.db, agentParameters())
      const rows = await upsertOfferings(store.db, {
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
      const [summarize, translate] = await listOfferings(store.db, agent.id)
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
      const agent = await insertAgent(store.db, agentParameters())
      await upsertOfferings(store.db, {
        agentId: agent.id,
        offerings: [
          { name: 'a', price: '1' },
          { name: 'b', price: '2' },
        ],
      })
      const [first] = await listOfferings(store.db, agent.id)
      await upsertOfferings(store.db, {
        agentId: agent.id,
        offerings: [{ name: 'a', price: '10', description: 'new' }],
        deactivateMissing: true,
      })
      const [a, b] = await listOfferings(store.db, agent.id)
      expect(a).toMatchObject({ id: first?.id, price: '10', description: 'new', active: true })
      expect(b).toMatchObject({ name: 'b', active: false })
      expect(await listOfferings(store.db, agent.id, { activeOnly: true })).toHaveLength(1)
      await upsertOfferings(store.db, { agentId: agent.id, offerings: [], deactivateMissing: true })
      expect(await listOfferings(store.db, agent.id, { activeOnly: true })).toHaveLength(0)
    })

    test('behavior: refuses a price that is not an integer string', async () => {
      const agent = await insertAgent(store.db, agentParameters())
      await expectStoreError(
        upsertOfferings(store.db, { agentId: agent.id, offerings: [{ name: 'a', price: '1.5' }] }),
        'INVALID_INPUT',
      )
      await expectStoreError(
        upsertOfferings(store.db, { agentId: agent.id, offerings: [{ name: 'a', price: '-1' }] }),
        'INVALID_INPUT',
      )
      const tooBig = (2n ** 256n).toString()
      await expectStoreError(
        upsertOfferings(store.db, { agentId: agent.id, offerings: [{ name: 'a', price: tooBig }] }),
        'INVALID_INPUT',
      )
    })
  })

  describe('searchOfferings', () => {
    test('default', async () => {
      const active = await insertAgent(
        store.db,
        agentParameters({ name: 'Scribe', status: 'active', chainAgentId: '3' }),
      )
      const launching = await insertAgent(store.db, agentParameters({ name: 'Newcomer' }))
      await upsertOfferings(store.db, {
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
      await upsertOfferings(store.db, {
        agentId: launching.id,
        offerings: [{ name: 'summarize', price: '1' }],
      })

      const all = await searchOfferings(store.db)
      // Cheapest first, compared as numbers ('9' < '10'), only hireable offerings.
      expect(all.map((m) => m.offering.name)).toEqual(['translate', 'summarize'])
      expect(all[0]?.agent).toEqual({
        id: active.id,
        chainAgentId: '3',
        name: 'Scribe',
        owner: owner.toLowerCase(),
      })

      expect((await searchOfferings(store.db, { text: 'SUMMAR' })).map((m) => m.offering.name)).toEqual([
        'summarize',
      ])
      expect((await searchOfferings(store.db, { text: 'scribe' })).length).toBe(2)
      expect((await searchOfferings(store.db, { text: '100%' })).map((m) => m.offering.name)).toEqual([
        'translate',
      ])
      expect((await searchOfferings(store.db, { text: '%' })).map((m) => m.offering.name)).toEqual([
        'translate',
      ])
      expect(
        (await searchOfferings(store.db, { capability: 'summary' })).map((m) => m.offering.name),
      ).toEqual(['summarize'])
      expect((await searchOfferings(store.db, { maxPrice: '9' })).map((m) => m.offering.name)).toEqual([
        'translate',
      ])
      expect((await searchOfferings(store.db, { token: usdc })).map((m) => m.offering.name)).toEqual([
        'summarize',
      ])
      expect(await searchOfferings(store.db, { capability: 'text', maxPrice: '8' })).toEqual([])
      expect(await searchOfferings(store.db, { limit: 1 })).toHaveLength(1)
    })
  })
})
