import {
  agentIdentityRegistryAbi,
  agentModuleAbi,
  type Devnet,
  erc6551RegistryAbi,
  safeAbi,
} from '@agora/contracts'
import type { Db } from '@agora/db'
import { ConflictError } from '@agora/db'
import { getAddress, parseUnits, zeroHash } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { z } from 'zod'
import { createRuntime } from '../src/create-runtime.ts'
import { defineAgent } from '../src/define-agent.ts'
import { PolicyError } from '../src/errors.ts'
import type { AgentHandle, Runtime } from '../src/runtime.ts'
import { adapters, devnetClients, openRuntime, withDevnet } from './harness.ts'

let release: () => void = () => {}
const held = new Promise<void>((resolve) => {
  release = resolve
})

const upper = defineAgent({
  name: 'upper',
  description: 'Upper-cases text.',
  offerings: [
    {
      name: 'upper',
      description: 'Upper-cases text',
      price: '1',
      token: 'dUSD',
      capabilities: ['text'],
      input: z.object({ text: z.string().min(1) }),
      output: z.object({ text: z.string() }),
      handler: ({ text }) => ({ text: text.toUpperCase() }),
    },
    {
      name: 'broken',
      description: 'Always fails',
      price: '1',
      token: 'dUSD',
      input: z.object({}),
      handler: () => {
        throw new Error('out of order')
      },
    },
    {
      name: 'slow',
      description: 'Never finishes in time',
      price: '1',
      token: 'dUSD',
      input: z.object({}),
      handler: async () => {
        await held
        return { late: true }
      },
    },
  ],
})

const buyer = defineAgent({
  name: 'buyer',
  description: 'Buys text work.',
  policy: { perJobCap: '5', budget: { amount: '12', period: 'day' } },
  evaluate: ({ deliverable }) =>
    JSON.stringify(deliverable).includes('BAD')
      ? { accept: false, reason: 'bad words' }
      : { accept: true, rating: 80 },
})

const fee = (amount: bigint) => (amount * 100n) / 10_000n
const dusd = (v: string) => parseUnits(v, 6)

