import { describe, expect, test } from 'vitest'
import { insertAgent, updateAgent } from './agents.ts'
import {
  getListing,
  getMarketOffering,
  listListingIds,
  listUnlistedAgents,
  searchMarketOfferings,
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
      expect(await searchMarketOfferings(store.db)).toEqual([])
      await writeListing(store.db, listing())
      expect(await searchMarketOfferings(store.db)).toHaveLength(2)
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

      const all = await searchMarketOfferings(store.db)
      // Cheapest first, compared as numbers ('9' < '10'), only active listed agents.
      expect(all.map((m) => m.offering.name)).toEqual(['translate', 'summarize'])
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
        (await searchMarketOfferings(store.db, parameters)).map((m) => m.offering.name)
      expect(await names({ text: 'SUMMAR' })).toEqual(['summarize'])
      expect(await names({ text: 'scribe' })).toEqual(['translate', 'summarize'])
      expect(await names({ text: '100%' })).toEqual(['translate'])
      expect(await names({ text: '%' })).toEqual(['translate'])
      expect(await names({ text: '_' })).toEqual([])
      expect(await names({ capability: 'summary' })).toEqual(['summarize'])
      expect(await names({ maxPrice: '9' })).toEqual(['translate'])
      expect(await names({ token: usdc })).toEqual(['summarize'])
      expect(await names({ capability: 'text', maxPrice: '8' })).toEqual([])
      expect(await searchMarketOfferings(store.db, { limit: 1 })).toHaveLength(1)
      await expectStoreError(searchMarketOfferings(store.db, { maxPrice: '-1' }), 'INVALID_INPUT')
    })

    test('behavior: a hosted agent that is retired is gone once its listing says so', async () => {
      const agent = await insertAgent(store.db, agentParameters({ chainAgentId: '7', status: 'active' }))
      await writeListing(store.db, listing({ agentId: agent.id }))
      expect(await searchMarketOfferings(store.db)).toHaveLength(2)
      await updateAgent(store.db, agent.id, { status: 'retired' })
      await writeListing(store.db, listing({ agentId: agent.id, active: false }))
      expect(await searchMarketOfferings(store.db)).toEqual([])
    })
  })
})
