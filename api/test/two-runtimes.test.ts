import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { devUSDAbi } from '@agora/contracts'
import { createDb } from '@agora/db'
import {
  type AgentView,
  createRuntime,
  defineAgent,
  type EmbeddedRuntime,
  type Runtime,
  startEmbeddedRuntime,
} from '@agora/runtime'
import { createAdaptorServer } from '@hono/node-server'
import { type Address, createPublicClient, createWalletClient, http, parseUnits } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type App, createApp } from '../src/app.ts'
import { upperAgent } from './upper-agent.ts'

/**
 * Two runtimes on one chain, each with its own database and its own API on a real socket: each
 * finds the other's agents in its market (read from the chain and the registration files), and
 * their agents trade through the escrow and over x402.
 */
let a: EmbeddedRuntime
let b: { runtime: Runtime; close(): Promise<void> }
const servers: ReturnType<typeof createAdaptorServer>[] = []
let urlA: string
let urlB: string

/** An HTTP server whose app is given later: its URL is known before the runtime that needs it starts. */
async function listen(): Promise<{ url: string; serve(app: App): void }> {
  let app: App | undefined
  const server = createAdaptorServer({
    fetch: (request: Request) => (app ? app.fetch(request) : new Response('starting', { status: 503 })),
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    serve: (given) => {
      app = given
    },
  }
}

/** The agents the first test launches, for the tests after it. */
const launched: Record<'sellerB' | 'buyerA', AgentView> = {} as never

const buyerAgent = defineAgent({ name: 'buyer', policy: { perJobCap: '5' } })

beforeAll(async () => {
  const [serverA, serverB] = [await listen(), await listen()]
  urlA = serverA.url
  urlB = serverB.url
  a = await startEmbeddedRuntime({ definitions: [buyerAgent, upperAgent], publicUrl: urlA, log: () => {} })
  serverA.serve(createApp({ runtime: a.runtime, db: a.db, domain: 'a.test', log: () => {} }))
  const database = await createDb()
  const runtime = await createRuntime({
    chain: { rpcUrl: a.devnet.rpcUrl, manifest: a.devnet.manifest },
    db: database.db,
    masterKey: randomBytes(32),
    relayerKeys: [10, 11].map((i) => a.devnet.manifest.accounts[i]!.privateKey),
    definitions: [buyerAgent, upperAgent],
    publicUrl: urlB,
    pollIntervalMs: 50,
    log: () => {},
  })
  await runtime.start()
  serverB.serve(createApp({ runtime, db: database.db, domain: 'b.test', log: () => {} }))
  b = {
    runtime,
    async close() {
      await runtime.stop()
      await database.close()
    },
  }
}, 120_000)

afterAll(async () => {
  for (const server of servers) server.close()
  await b?.close()
  await a?.stop()
})

const account = (i: number) => privateKeyToAccount(a.devnet.manifest.accounts[i]!.privateKey)

async function fund(to: Address, amount: string) {
  const transport = http(a.devnet.rpcUrl)
  const wallet = createWalletClient({ account: account(1), chain: a.devnet.chain, transport })
  const hash = await wallet.writeContract({
    address: a.devnet.manifest.contracts.devUSD,
    abi: devUSDAbi,
    functionName: 'transfer',
    args: [to, parseUnits(amount, 6)],
  })
  await createPublicClient({ chain: a.devnet.chain, transport }).waitForTransactionReceipt({ hash })
}

/** Waits until `runtime`'s market lists `chainAgentId`'s offering `name`, as an agent hosted elsewhere. */
async function listedIn(runtime: Runtime, chainAgentId: string, name: string) {
  await expect
    .poll(
      async () =>
        (await runtime.searchMarket({ text: name })).offerings.find(
          (m) => m.agent.chainAgentId === chainAgentId && m.offering.name === name,
        ),
      { timeout: 30_000, interval: 250 },
    )
    .toMatchObject({ agent: { hosted: false, id: null } })
  return runtime.getMarketOffering(chainAgentId, name)
}

describe('two runtimes on one chain', () => {
  test('an agent of runtime A hires an agent of runtime B through the escrow, and B hires A back', async () => {
    const seller = await (await b.runtime.launch(upperAgent, { owner: account(3).address })).info()
    const buyer = await (await a.runtime.launch(buyerAgent, { owner: account(2).address })).info()
    Object.assign(launched, { sellerB: seller, buyerA: buyer })
    await fund(buyer.safe as Address, '10')
    await listedIn(a.runtime, seller.chainAgentId!, 'upper')

    const job = await a.runtime.hire(buyer.id, {
      provider: seller.chainAgentId!,
      offering: 'upper',
      input: { text: 'across runtimes' },
    })
    const done = await a.runtime.job(job.jobId).done({ timeoutMs: 60_000 })
    expect(done).toMatchObject({
      status: 'completed',
      provider: { agentId: null, chainAgentId: seller.chainAgentId },
      deliverable: { text: 'ACROSS RUNTIMES' },
    })
    // B served it and was paid: its own record of the job, and the seller's on-chain reputation.
    await expect
      .poll(async () => (await b.runtime.getJob(job.jobId)).status, { timeout: 20_000 })
      .toBe('completed')
    expect((await b.runtime.getJob(job.jobId)).provider.agentId).toBe(seller.id)
    expect((await a.runtime.getReputation(seller.chainAgentId!)).completed).toBe(1)

    // The other way: B's buyer hires A's upper.
    const sellerA = await (await a.runtime.launch(upperAgent, { owner: account(4).address })).info()
    const buyerB = await (await b.runtime.launch(buyerAgent, { owner: account(5).address })).info()
    await fund(buyerB.safe as Address, '10')
    await listedIn(b.runtime, sellerA.chainAgentId!, 'upper')
    const back = await b.runtime.hire(buyerB.id, {
      provider: sellerA.chainAgentId!,
      offering: 'upper',
      input: { text: 'and back' },
    })
    expect(await b.runtime.job(back.jobId).done({ timeoutMs: 60_000 })).toMatchObject({
      status: 'completed',
      deliverable: { text: 'AND BACK' },
    })
  })

  test('an agent of runtime A buys an offering of runtime B over x402', async () => {
    const { sellerB: seller, buyerA: buyer } = launched
    const listed = await listedIn(a.runtime, seller.chainAgentId!, 'upper')
    expect(listed.offering.endpoints.x402).toBe(`${urlB}/agents/${seller.chainAgentId}/offerings/upper`)
    const bought = await a.runtime.payX402(buyer.id, {
      url: listed.offering.endpoints.x402!,
      method: 'POST',
      body: { text: 'paid over x402' },
      maxAmount: '1',
    })
    expect(bought.status).toBe(200)
    expect(bought.body).toMatchObject({ deliverable: { text: 'PAID OVER X402' } })
    expect(bought.payment).toMatchObject({ kind: 'x402', status: 'confirmed' })
    // B records the sale as the seller's payment, from A's buyer's hot wallet (its key, topped up
    // from its Safe through the agent module).
    const { payments: sales } = await b.runtime.listPayments(seller.id)
    expect(sales).toContainEqual(
      expect.objectContaining({
        kind: 'x402',
        status: 'confirmed',
        from: { agentId: null, address: buyer.signer.toLowerCase() },
        txHash: bought.payment?.txHash,
      }),
    )
  })

  test('an agent of another runtime that is not in the market cannot be hired', async () => {
    const buyer = launched.buyerA
    await expect(
      a.runtime.hire(buyer.id, { provider: '999999', offering: 'upper', input: { text: 'x' } }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })
})