describe.each(adapters)('runtime flows on $name', (adapter) => {
  let devnet: Devnet
  let runtime: Runtime
  let db: Db
  let close: () => Promise<void>
  let provider: AgentHandle
  let client: AgentHandle
  let providerId: string
  let clientSafe: string
  let providerSafe: string
  const chain = () => devnetClients(devnet)

  beforeAll(async () => {
    if (adapter.skip) return
    devnet = await withDevnet()
    ;({ runtime, db, close } = await openRuntime(devnet, adapter, [upper, buyer]))
    const owner = devnet.manifest.accounts[1]!.address
    // The client has an owner of its own: a job between two agents of one owner counts in no record.
    const clientOwner = devnet.manifest.accounts[2]!.address
    ;[provider, client] = await Promise.all([
      runtime.launch(upper, { owner }),
      runtime.launch(buyer, { owner: clientOwner }),
    ])
    const [p, c] = await Promise.all([provider.info(), client.info()])
    providerId = p.chainAgentId!
    providerSafe = p.safe!
    clientSafe = c.safe!
    await chain().fund(clientSafe, '100')
  })
  afterAll(async () => {
    release()
    await close?.()
    await devnet?.stop()
  })

  test.skipIf(adapter.skip)('launch: identity, token-bound account and Safe, bound together', async () => {
    const agent = await provider.info()
    const { publicClient } = chain()
    const { contracts } = devnet.manifest
    expect(agent.status).toBe('active')
    const owners = await publicClient.readContract({
      address: agent.safe as never,
      abi: safeAbi,
      functionName: 'getOwners',
    })
    // The Safe is the owner's alone; the agent's key acts only through the module, within its policy.
    expect(owners.map((o) => o.toLowerCase())).toEqual([devnet.manifest.accounts[1]!.address.toLowerCase()])
    const enabled = await publicClient.readContract({
      address: agent.safe as never,
      abi: safeAbi,
      functionName: 'isModuleEnabled',
      args: [contracts.module],
    })
    expect(enabled).toBe(true)
    const onChain = await publicClient.readContract({
      address: contracts.module,
      abi: agentModuleAbi,
      functionName: 'agentOf',
      args: [agent.safe as never],
    })
    expect(onChain).toMatchObject({ key: getAddress(agent.signer), paused: false })
    const paymentAddress = await publicClient.readContract({
      address: contracts.identityRegistry,
      abi: agentIdentityRegistryAbi,
      functionName: 'paymentAddress',
      args: [BigInt(providerId)],
    })
    expect(paymentAddress).toBe(getAddress(agent.safe!))
    const account = await publicClient.readContract({
      address: contracts.erc6551Registry,
      abi: erc6551RegistryAbi,
      functionName: 'account',
      args: [
        contracts.agentAccount,
        zeroHash,
        BigInt(devnet.manifest.chainId),
        contracts.identityRegistry,
        BigInt(providerId),
      ],
    })
    expect(account).toBe(getAddress(agent.tokenBoundAccount!))
    expect(await publicClient.getCode({ address: account })).not.toBe('0x')
    expect(await runtime.registrationFile(providerId)).toMatchObject({
      type: 'https://eips.ethereum.org/EIPS/eip-8004#registration-v1',
      name: 'upper',
      active: true,
      registrations: [
        { agentId: Number(providerId), agentRegistry: `eip155:31337:${contracts.identityRegistry}` },
      ],
      offerings: [
        {
          name: 'upper',
          price: { value: '1000000', formatted: '1', symbol: 'dUSD', token: contracts.devUSD.toLowerCase() },
        },
        {},
        {},
      ],
    })
  })

  test.skipIf(adapter.skip)('launch: a name belongs to one agent; the same id again is a no-op', async () => {
    const owner = devnet.manifest.accounts[1]!.address
    const taken = await runtime.launch(defineAgent({ name: 'upper' }), { owner }).catch((e: unknown) => e)
    expect(taken).toBeInstanceOf(ConflictError)
    expect(taken).toMatchObject({ code: 'NAME_TAKEN' })
    const again = await runtime.launch(upper, { owner, id: provider.id })
    expect(again.id).toBe(provider.id)
    expect((await runtime.listAgents()).agents.filter((a) => a.name === 'upper').map((a) => a.id)).toEqual([
      provider.id,
    ])
  })

  test.skipIf(adapter.skip)('pay: exact amounts, idempotent by key', async () => {
    const before = await Promise.all([chain().dUSD(clientSafe), chain().dUSD(providerSafe)])
    const payment = await client.pay({
      to: providerId,
      amount: '1.25',
      memo: 'thanks',
      idempotencyKey: 'tip-1',
    })
    expect(payment.status).toBe('confirmed')
    const again = await client.pay({
      to: providerId,
      amount: '1.25',
      memo: 'thanks',
      idempotencyKey: 'tip-1',
    })
    expect(again.id).toBe(payment.id)
    const after = await Promise.all([chain().dUSD(clientSafe), chain().dUSD(providerSafe)])
    expect(before[0] - after[0]).toBe(dusd('1.25'))
    expect(after[1] - before[1]).toBe(dusd('1.25'))
  })

  test.skipIf(adapter.skip)('pay: one key sent many times at once pays once', async () => {
    // The provider pays (from what it was just paid), so the client's budget below is untouched.
    const clientId = (await client.info()).chainAgentId!
    const before = await chain().dUSD(clientSafe)
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        provider.pay({ to: clientId, amount: '0.5', idempotencyKey: 'back-1' }),
      ),
    )
    expect(new Set(results.map((p) => p.id)).size).toBe(1)
    expect(results.every((p) => p.status === 'confirmed')).toBe(true)
    expect((await chain().dUSD(clientSafe)) - before).toBe(dusd('0.5'))
  })

  test.skipIf(adapter.skip)('hire, deliver, complete: provider paid minus fee, rated', async () => {
    const before = await chain().dUSD(providerSafe)
    const job = await client.hire({
      provider: providerId,
      offering: 'upper',
      input: { text: 'hello' },
      maxPrice: '1',
    })
    const done = await job.done()
    expect(done.status).toBe('completed')
    expect(done.deliverable).toEqual({ text: 'HELLO' })
    expect(done.rating).toBe(80)
    expect((await chain().dUSD(providerSafe)) - before).toBe(dusd('1') - fee(dusd('1')))
    expect(await runtime.getReputation(providerId)).toMatchObject({ completed: 1, averageRating: 80 })
  })

  test.skipIf(adapter.skip)('reject: the evaluator refuses, the client is refunded', async () => {
    const before = await chain().dUSD(clientSafe)
    const job = await client.hire({ provider: providerId, offering: 'upper', input: { text: 'bad' } })
    expect((await job.done()).status).toBe('rejected')
    expect(await chain().dUSD(clientSafe)).toBe(before)
    expect(await runtime.getReputation(providerId)).toMatchObject({ completed: 1, rejected: 1 })
  })

  test.skipIf(adapter.skip)('decline: a failing handler declines, the client is refunded', async () => {
    const before = await chain().dUSD(clientSafe)
    const job = await client.hire({ provider: providerId, offering: 'broken', input: {} })
    expect((await job.done()).status).toBe('declined')
    expect(await chain().dUSD(clientSafe)).toBe(before)
    // The provider never accepted the job: a decline counts in no record.
    expect(await runtime.getReputation(providerId)).toMatchObject({ completed: 1, rejected: 1, expired: 0 })
  })

  test.skipIf(adapter.skip)('expiry: an undelivered job is refunded after its deadline', async () => {
    const before = await chain().dUSD(clientSafe)
    const job = await client.hire({ provider: providerId, offering: 'slow', input: {}, deadlineSeconds: 60 })
    await expect.poll(async () => (await job.get())?.status).toBe('funded')
    await chain().advance(120)
    expect((await job.done({ timeoutMs: 30_000 })).status).toBe('expired')
    expect(await chain().dUSD(clientSafe)).toBe(before)
    expect(await runtime.getReputation(providerId)).toMatchObject({ expired: 1 })
  })

  test.skipIf(adapter.skip)('policy: over the cap or the budget is refused before signing', async () => {
    // Spent so far today: 1.25 paid + 1 for the completed job (refunded jobs do not count).
    await client.pay({ to: providerId, amount: '5' })
    const before = await chain().dUSD(clientSafe)
    await expect(client.pay({ to: providerId, amount: '6' })).rejects.toThrow(PolicyError)
    await expect(client.pay({ to: providerId, amount: '6' })).rejects.toThrow(/per-job cap/)
    await expect(client.pay({ to: providerId, amount: '5' })).rejects.toThrow(
      /budget of 12 per day \(7.25 spent\)/,
    )
    await expect(client.pay({ to: providerId, amount: '1', token: 'ETH' })).rejects.toThrow(
      /limits are in dUSD/,
    )
    expect(await chain().dUSD(clientSafe)).toBe(before)
    const refusals = (await db.query.activity.findMany()).filter((a) => a.kind === 'guardrail')
    expect(refusals.length).toBe(4)
    // Another runtime on the same database reads what was spent today from it (no key is opened:
    // the refusal comes before signing).
    const second = await createRuntime({
      chain: { rpcUrl: devnet.rpcUrl, manifest: devnet.manifest },
      db,
      masterKey: new Uint8Array(32).fill(1),
      relayerKeys: [devnet.manifest.accounts[16]!.privateKey],
      definitions: [upper, buyer],
      log: () => {},
    })
    await expect(second.agent(client.id).pay({ to: providerId, amount: '5' })).rejects.toThrow(
      /budget of 12 per day \(7.25 spent\)/,
    )
    await second.stop()
  })

  test.skipIf(adapter.skip)(
    'lifecycle: paused agents move no money; withdraw empties the Safe to the owner; retired is final',
    async () => {
      const client0 = await client.info()
      await runtime.setAgentStatus(client.id, { status: 'paused' })
      const paused = client.pay({ to: providerId, amount: '0.1' })
      await expect(paused).rejects.toThrow(/is paused and cannot pay; resume it first/)
      await expect(paused).rejects.toMatchObject({ code: 'AGENT_PAUSED' })
      await expect(paused).rejects.toThrow(ConflictError)
      await runtime.setAgentStatus(client.id, { status: 'active' })
      const owner = devnet.manifest.accounts[2]!.address
      const [safeBefore, ownerBefore] = await Promise.all([chain().dUSD(clientSafe), chain().dUSD(owner)])
      const partial = await client.withdraw({ amount: '1.5' })
      expect(partial).toMatchObject({
        amount: { value: '1500000', formatted: '1.5', symbol: 'dUSD' },
        to: getAddress(owner),
      })
      await expect(client.withdraw({ amount: '100000' })).rejects.toThrow(/less than 100000/)
      const rest = await client.withdraw()
      expect(BigInt(rest.amount.value)).toBe(safeBefore - dusd('1.5'))
      expect(await chain().dUSD(clientSafe)).toBe(0n)
      expect((await chain().dUSD(owner)) - ownerBefore).toBe(safeBefore)
      await runtime.setAgentStatus(provider.id, { status: 'retired' })
      await expect(runtime.setAgentStatus(provider.id, { status: 'active' })).rejects.toThrow(
        /retired; that is final/,
      )
      expect((await runtime.searchMarket({ capability: 'text' })).offerings).toEqual([])
      expect(client0.status).toBe('active')
    },
  )
})
