import { createPublicClient, erc20Abi, http, parseEther, parseUnits } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { problemOf, startTestApi, type TestApi } from './harness.ts'

// The devnet faucet: one request funds an address or an agent's Safe with dUSD and a little ETH;
// only on the embedded devnet; a few requests a minute per client and per target.

type Launched = { id: string; chainAgentId: string; safe: string }
type Grant = {
  to: string
  agentId: string | null
  dUSD: { value: string; symbol: string; formatted: string }
  eth: { value: string; symbol: string; formatted: string }
  transactions: string[]
}

let api: TestApi
let agent: Launched
let clients = 0

/** A faucet request from a client of its own (the per-client limit is tested on its own). */
function faucet(body: unknown, client = `10.0.0.${++clients}`) {
  return api.app.request(
    '/devnet/faucet',
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    { incoming: { socket: { remoteAddress: client } } },
  )
}

async function balances(address: string) {
  const publicClient = createPublicClient({ transport: http(api.embedded.devnet.rpcUrl) })
  const [dUSD, eth] = await Promise.all([
    publicClient.readContract({
      address: api.embedded.devnet.manifest.contracts.devUSD,
      abi: erc20Abi,
      functionName: 'balanceOf',
      args: [address as `0x${string}`],
    }),
    publicClient.getBalance({ address: address as `0x${string}` }),
  ])
  return { dUSD, eth }
}

beforeAll(async () => {
  api = await startTestApi()
  const owner = await api.signIn(2)
  const response = await api.call('POST', '/agents', { name: 'funded' }, owner.token)
  expect(response.status, await response.clone().text()).toBe(201)
  agent = (await response.json()) as Launched
})
afterAll(async () => {
  await api?.stop()
})

describe('POST /devnet/faucet', () => {
  test('default: an agent id funds its Safe with 100 dUSD and 0.01 ETH, on chain', async () => {
    const before = await balances(agent.safe)
    const response = await faucet({ to: agent.id })
    expect(response.status, await response.clone().text()).toBe(200)
    const grant = (await response.json()) as Grant
    expect(grant).toMatchObject({
      to: agent.safe,
      agentId: agent.id,
      dUSD: { value: '100000000', symbol: 'dUSD', formatted: '100' },
      eth: { value: parseEther('0.01').toString(), symbol: 'ETH', formatted: '0.01' },
    })
    expect(grant.transactions).toHaveLength(2)
    const after = await balances(agent.safe)
    expect(after.dUSD - before.dUSD).toBe(parseUnits('100', 6))
    expect(after.eth - before.eth).toBe(parseEther('0.01'))
    // What the agent's own route reads.
    const read = await api.call('GET', `/agents/${agent.id}/balances`)
    const held = ((await read.json()) as { balances: { symbol: string; value: string }[] }).balances
    expect(held.find((b) => b.symbol === 'dUSD')!.value).toBe(after.dUSD.toString())
  })

  test('behavior: by on-chain id with an amount and no ETH; to a plain address', async () => {
    const before = await balances(agent.safe)
    const byChainId = await faucet({ to: agent.chainAgentId, amount: '2.5', eth: '0' })
    expect(byChainId.status, await byChainId.clone().text()).toBe(200)
    expect(((await byChainId.json()) as Grant).transactions).toHaveLength(1)
    const after = await balances(agent.safe)
    expect(after.dUSD - before.dUSD).toBe(2_500_000n)
    expect(after.eth).toBe(before.eth)

    const person = '0x00000000000000000000000000000000000fa0ce'
    const toPerson = await faucet({ to: person.toUpperCase().replace('0X', '0x'), amount: '1000', eth: '1' })
    expect(toPerson.status, await toPerson.clone().text()).toBe(200)
    expect(((await toPerson.json()) as Grant).to).toBe(person)
    expect(await balances(person)).toEqual({ dUSD: parseUnits('1000', 6), eth: parseEther('1') })
  })

  test('behavior: bad requests are a precise 400 (404 for an unknown agent) and fund nothing', async () => {
    const before = await balances(agent.safe)
    const cases: [unknown, string][] = [
      [{}, 'to'],
      [{ to: 'nobody' }, 'to'],
      [{ to: '0x1234' }, 'to'],
      [{ to: agent.id, amount: '1000.01' }, 'amount'],
      [{ to: agent.id, amount: '0' }, 'amount'],
      [{ to: agent.id, amount: '-1' }, 'amount'],
      [{ to: agent.id, amount: 5 }, 'amount'],
      [{ to: agent.id, amount: '1.0000001' }, 'amount'],
      [{ to: agent.id, eth: '1.5' }, 'eth'],
      // Not a number at all: refused by the pattern, never parsed (it used to be a 500).
      [{ to: agent.id, amount: '\u{10fff4}\u0012x' }, 'amount'],
      [{ to: agent.id, eth: 'lots' }, 'eth'],
      [{ to: agent.id, extra: true }, '(body)'],
    ]
    for (const [body, path] of cases) {
      const problem = await problemOf(await faucet(body))
      expect(problem.status, JSON.stringify(body)).toBe(400)
      expect(
        problem.errors?.map((e) => e.path),
        JSON.stringify(body),
      ).toContain(path)
    }
    for (const to of ['agt_missing', '999999'])
      expect((await problemOf(await faucet({ to }))).status, to).toBe(404)
    expect(await balances(agent.safe)).toEqual(before)
  })

  test('behavior: at most 5 a minute per target and per client, then 429 with Retry-After', async () => {
    const target = '0x00000000000000000000000000000000000fa11e'
    for (let i = 0; i < 5; i++) expect((await faucet({ to: target, amount: '1', eth: '0' })).status).toBe(200)
    const refused = await faucet({ to: target, amount: '1', eth: '0' })
    expect(await problemOf(refused)).toMatchObject({ status: 429, code: 'RATE_LIMITED' })
    const retryAfter = Number(refused.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(60)
    expect((await balances(target)).dUSD).toBe(parseUnits('5', 6))

    // One client, five other targets: the sixth request is refused before it is even read.
    const client = '10.9.9.9'
    for (let i = 0; i < 5; i++) {
      const to = `0x${(0xb0b0 + i).toString(16).padStart(40, '0')}`
      expect((await faucet({ to, amount: '1', eth: '0' }, client)).status).toBe(200)
    }
    const flooded = await faucet({ to: 'not even valid' }, client)
    expect(await problemOf(flooded)).toMatchObject({ status: 429, code: 'RATE_LIMITED' })
    expect(Number(flooded.headers.get('retry-after'))).toBeGreaterThan(0)
  })

  test('behavior: absent off the devnet (404), and documented only on it', async () => {
    const onChain = api.appWith()
    const response = await onChain.request('/devnet/faucet', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: agent.id }),
    })
    expect(await problemOf(response)).toMatchObject({ status: 404, code: 'ROUTE_NOT_FOUND' })
    const paths = async (app: { request: typeof onChain.request }) =>
      Object.keys(((await (await app.request('/openapi.json')).json()) as { paths: object }).paths)
    expect(await paths(onChain)).not.toContain('/devnet/faucet')
    expect(await paths(api.app)).toContain('/devnet/faucet')
  })
})
