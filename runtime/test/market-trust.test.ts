/**
 * Records the market can trust (findings 8 and 9 of the hardening issue), through the runtime: a
 * provider's reputation carries what it earned and how many distinct clients paid it, jobs between
 * two agents of one owner count for nothing, the market ranks by the record rather than by price
 * alone, every agent's record as a client is shown beside its reputation, and a provider may refuse
 * clients above a rejection rate or without an evaluator.
 */
import type { Devnet } from '@agora/contracts'
import type { Address } from 'viem'
import { privateKeyToAddress } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { z } from 'zod'
import { defineAgent } from '../src/define-agent.ts'
import type { AgentHandle, Runtime } from '../src/runtime.ts'
import { devnetClients, openRuntime, withDevnet } from './harness.ts'

const text = z.object({ text: z.string().min(1) })

/** A provider selling `write` at `price` dUSD, with a provider policy when given. */
const writer = (name: string, price: string, providerPolicy?: Record<string, unknown>) =>
  defineAgent({
    name,
    offerings: [
      {
        name: 'write',
        description: `${name} writes`,
        price,
        token: 'dUSD',
        capabilities: ['write'],
        input: text,
        handler: ({ text }) => ({ text: `${text}!` }),
      },
    ],
    ...(providerPolicy ? { providerPolicy } : {}),
  })

/** A client; `grumpy` rejects every delivery. */
const buyer = (name: string, grumpy = false) =>
  defineAgent({
    name,
    policy: { perJobCap: '5', budget: { amount: '50', period: 'day' } },
    evaluate: () => (grumpy ? { accept: false, reason: 'never good enough' } : { accept: true, rating: 100 }),
  })

describe('market trust', () => {
  let devnet: Devnet
  let runtime: Runtime
  let close: () => Promise<void>
  let agents: Record<string, AgentHandle>
  const chainId = async (name: string) => (await agents[name]!.info()).chainAgentId!

  const hire = async (from: string, provider: string, input = { text: 'hi' }, evaluator?: Address) => {
    const job = await agents[from]!.hire({
      provider: await chainId(provider),
      offering: 'write',
      input,
      ...(evaluator ? { evaluator } : {}),
    })
    return job.done()
  }

  beforeAll(async () => {
    devnet = await withDevnet()
    const definitions = [
      writer('scribe', '1'),
      writer('farmed', '0.5'),
      writer('picky', '1', { maxRejectionRate: 0.5 }),
      writer('strict', '1', { requireEvaluator: true }),
      buyer('alice'),
      buyer('bob'),
      buyer('farmer'),
      buyer('grump', true),
    ]
    ;({ runtime, close } = await openRuntime(devnet, { name: 'pglite' }, definitions))
    const owner = (i: number) => devnet.manifest.accounts[i]!.address
    // The farmer and the provider it farms share an owner; everyone else has one of their own.
    const owners: Record<string, Address> = {
      scribe: owner(1),
      picky: owner(1),
      strict: owner(1),
      farmed: owner(2),
      farmer: owner(2),
      alice: owner(3),
      bob: owner(4),
      grump: owner(5),
    }
    agents = {}
    for (const definition of definitions)
      agents[definition.name] = await runtime.launch(definition, { owner: owners[definition.name]! })
    for (const name of ['alice', 'bob', 'farmer', 'grump'])
      await devnetClients(devnet).fund((await agents[name]!.info()).safe!, '20')
  })
  afterAll(async () => {
    await close?.()
    await devnet?.stop()
  })

  test('default: reputation with value earned and distinct clients; a self-hire counts for nothing', async () => {
    expect((await hire('alice', 'scribe')).status).toBe('completed')
    expect((await hire('bob', 'scribe')).status).toBe('completed')
    for (let i = 0; i < 3; i++)
      expect((await hire('farmer', 'farmed', { text: `self ${i}` })).status).toBe('completed')

    const scribe = await runtime.getReputation(await chainId('scribe'))
    expect(scribe).toMatchObject({ completed: 2, rejected: 0, expired: 0, clients: 2, averageRating: 100 })
    expect(scribe.earned.find((m) => m.symbol === 'dUSD')).toMatchObject({ formatted: '1.98' })
    const farmed = await runtime.getReputation(await chainId('farmed'))
    expect(farmed).toMatchObject({ completed: 0, clients: 0, averageRating: 0 })
    // The farmer paid three times, but to its own owner's agent: not on its record either.
    expect((await runtime.getReputation(await chainId('farmer'))).asClient).toMatchObject({
      completed: 0,
      rejected: 0,
      expired: 0,
    })
    expect((await runtime.getReputation(await chainId('alice'))).asClient).toMatchObject({
      address: (await agents.alice!.info()).safe,
      completed: 1,
      rejected: 0,
      expired: 0,
      rejectionRate: 0,
    })
  })

  test('behavior: the market ranks by the record: a cheaper, farmed offering comes after an earned one', async () => {
    // Records are stored with the listings after each settlement, in the background.
    const search = async () => (await runtime.searchMarket({ capability: 'write' })).offerings
    await expect.poll(async () => (await search())[0]?.reputation?.clients, { timeout: 10_000 }).toBe(2)
    const matches = await search()
    const order = matches.map((m) => m.agent.name)
    expect(order.indexOf('scribe')).toBeLessThan(order.indexOf('farmed'))
    expect(order[0]).toBe('scribe')
    expect(matches[0]!.reputation).toMatchObject({ clients: 2, asClient: { completed: 0 } })
  })

  test('behavior: a provider refuses a client above its rejection rate, and serves one below it', async () => {
    expect((await hire('grump', 'scribe', { text: 'take it' })).status).toBe('rejected')
    expect((await runtime.getReputation(await chainId('grump'))).asClient).toMatchObject({
      rejected: 1,
      rejectionRate: 1,
    })
    const refused = await hire('grump', 'picky')
    expect(refused.status).toBe('declined')
    const activity = await runtime.listActivity(agents.picky!.id, { limit: 100 })
    expect(JSON.stringify(activity)).toMatch(/rejection rate/)
    expect((await hire('bob', 'picky')).status).toBe('completed')
  })

  test('behavior: a provider that requires an evaluator refuses a client without one', async () => {
    expect((await hire('alice', 'strict', { text: 'no judge' })).status).toBe('declined')
    const judge = privateKeyToAddress(devnet.manifest.accounts[9]!.privateKey)
    expect((await hire('alice', 'strict', { text: 'judged' }, judge)).status).toBe('completed')
  })
})
