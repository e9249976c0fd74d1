/**
 * The market built from the chain: two runtimes on one devnet, each with its own database and its
 * own API address, find each other's agents through the identity registry and the registration
 * files each serves over HTTP; changes reach the other side on refresh; reputation comes from the
 * chain; hostile registration files are skipped with a reason and break nothing.
 */
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { agentIdentityRegistryAbi, type Devnet } from '@agora/contracts'
import { createDb } from '@agora/db'
import { parseEventLogs } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { z } from 'zod'
import { createRuntime } from '../src/create-runtime.ts'
import { defineAgent } from '../src/define-agent.ts'
import type { AgentHandle, Runtime } from '../src/runtime.ts'
import { devnetClients, withDevnet } from './harness.ts'

const text = z.object({ text: z.string().min(1) })

const seller = (name: string, offering: string, price: string) =>
  defineAgent({
    name,
    description: `${name} sells ${offering}`,
    offerings: [
      {
        name: offering,
        description: `${offering} by ${name}`,
        price,
        token: 'dUSD',
        capabilities: ['text'],
        input: text,
        output: z.object({ text: z.string() }),
        handler: ({ text }) => ({ text: `${offering}: ${text}` }),
      },
    ],
  })

const buyer = defineAgent({
  name: 'buyer',
  policy: { perJobCap: '5', budget: { amount: '50', period: 'day' } },
  evaluate: () => ({ accept: true, rating: 90 }),
})

