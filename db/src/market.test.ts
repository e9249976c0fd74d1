import { describe, expect, test } from 'vitest'
import { insertAgent, updateAgent } from './agents.ts'
import {
  getListing,
  getMarketOffering,
  listListingIds,
  listUnlistedAgents,
  searchMarketOfferings,
  setMarketReputation,
  skipListing,
  touchListing,
  type WriteListingParameters,
  writeListing,
} from './market.ts'
import {
  address,
  agentParameters,
  describeStorage,
  expectStoreError,
  huge,
  owner,
  usdc,
} from './test-store.ts'

const eth = '0x0000000000000000000000000000000000000000'

function listing(overrides: Partial<WriteListingParameters> = {}): WriteListingParameters {
  return {
    chainAgentId: '7',
    owner,
    wallet: address(0x77),
    uri: 'https://agents.example/registration/7',
    name: 'Scribe',
    description: 'Writes things down.',
    active: true,
    file: { name: 'Scribe' },
    fileHash: '0x01',
    offerings: [
      {
        name: 'summarize',
        description: 'Short summaries',
        price: '10',
        token: usdc,
        capabilities: ['text', 'summary'],
        inputSchema: { type: 'object' },
        outputSchema: { type: 'string' },
        endpoints: { x402: 'https://agents.example/x402/summarize', escrow: 'https://agents.example' },
      },
      { name: 'translate', description: '100% faithful', price: '9', token: eth, capabilities: ['text'] },
    ],
    ...overrides,
  }
}