/** An HTTP server on a free port of 127.0.0.1; `url` is its origin. */
async function listen(handler: RequestListener): Promise<{ server: Server; url: string }> {
  const server = createServer(handler)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

/** What a runtime's API would answer at `GET /registration/:id`, without the API. */
function registrationServer(runtime: () => Runtime | undefined) {
  return listen(async (request, response) => {
    const id = /^\/registration\/(\w{1,80})$/.exec(request.url ?? '')?.[1]
    const file = id
      ? await runtime()
          ?.registrationFile(id)
          .catch(() => undefined)
      : undefined
    response.writeHead(file ? 200 : 404, { 'content-type': 'application/json' })
    response.end(JSON.stringify(file ?? { error: 'not found' }))
  })
}

/** Polls `check` until it returns something other than undefined or false. */
async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = await check().catch(() => undefined)
    if (value !== undefined && value !== false) return value
    if (Date.now() > until) throw new Error(`not true after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

type Side = { runtime: Runtime; url: string; logs: string[]; close(): Promise<void> }

describe('market across runtimes', () => {
  let devnet: Devnet
  let a: Side
  let b: Side
  let hostile: { server: Server; url: string }
  let alpha: AgentHandle
  let beta: AgentHandle
  const servers: Server[] = []
  const account = (i: number) => devnet.manifest.accounts[i]!.address
  const chainIdOf = async (agent: AgentHandle) => (await agent.info()).chainAgentId!

  async function open(relayers: number[], marketRefreshMs: number): Promise<Side> {
    let runtime: Runtime | undefined
    const { server, url } = await registrationServer(() => runtime)
    servers.push(server)
    const { db, close } = await createDb()
    const logs: string[] = []
    runtime = await createRuntime({
      chain: { rpcUrl: devnet.rpcUrl, manifest: devnet.manifest },
      db,
      masterKey: randomBytes(32),
      relayerKeys: relayers.map((i) => devnet.manifest.accounts[i]!.privateKey),
      definitions: [],
      pollIntervalMs: 50,
      publicUrl: url,
      marketRefreshMs,
      log: (line) => logs.push(line),
    })
    await runtime.start()
    const started = runtime
    return {
      runtime: started,
      url,
      logs,
      async close() {
        await started.stop()
        await close()
      },
    }
  }

  /** Registers an agent straight on the registry (no runtime hosts it), pointing at `uri`. */
  async function register(uri: string): Promise<string> {
    const { publicClient, owner } = devnetClients(devnet)
    const hash = await owner(6).writeContract({
      address: devnet.manifest.contracts.identityRegistry,
      abi: agentIdentityRegistryAbi,
      functionName: 'register',
      args: [uri],
    })
    const receipt = await publicClient.waitForTransactionReceipt({ hash })
    const [registered] = parseEventLogs({
      abi: agentIdentityRegistryAbi,
      eventName: 'Registered',
      logs: receipt.logs,
    })
    return registered!.args.agentId.toString()
  }

  /** Points an agent registered by `register` at another file (a `URIUpdated` event). */
  async function setURI(chainAgentId: string, uri: string) {
    const { publicClient, owner } = devnetClients(devnet)
    const hash = await owner(6).writeContract({
      address: devnet.manifest.contracts.identityRegistry,
      abi: agentIdentityRegistryAbi,
      functionName: 'setAgentURI',
      args: [BigInt(chainAgentId), uri],
    })
    await publicClient.waitForTransactionReceipt({ hash })
  }

  /** A registration file of an agent no runtime hosts, priced in `token`. */
  const outsiderFile = (chainAgentId: string, token: string) => ({
    type: 'https://eips.ethereum.org/EIPS/eip-8004#registration-v1',
    name: 'outsider',
    description: 'An agent no runtime hosts.',
    services: [{ name: 'agora', endpoint: 'https://outsider.example/api' }],
    registrations: [
      {
        agentId: Number(chainAgentId),
        agentRegistry: `eip155:31337:${devnet.manifest.contracts.identityRegistry}`,
      },
    ],
    offerings: [
      {
        name: 'echo',
        description: 'Says it back',
        price: { value: '250000', decimals: 6, token, symbol: 'dUSD', formatted: '0.25' },
        capabilities: ['text'],
        x402: 'https://outsider.example/echo',
        unknownField: 'left out',
      },
    ],
  })

  const tokenURI = (chainAgentId: string) =>
    devnetClients(devnet).publicClient.readContract({
      address: devnet.manifest.contracts.identityRegistry,
      abi: agentIdentityRegistryAbi,
      functionName: 'tokenURI',
      args: [BigInt(chainAgentId)],
    })

  const remoteMatch = async (side: Side, chainAgentId: string) =>
    (await side.runtime.searchMarket({ capability: 'text' })).offerings.find(
      (m) => m.agent.chainAgentId === chainAgentId,
    )

  beforeAll(async () => {
    devnet = await withDevnet()
    // A's API is the registry's base: its agents need no URI of their own. B's agents carry theirs.
    a = await open([12, 13], 60_000)
    const { publicClient, owner } = devnetClients(devnet)
    const hash = await owner(0).writeContract({
      address: devnet.manifest.contracts.identityRegistry,
      abi: agentIdentityRegistryAbi,
      functionName: 'setBaseURI',
      args: [`${a.url}/registration/`],
    })
    await publicClient.waitForTransactionReceipt({ hash })
    // B rereads every listing every second: file changes reach it fast in this test.
    b = await open([14, 15], 1_000)
    hostile = await listen((request, response) => {
      const route = request.url ?? ''
      if (route === '/slow') return // never answers
      if (route === '/huge') {
        response.writeHead(200, { 'content-type': 'application/json' })
        response.end(`{"name":"${'x'.repeat(1024 * 1024)}"}`)
        return
      }
      if (route === '/malformed') {
        response.writeHead(200, { 'content-type': 'application/json' })
        response.end('{"name": "impostor", "offerings": [')
        return
      }
      if (route.startsWith('/bad-token/')) {
        const id = route.slice('/bad-token/'.length)
        response.writeHead(200, { 'content-type': 'application/json' })
        response.end(JSON.stringify(outsiderFile(id, '0x000000000000000000000000000000000000dEaD')))
        return
      }
      if (route.startsWith('/impostor/')) {
        // A copy of a real agent's file: it names that agent, not the one registered with this URI.
        void a.runtime.registrationFile(route.slice('/impostor/'.length)).then((file) => {
          response.writeHead(200, { 'content-type': 'application/json' })
          response.end(JSON.stringify(file))
        })
        return
      }
      response.writeHead(404)
      response.end()
    })
    servers.push(hostile.server)
    alpha = await a.runtime.launch(seller('alpha', 'summarize', '1'), { owner: account(3) })
    beta = await b.runtime.launch(seller('beta', 'translate', '2'), { owner: account(4) })
  })

  afterAll(async () => {
    await a?.close()
    await b?.close()
    for (const server of servers) {
      server.closeAllConnections()
      server.close()
    }
    await devnet?.stop()
  })

  test('default: each runtime lists the agents of the other, fetched from its registration files', async () => {
    const alphaId = await chainIdOf(alpha)
    const betaId = await chainIdOf(beta)
    // A's agent is named by the registry's base URI; B's carries a URI of its own (its runtime id).
    expect(await tokenURI(alphaId)).toBe(`${a.url}/registration/${alphaId}`)
    expect(await tokenURI(betaId)).toBe(`${b.url}/registration/${beta.id}`)

    const seenByA = await eventually(() => remoteMatch(a, betaId))
    expect(seenByA).toMatchObject({
      agent: { id: null, hosted: false, name: 'beta', chainAgentId: betaId, owner: account(4).toLowerCase() },
      offering: {
        name: 'translate',
        description: 'translate by beta',
        price: { formatted: '2', symbol: 'dUSD' },
        capabilities: ['text'],
        inputSchema: { type: 'object', required: ['text'] },
        outputSchema: { type: 'object' },
        endpoints: { escrow: b.url, x402: `${b.url}/agents/${betaId}/offerings/translate` },
      },
      reputation: { chainAgentId: betaId, completed: 0 },
    })
    const seenByB = await eventually(() => remoteMatch(b, alphaId))
    expect(seenByB.agent).toMatchObject({ id: null, hosted: false, name: 'alpha' })
    // Each runtime's own agent is in its own market as hosted.
    expect((await remoteMatch(a, alphaId))?.agent).toMatchObject({ id: alpha.id, hosted: true })
    expect((await remoteMatch(b, betaId))?.agent).toMatchObject({ id: beta.id, hosted: true })

    // What a client of A needs to hire B's agent: price, token, endpoints, who is paid.
    const { offering, agent } = await a.runtime.getMarketOffering(betaId, 'translate')
    expect(offering).toMatchObject({
      price: '2000000',
      token: devnet.manifest.contracts.devUSD.toLowerCase(),
      endpoints: { escrow: b.url },
    })
    expect(agent).toMatchObject({ owner: account(4).toLowerCase(), wallet: (await beta.info()).safe })
    expect(await a.runtime.getListing(betaId)).toMatchObject({
      status: 'listed',
      agentId: null,
      uri: `${b.url}/registration/${beta.id}`,
      file: { name: 'beta' },
    })
  })

  test('behavior: a changed file reaches the other runtime on its next refresh', async () => {
    const alphaId = await chainIdOf(alpha)
    await eventually(() => remoteMatch(b, alphaId))
    await a.runtime.updateAgent(alpha.id, { description: 'Summaries, shorter than ever.' })
    // Hosted here: listed again at once.
    expect((await a.runtime.getListing(alphaId)).description).toBe('Summaries, shorter than ever.')
    await eventually(
      async () => (await b.runtime.getListing(alphaId)).description === 'Summaries, shorter than ever.',
    )

    // A paused agent's file says it is inactive: its offerings leave the other market, and come back.
    await a.runtime.setAgentStatus(alpha.id, { status: 'paused' })
    expect(await remoteMatch(a, alphaId)).toBeUndefined()
    await eventually(async () => (await remoteMatch(b, alphaId)) === undefined)
    await a.runtime.setAgentStatus(alpha.id, { status: 'active' })
    await eventually(() => remoteMatch(b, alphaId))
  })

  test('behavior: reputation of another runtime’s agent comes from the chain', async () => {
    const betaId = await chainIdOf(beta)
    const client = await b.runtime.launch(buyer, { owner: account(5) })
    await devnetClients(devnet).fund((await client.info()).safe!, '10')
    const job = await (
      await client.hire({ provider: betaId, offering: 'translate', input: { text: 'hi' } })
    ).done()
    expect(job.status).toBe('completed')
    // A's indexer sees the settlement and stores the provider's record with its listing a moment later.
    await expect
      .poll(async () => (await remoteMatch(a, betaId))?.reputation, { timeout: 15_000, interval: 100 })
      .toMatchObject({ chainAgentId: betaId, completed: 1, clients: 1, averageRating: 90 })
  })

  test('behavior: hostile registration files are skipped with a reason; nothing else stops', async () => {
    const alphaId = await chainIdOf(alpha)
    const slow = await register(`${hostile.url}/slow`)
    const huge = await register(`${hostile.url}/huge`)
    const malformed = await register(`${hostile.url}/malformed`)
    const impostor = await register(`${hostile.url}/impostor/${alphaId}`)
    const nowhere = await register('')
    // A URI changed on the chain (`URIUpdated`) is read again: here, to a file priced in no token.
    const badToken = await register(`${hostile.url}/missing`)
    await setURI(badToken, `${hostile.url}/bad-token/${badToken}`)

    // While the slow file is still being waited for, a new agent of A is listed by B.
    const gamma = await a.runtime.launch(seller('gamma', 'rhyme', '0.5'), { owner: account(3) })
    await eventually(async () => remoteMatch(b, await chainIdOf(gamma)))
    await expect(b.runtime.getListing(slow)).rejects.toMatchObject({ code: 'NOT_FOUND' })

    const reasons: Record<string, RegExp> = {
      [huge]: /^it is larger than 262144 bytes$/,
      [malformed]: /^it is not JSON$/,
      [impostor]: new RegExp(`^it does not name agent ${impostor} of eip155:31337:`),
      // No URI of its own: the base URI names A's API, which hosts no such agent.
      [nowhere]: /^it answered HTTP 404$/,
      [slow]: /^it did not arrive within 5000 ms$/,
      [badToken]: /^offering "echo": its price is in 0x0+dEaD, which is not a token of this chain$/,
    }
    for (const [id, reason] of Object.entries(reasons)) {
      const listing = await eventually(async () => {
        const row = await b.runtime.getListing(id)
        return row.status === 'skipped' && row.error ? row : undefined
      })
      expect(listing.error, id).toMatch(reason)
      expect(listing.owner).toBe(account(6).toLowerCase())
      expect(
        b.logs.some((line) => line.startsWith(`market: agent ${id} skipped, its registration file`)),
      ).toBe(true)
    }
    // The market works as before, with none of them in it.
    const { offerings: market } = await b.runtime.searchMarket()
    expect(market.map((m) => m.agent.name)).toEqual(expect.arrayContaining(['alpha', 'beta', 'gamma']))
    for (const id of Object.keys(reasons)) expect(market.map((m) => m.agent.chainAgentId)).not.toContain(id)
    expect((await a.runtime.health()).database).toBe('ok')
  }, 30_000)

  test('behavior: an agent no runtime hosts, its file in a data: URI, is listed by both', async () => {
    const id = await register('')
    const file = outsiderFile(id, devnet.manifest.contracts.devUSD)
    await setURI(id, `data:application/json;base64,${Buffer.from(JSON.stringify(file)).toString('base64')}`)
    for (const side of [a, b]) {
      const match = await eventually(() => remoteMatch(side, id))
      expect(match).toMatchObject({
        agent: { id: null, hosted: false, name: 'outsider', owner: account(6).toLowerCase() },
        offering: {
          name: 'echo',
          price: { value: '250000', formatted: '0.25', symbol: 'dUSD' },
          inputSchema: null,
          outputSchema: null,
          endpoints: { x402: 'https://outsider.example/echo', escrow: 'https://outsider.example/api' },
        },
      })
      // No wallet bound: payments to it go to its owner (`paymentAddress`).
      expect((await side.runtime.getMarketOffering(id, 'echo')).agent.wallet).toBeNull()
      expect((await side.runtime.getListing(id)).file).not.toHaveProperty('offerings.0.unknownField')
    }
  })
})