describeStorage((store) => {
  describe('writeListing', () => {
    test('default', async () => {
      const row = await writeListing(store.db, listing())
      expect(row).toMatchObject({
        chainAgentId: '7',
        owner: owner.toLowerCase(),
        wallet: address(0x77),
        status: 'listed',
        active: true,
        error: null,
        fileHash: '0x01',
        agentId: null,
      })
      expect(row.fetchedAt).toBeInstanceOf(Date)
      const found = await getMarketOffering(store.db, '7', 'summarize')
      expect(found?.offering).toMatchObject({
        price: '10',
        token: usdc.toLowerCase(),
        capabilities: ['text', 'summary'],
        inputSchema: { type: 'object' },
        outputSchema: { type: 'string' },
        endpoints: { x402: 'https://agents.example/x402/summarize', escrow: 'https://agents.example' },
      })
      expect(found?.agent).toMatchObject({ chainAgentId: '7', name: 'Scribe', wallet: address(0x77) })
    })

    test('behavior: replaces the offerings set; a hosted agent keeps its runtime id', async () => {
      const agent = await insertAgent(store.db, agentParameters({ chainAgentId: '7', status: 'active' }))
      await writeListing(store.db, listing())
      await writeListing(
        store.db,
        listing({
          agentId: agent.id,
          fileHash: '0x02',
          offerings: [{ name: 'translate', price: huge, token: eth }],
        }),
      )
      expect(await getMarketOffering(store.db, '7', 'summarize')).toBeUndefined()
      expect((await getMarketOffering(store.db, '7', 'translate'))?.offering.price).toBe(huge)
      expect(await getListing(store.db, '7')).toMatchObject({ agentId: agent.id, fileHash: '0x02' })
    })

    test('behavior: a bad row writes nothing', async () => {
      await writeListing(store.db, listing())
      await expectStoreError(
        writeListing(
          store.db,
          listing({ fileHash: '0x03', offerings: [{ name: 'x', price: '1.5', token: usdc }] }),
        ),
        'INVALID_INPUT',
      )
      await expectStoreError(writeListing(store.db, listing({ owner: 'nobody' })), 'INVALID_INPUT')
      expect((await getListing(store.db, '7'))?.fileHash).toBe('0x01')
      expect(await getMarketOffering(store.db, '7', 'summarize')).toBeDefined()
    })
  })

  describe('skipListing', () => {
    test('default: the reason is kept and the offerings leave the market', async () => {
      await writeListing(store.db, listing())
      const row = await skipListing(store.db, {
        chainAgentId: '7',
        owner,
        uri: 'https://agents.example/registration/7',
        error: 'answered HTTP 404',
      })
      expect(row).toMatchObject({ status: 'skipped', error: 'answered HTTP 404', file: null, fileHash: null })
      // What was known of it stays readable.
      expect(row.name).toBe('Scribe')
      expect(await getMarketOffering(store.db, '7', 'summarize')).toBeUndefined()
      expect((await searchMarketOfferings(store.db)).items).toEqual([])
      await writeListing(store.db, listing())
      expect((await searchMarketOfferings(store.db)).items).toHaveLength(2)
    })

    test('behavior: an agent never listed is recorded as skipped', async () => {
      await skipListing(store.db, { chainAgentId: '8', owner, uri: '', error: 'no URI' })
      expect(await getListing(store.db, '8')).toMatchObject({ status: 'skipped', name: '', error: 'no URI' })
    })
  })

  describe('touchListing', () => {
    test('default', async () => {
      const row = await writeListing(store.db, listing())
      await new Promise((resolve) => setTimeout(resolve, 5))
      await touchListing(store.db, '7')
      const touched = await getListing(store.db, '7')
      expect(touched!.fetchedAt!.getTime()).toBeGreaterThanOrEqual(row.fetchedAt!.getTime())
      expect(touched!.fileHash).toBe('0x01')
    })
  })

  describe('listListingIds', () => {
    test('default: hosted or not', async () => {
      const agent = await insertAgent(store.db, agentParameters({ chainAgentId: '2', status: 'active' }))
      await writeListing(store.db, listing({ chainAgentId: '10' }))
      await writeListing(store.db, listing({ chainAgentId: '2', agentId: agent.id }))
      await skipListing(store.db, { chainAgentId: '9', owner, uri: '', error: 'no URI' })
      expect(await listListingIds(store.db)).toEqual(['2', '9', '10'])
      expect(await listListingIds(store.db, { hosted: false })).toEqual(['9', '10'])
      expect(await listListingIds(store.db, { hosted: true })).toEqual(['2'])
    })
  })

  describe('listUnlistedAgents', () => {
    test('default: launched agents hosted here without a listing', async () => {
      const listed = await insertAgent(store.db, agentParameters({ name: 'a', chainAgentId: '2' }))
      await insertAgent(store.db, agentParameters({ name: 'b', chainAgentId: '3' }))
      await insertAgent(store.db, agentParameters({ name: 'launching' }))
      await writeListing(store.db, listing({ chainAgentId: '2', agentId: listed.id }))
      expect(await listUnlistedAgents(store.db)).toEqual(['3'])
    })
  })

  describe('searchMarketOfferings', () => {
    test('default', async () => {
      await writeListing(store.db, listing())
      await writeListing(
        store.db,
        listing({
          chainAgentId: '8',
          name: 'Paused',
          active: false,
          offerings: [{ name: 'summarize', price: '1', token: usdc }],
        }),
      )
      await skipListing(store.db, { chainAgentId: '9', owner, uri: '', error: 'too large' })

      const all = (await searchMarketOfferings(store.db)).items
      // With no record read yet every provider scores alike: cheapest first, compared as numbers
      // ('9' < '10'), only active listed agents.
      expect(all.map((m) => m.offering.name)).toEqual(['translate', 'summarize'])
      expect(all[0]?.reputation).toBeNull()
      expect(all[0]?.agent).toEqual({
        chainAgentId: '7',
        agentId: null,
        name: 'Scribe',
        owner: owner.toLowerCase(),
        wallet: address(0x77),
        uri: 'https://agents.example/registration/7',
        active: true,
      })

      const names = async (parameters: Parameters<typeof searchMarketOfferings>[1]) =>
        (await searchMarketOfferings(store.db, parameters)).items.map((m) => m.offering.name)
      expect(await names({ text: 'SUMMAR' })).toEqual(['summarize'])
      expect(await names({ text: 'scribe' })).toEqual(['translate', 'summarize'])
      expect(await names({ text: '100%' })).toEqual(['translate'])
      expect(await names({ text: '%' })).toEqual(['translate'])
      expect(await names({ text: '_' })).toEqual([])
      expect(await names({ capability: 'summary' })).toEqual(['summarize'])
      expect(await names({ maxPrice: '9' })).toEqual(['translate'])
      expect(await names({ token: usdc })).toEqual(['summarize'])
      expect(await names({ capability: 'text', maxPrice: '8' })).toEqual([])
      expect((await searchMarketOfferings(store.db, { limit: 1 })).items).toHaveLength(1)
      await expectStoreError(searchMarketOfferings(store.db, { maxPrice: '-1' }), 'INVALID_INPUT')
      await expectStoreError(searchMarketOfferings(store.db, { minRating: 101 }), 'INVALID_INPUT')
      await expectStoreError(searchMarketOfferings(store.db, { cursor: 'made-up' }), 'INVALID_INPUT')
    })

    test('behavior: a hosted agent that is retired is gone once its listing says so', async () => {
      const agent = await insertAgent(store.db, agentParameters({ chainAgentId: '7', status: 'active' }))
      await writeListing(store.db, listing({ agentId: agent.id }))
      expect((await searchMarketOfferings(store.db)).items).toHaveLength(2)
      await updateAgent(store.db, agent.id, { status: 'retired' })
      await writeListing(store.db, listing({ agentId: agent.id, active: false }))
      expect(await searchMarketOfferings(store.db)).toEqual({ items: [], next: null })
    })

    test('behavior: ranked by the stored record, which survives a new listing; filtered by rating', async () => {
      await writeListing(store.db, listing())
      await writeListing(
        store.db,
        listing({
          chainAgentId: '8',
          name: 'Trusted',
          offerings: [{ name: 'polish', price: '50', token: usdc }],
        }),
      )
      const record = { chainAgentId: '8', completed: 3 }
      await setMarketReputation(store.db, '8', {
        reputation: record,
        score: 80,
        rating: 95,
        earned: { [usdc]: '120' },
      })
      const page = await searchMarketOfferings(store.db)
      expect(page.items.map((m) => m.offering.name)).toEqual(['polish', 'translate', 'summarize'])
      expect(page.items[0]).toMatchObject({
        reputation: record,
        offering: { score: 80, rating: 95, earned: '120' },
      })
      // A new file of the same agent keeps its record on the new offerings; earnings go by token.
      await writeListing(
        store.db,
        listing({
          chainAgentId: '8',
          name: 'Trusted',
          fileHash: '0x02',
          offerings: [
            { name: 'polish', price: '50', token: usdc },
            { name: 'shine', price: '1', token: eth },
          ],
        }),
      )
      const again = (await searchMarketOfferings(store.db)).items
      expect(again.map((m) => [m.offering.name, m.offering.earned])).toEqual([
        ['polish', '120'],
        ['shine', '0'],
        ['translate', '0'],
        ['summarize', '0'],
      ])
      const rated = await searchMarketOfferings(store.db, { minRating: 90 })
      expect(rated.items.map((m) => m.offering.name)).toEqual(['polish', 'shine'])
      expect(
        (await searchMarketOfferings(store.db, { sort: 'price' })).items.map((m) => m.offering.name),
      ).toEqual(['shine', 'translate', 'summarize', 'polish'])
      // Unknown to the market: nothing to write.
      await setMarketReputation(store.db, '99', { reputation: {}, score: 50, rating: 0, earned: {} })
      await expectStoreError(
        setMarketReputation(store.db, '8', { reputation: {}, score: 101, rating: 0, earned: {} }),
        'INVALID_INPUT',
      )
    })

    test('behavior: pages in either order never skip or repeat an offering, ties included', async () => {
      for (let i = 1; i <= 12; i++)
        await writeListing(
          store.db,
          listing({
            chainAgentId: String(100 + i),
            name: `agent ${i}`,
            offerings: [{ name: 'o', price: String(i % 3), token: usdc, capabilities: ['text'] }],
          }),
        )
      for (const i of [2, 5, 7])
        await setMarketReputation(store.db, String(100 + i), {
          reputation: {},
          score: 60 + (i % 2),
          rating: 90,
          earned: { [usdc]: String(i % 2) },
        })
      for (const sort of ['reputation', 'price'] as const) {
        const whole = (await searchMarketOfferings(store.db, { sort, limit: 200 })).items.map(
          (m) => m.offering.id,
        )
        const seen: number[] = []
        let cursor: string | undefined
        do {
          const page = await searchMarketOfferings(store.db, { sort, limit: 5, cursor })
          seen.push(...page.items.map((m) => m.offering.id))
          cursor = page.next ?? undefined
        } while (cursor)
        expect(seen).toEqual(whole)
        expect(new Set(seen).size).toBe(12)
      }
      const byPrice = (await searchMarketOfferings(store.db, { sort: 'price', limit: 1 })).next!
      await expectStoreError(searchMarketOfferings(store.db, { cursor: byPrice }), 'INVALID_INPUT')
    })
  })
})
