import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import type { WebhookReceiver } from '@agora/agents'
import { serve } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { problemOf, startTestApi, type TestApi } from './harness.ts'
import { startSellerService } from './webhook.ts'

type Launched = { id: string; chainAgentId: string; tokenBoundAccount: string; safe: string }

let api: TestApi
let service: WebhookReceiver // alice's service: answers { received: input }
let owner: { token: string; address: string }
let stranger: { token: string; address: string }
let alice: Launched // sells `summarize`
let bob: Launched // a client, funded with dUSD

const summarizer = {
  name: 'alice',
  description: 'Summarizes text',
  instructions: 'Be brief.',
  offerings: [
    {
      name: 'summarize',
      description: 'Summarizes a text',
      price: '1',
      token: 'dUSD',
      capabilities: ['summarize'],
      input: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
      webhook: 'http://127.0.0.1:9/agora', // the service's own URL at launch
    },
  ],
  policy: { perJobCap: '5', budget: { amount: '50', period: 'day' } },
}
const offering = summarizer.offerings[0]!
const model = { provider: 'openai-compatible', model: 'm', baseURL: 'http://127.0.0.1:9/v1' }
const prompted = {
  ...offering,
  webhook: undefined,
  output: { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] },
  prompt: 'Summarize {{text}}.',
}

async function launch(body: unknown, token: string): Promise<Launched> {
  const response = await api.call('POST', '/agents', body, token)
  expect(response.status, await response.clone().text()).toBe(201)
  return (await response.json()) as Launched
}

async function dUSD(agent: Launched): Promise<string> {
  const response = await api.app.request(`/agents/${agent.id}/balances`)
  const { balances } = (await response.json()) as { balances: { symbol: string; value: string }[] }
  return balances.find((b) => b.symbol === 'dUSD')!.value
}

beforeAll(async () => {
  ;[api, service] = await Promise.all([startTestApi(), startSellerService()])
  owner = await api.signIn(2)
  stranger = await api.signIn(3)
  alice = await launch(
    { ...summarizer, offerings: [{ ...summarizer.offerings[0]!, webhook: service.url }] },
    owner.token,
  )
  bob = await launch({ name: 'bob', policy: { perJobCap: '5' } }, owner.token)
  await api.fund(bob.safe, '10')
})
afterAll(async () => {
  await api?.stop()
  await service?.close()
})

describe('POST /agents', () => {
  test('default: launches with an identity, a token-bound account and a Safe owned with the signer', async () => {
    expect(alice).toMatchObject({
      id: expect.stringMatching(/^agt_/),
      name: 'alice',
      status: 'active',
      offerings: [{ name: 'summarize', price: { formatted: '1', symbol: 'dUSD', value: '1000000' } }],
      chainAgentId: expect.stringMatching(/^\d+$/),
      tokenBoundAccount: expect.stringMatching(/^0x[0-9a-f]{40}$/),
      safe: expect.stringMatching(/^0x[0-9a-f]{40}$/),
    })
    const agent = await (await api.app.request(`/agents/${alice.id}`)).json()
    expect(agent).toMatchObject({ name: 'alice', owner: owner.address.toLowerCase(), status: 'active' })
    expect(agent).not.toHaveProperty('encryptedKey')
    expect(agent).not.toHaveProperty('instructions')
  })

  test('behavior: a name already taken is a 409', async () => {
    const response = await api.call('POST', '/agents', { name: 'alice' }, stranger.token)
    expect((await problemOf(response)).status).toBe(409)
  })

  test('behavior: bad definitions are 400 problems naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ name: 'x', admin: true }, '(body)'],
      [{ name: 42 }, 'name'],
      [{ name: 'x', offerings: [{ ...summarizer.offerings[0], price: '-1' }] }, 'offerings.0.price'],
      [{ name: 'x', offerings: [{ ...summarizer.offerings[0], price: 1 }] }, 'offerings.0.price'],
      [{ name: 'x', offerings: [{ ...summarizer.offerings[0], price: '0' }] }, 'offerings.0.price'],
      [{ name: 'x', offerings: [{ ...summarizer.offerings[0], handler: 'rm -rf' }] }, 'offerings.0'],
      [{ name: 'x', policy: { budget: { amount: '1', period: 'year' } } }, 'policy.budget.period'],
      [{ name: 'x', offerings: 'many' }, 'offerings'],
      // Served for real: a webhook that is a URL, a schema that is a JSON Schema, a template whose
      // fields the input has, a prompt and a model together.
      [{ name: 'x', offerings: [{ ...offering, webhook: 'not a url' }] }, 'offerings.0.webhook'],
      [{ name: 'x', offerings: [{ ...offering, input: { type: 'strng' } }] }, 'offerings.0.input'],
      [{ name: 'x', offerings: [{ ...offering, input: { properties: 7 } }] }, 'offerings.0.input'],
      [{ name: 'x', offerings: [{ ...offering, output: { required: 'all' } }] }, 'offerings.0.output'],
      [
        { name: 'x', model, offerings: [{ ...prompted, prompt: 'Summarize {{txt}}.' }] },
        'offerings.0.prompt',
      ],
      [{ name: 'x', offerings: [prompted] }, 'offerings.0.prompt'],
      [{ name: 'x', model, offerings: [{ ...prompted, output: undefined }] }, 'offerings.0.output'],
      [{ name: 'x', offerings: [{ ...offering, webhook: undefined }] }, 'offerings.0'],
      [{ name: 'x', model: { ...model, provider: 'skynet' } }, 'model.provider'],
    ]
    const before = (await (await api.call('GET', '/agents')).json()) as { agents: unknown[] }
    for (const [body, path] of cases) {
      const problem = await problemOf(await api.call('POST', '/agents', body, owner.token))
      expect(problem.status, JSON.stringify(body)).toBe(400)
      expect(
        problem.errors?.map((e) => e.path),
        JSON.stringify(body),
      ).toContain(path)
    }
    const after = (await (await api.call('GET', '/agents')).json()) as { agents: unknown[] }
    expect(after.agents).toHaveLength(before.agents.length)
  })

  test('behavior: an unknown policy token is refused', async () => {
    const problem = await problemOf(
      await api.call('POST', '/agents', { name: 'y', policy: { token: 'NOPE' } }, owner.token),
    )
    expect(problem.status).toBe(400)
  })

  test('behavior: an unknown token is refused before anything is launched', async () => {
    const body = { name: 'x', offerings: [{ ...summarizer.offerings[0], token: 'NOPE' }] }
    const problem = await problemOf(await api.call('POST', '/agents', body, owner.token))
    expect(problem).toMatchObject({ status: 400, detail: expect.stringMatching(/Unknown token/) })
    expect((await api.embedded.runtime.listAgents()).agents.map((a) => a.name)).not.toContain('x')
  })
})

describe('GET /agents', () => {
  test('default: lists everyone; ?owner= narrows it', async () => {
    const carol = await launch({ name: 'carol' }, stranger.token)
    const all = (await (await api.app.request('/agents')).json()) as { agents: { id: string }[] }
    expect(all.agents.map((a) => a.id)).toEqual(expect.arrayContaining([alice.id, bob.id, carol.id]))
    const mine = (await (await api.app.request(`/agents?owner=${owner.address}`)).json()) as {
      agents: { id: string }[]
    }
    expect(mine.agents.map((a) => a.id).sort()).toEqual([alice.id, bob.id].sort())
  })

  test('behavior: a bad owner is a 400; an unknown agent a 404', async () => {
    expect((await problemOf(await api.app.request('/agents?owner=me'))).errors?.[0]?.path).toBe('owner')
    expect((await problemOf(await api.app.request('/agents/nope'))).status).toBe(404)
  })

  test('behavior: pages never skip or repeat an agent, while agents are launched between them', async () => {
    type Page = { agents: { id: string; name: string }[]; next: string | null }
    const seen: string[] = []
    const launched: string[] = []
    let url: string | null = '/agents?limit=1'
    for (let page = 0; url; page++) {
      const body = (await (await api.app.request(url)).json()) as Page
      expect(body.agents.length).toBeLessThanOrEqual(1)
      seen.push(...body.agents.map((a) => a.id))
      // A launch while the pages are read: it comes at the end, never in a page already read.
      if (page < 3) launched.push((await launch({ name: `paged-${page}` }, stranger.token)).id)
      url = body.next ? `/agents?limit=1&cursor=${encodeURIComponent(body.next)}` : null
    }
    expect(new Set(seen).size).toBe(seen.length)
    expect(seen).toEqual(expect.arrayContaining(launched))
    const whole = (await (await api.app.request('/agents?limit=200')).json()) as Page
    expect(seen).toEqual(whole.agents.map((a) => a.id))
    expect(whole.next).toBeNull()
  })

  test('behavior: a bad limit or cursor is a 400 saying what is wrong', async () => {
    for (const limit of ['0', '201', 'abc', '1.5'])
      expect(
        (await problemOf(await api.app.request(`/agents?limit=${limit}`))).errors?.[0]?.path,
        limit,
      ).toBe('limit')
    const made = await problemOf(await api.app.request('/agents?cursor=bm90LWEtY3Vyc29y'))
    expect(made).toMatchObject({
      status: 400,
      detail: expect.stringMatching(/cursor is not one this list gave/),
    })
    // A cursor of another list (here one of an agent's tasks) is refused too.
    const crossed = Buffer.from(JSON.stringify(['tasks', 'task_1'])).toString('base64url')
    expect((await problemOf(await api.app.request(`/agents?cursor=${crossed}`))).status).toBe(400)
  })
})

describe('GET /registration/:chainAgentId', () => {
  test('default: the ERC-8004 registration file', async () => {
    const file = await (await api.app.request(`/registration/${alice.chainAgentId}`)).json()
    expect(file).toMatchObject({
      type: 'https://eips.ethereum.org/EIPS/eip-8004#registration-v1',
      name: 'alice',
      registrations: [
        { agentId: Number(alice.chainAgentId), agentRegistry: expect.stringMatching(/^eip155:\d+:0x/) },
      ],
      offerings: [{ name: 'summarize', price: { formatted: '1', symbol: 'dUSD' } }],
    })
  })

  test('behavior: unknown ids are 404', async () => {
    expect((await problemOf(await api.app.request('/registration/999999'))).status).toBe(404)
    expect((await problemOf(await api.app.request('/registration/abc'))).status).toBe(404)
  })
})

describe('POST /agents/:id/pay', () => {
  test('behavior: a stranger gets 403 and nothing moves', async () => {
    const before = [await dUSD(bob), await dUSD(alice)]
    const response = await api.call(
      'POST',
      `/agents/${bob.id}/pay`,
      { to: alice.chainAgentId, amount: '1' },
      stranger.token,
    )
    expect((await problemOf(response)).status).toBe(403)
    const hire = await api.call(
      'POST',
      `/agents/${bob.id}/hire`,
      { provider: alice.chainAgentId, offering: 'summarize', input: { text: 'x' } },
      stranger.token,
    )
    expect((await problemOf(hire)).status).toBe(403)
    expect([await dUSD(bob), await dUSD(alice)]).toEqual(before)
    expect(await api.embedded.runtime.agent(bob.id).payments()).toEqual([])
    expect(await api.embedded.runtime.agent(bob.id).jobs()).toEqual([])
  })

  test('behavior: signed out is 401', async () => {
    const response = await api.call('POST', `/agents/${bob.id}/pay`, { to: alice.chainAgentId, amount: '1' })
    expect((await problemOf(response)).status).toBe(401)
  })

  test('behavior: bad amounts are 400 problems', async () => {
    for (const amount of ['-1', '0', 1, '1e3', 'lots']) {
      const response = await api.call(
        'POST',
        `/agents/${bob.id}/pay`,
        { to: alice.chainAgentId, amount },
        owner.token,
      )
      expect((await problemOf(response)).errors?.[0]?.path).toBe('amount')
    }
    const extra = await api.call(
      'POST',
      `/agents/${bob.id}/pay`,
      { to: alice.chainAgentId, amount: '1', from: 'x' },
      owner.token,
    )
    expect((await problemOf(extra)).status).toBe(400)
  })

  test('behavior: the policy refuses more than the per-job cap with a 422', async () => {
    const response = await api.call(
      'POST',
      `/agents/${bob.id}/pay`,
      { to: alice.chainAgentId, amount: '6' },
      owner.token,
    )
    expect((await problemOf(response)).type).toBe('urn:agora:problem:policy-refused')
  })

  test('default: the owner pays from the Safe', async () => {
    const response = await api.call(
      'POST',
      `/agents/${bob.id}/pay`,
      { to: alice.chainAgentId, amount: '1.5', memo: 'thanks' },
      owner.token,
    )
    expect(response.status, await response.clone().text()).toBe(200)
    expect(await response.json()).toMatchObject({ status: 'confirmed', txHash: expect.stringMatching(/^0x/) })
    expect(await dUSD(bob)).toBe('8500000')
  })
})

describe('POST /agents/:id/hire', () => {
  test('default: the owner hires; the offering delivers through its webhook; between its own agents it counts in no record', async () => {
    const response = await api.call(
      'POST',
      `/agents/${bob.id}/hire`,
      { provider: alice.chainAgentId, offering: 'summarize', input: { text: 'hello' }, maxPrice: '2' },
      owner.token,
    )
    expect(response.status, await response.clone().text()).toBe(202)
    const { jobId } = (await response.json()) as { jobId: string }
    const job = await api.embedded.runtime.job(jobId).done()
    expect(job.status).toBe('completed')
    const reputation = await (await api.app.request(`/agents/${alice.id}/reputation`)).json()
    expect(reputation).toMatchObject({ chainAgentId: alice.chainAgentId, completed: 0, clients: 0 })
  })

  test('behavior: a client of another owner hires; reputation counts it, and the client’s record', async () => {
    const dave = await launch({ name: 'dave', policy: { perJobCap: '5' } }, stranger.token)
    await api.fund(dave.safe, '10')
    const response = await api.call(
      'POST',
      `/agents/${dave.id}/hire`,
      { provider: alice.chainAgentId, offering: 'summarize', input: { text: 'hello' }, maxPrice: '2' },
      stranger.token,
    )
    expect(response.status, await response.clone().text()).toBe(202)
    const { jobId } = (await response.json()) as { jobId: string }
    expect((await api.embedded.runtime.job(jobId).done()).status).toBe('completed')
    const reputation = await (await api.app.request(`/agents/${alice.id}/reputation`)).json()
    expect(reputation).toMatchObject({
      chainAgentId: alice.chainAgentId,
      completed: 1,
      clients: 1,
      averageRating: 100,
      earned: expect.arrayContaining([expect.objectContaining({ symbol: 'dUSD', formatted: '0.99' })]),
    })
    const { asClient } = (await (await api.app.request(`/agents/${dave.id}/reputation`)).json()) as {
      asClient: unknown
    }
    expect(asClient).toMatchObject({ address: dave.safe, completed: 1, rejected: 0, rejectionRate: 0 })
  })

  test('behavior: an unknown offering is 404; a bad provider id 400', async () => {
    const missing = await api.call(
      'POST',
      `/agents/${bob.id}/hire`,
      { provider: alice.chainAgentId, offering: 'nope', input: {} },
      owner.token,
    )
    expect((await problemOf(missing)).status).toBe(404)
    const bad = await api.call(
      'POST',
      `/agents/${bob.id}/hire`,
      { provider: '-3', offering: 'summarize', input: {} },
      owner.token,
    )
    expect((await problemOf(bad)).errors?.[0]?.path).toBe('provider')
  })
})

describe('GET /market/offerings', () => {
  test('default: offerings by capability, with the published input schema and reputation', async () => {
    type Matches = {
      offerings: { agent: { id: string }; offering: Record<string, unknown>; reputation: unknown }[]
    }
    const search = async () =>
      ((await (await api.app.request('/market/offerings?capability=summarize')).json()) as Matches).offerings
    // The provider's record is stored with its listing after the jobs above settled: a moment later.
    await expect
      .poll(async () => (await search())[0]?.reputation, { timeout: 10_000 })
      .toMatchObject({ completed: 1 })
    const offerings = await search()
    expect(offerings).toHaveLength(1)
    expect(offerings[0]).toMatchObject({
      agent: { id: alice.id },
      offering: { name: 'summarize', inputSchema: { type: 'object', required: ['text'] } },
      reputation: { chainAgentId: alice.chainAgentId, completed: 1, clients: 1, averageRating: 100 },
    })
  })

  test('behavior: filters by price and text', async () => {
    const cheap = await (await api.app.request('/market/offerings?maxPrice=0.5&token=dUSD')).json()
    expect(cheap).toEqual({ offerings: [], next: null })
    const byText = (await (await api.app.request('/market/offerings?text=summar')).json()) as {
      offerings: unknown[]
    }
    expect(byText.offerings).toHaveLength(1)
  })

  test('behavior: bad queries are 400 problems', async () => {
    for (const query of [
      'maxPrice=-1&token=dUSD',
      'minRating=abc',
      'minRating=101',
      'maxPrice=1',
      'color=red',
      'token=NOPE',
      'sort=cheapest',
      'limit=0',
      'cursor=xyz',
    ]) {
      expect((await problemOf(await api.app.request(`/market/offerings?${query}`))).status, query).toBe(400)
    }
  })
})

describe('GET /agents/:id/events', () => {
  test('behavior: over a real socket, events arrive as they happen and resume after Last-Event-ID', async () => {
    const server = serve({ fetch: api.app.fetch, port: 0, hostname: '127.0.0.1' })
    await once(server, 'listening')
    const { port } = server.address() as AddressInfo
    try {
      const controller = new AbortController()
      // As its owner: memos are the owner's (and the payee's) to read.
      const response = await fetch(`http://127.0.0.1:${port}/agents/${bob.id}/events`, {
        headers: { authorization: `Bearer ${owner.token}` },
        signal: controller.signal,
      })
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toContain('text/event-stream')
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
      let text = ''
      const until = async (pattern: RegExp) => {
        while (!pattern.test(text)) {
          const { value, done } = await reader.read()
          if (done) throw new Error(`stream ended before ${pattern}`)
          text += value
        }
      }
      await until(/"event":"launched"/)
      await api.call(
        'POST',
        `/agents/${bob.id}/pay`,
        { to: alice.chainAgentId, amount: '0.1', memo: 'socket' },
        owner.token,
      )
      await until(/"memo":"socket"/)
      controller.abort()
      const last = Math.max(...[...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1])))
      const resumed = await fetch(`http://127.0.0.1:${port}/agents/${bob.id}/events`, {
        headers: { 'last-event-id': String(last), authorization: `Bearer ${owner.token}` },
      })
      const resumedReader = resumed.body!.pipeThrough(new TextDecoderStream()).getReader()
      await api.call(
        'POST',
        `/agents/${bob.id}/pay`,
        { to: alice.chainAgentId, amount: '0.1', memo: 'after' },
        owner.token,
      )
      let more = ''
      while (!/"memo":"after"/.test(more)) more += (await resumedReader.read()).value ?? ''
      // Nothing at or before the last id seen is sent again.
      expect([...more.matchAll(/^id: (\d+)$/gm)].every((m) => Number(m[1]) > last)).toBe(true)
      await resumedReader.cancel()
    } finally {
      server.close()
    }
  })

  test('default: the stored feed after Last-Event-ID, then live events', async () => {
    const controller = new AbortController()
    const response = await api.app.request(`/agents/${bob.id}/events`, {
      headers: { authorization: `Bearer ${owner.token}` },
      signal: controller.signal,
    })
    expect(response.headers.get('content-type')).toContain('text/event-stream')
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
    let text = ''
    const until = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read()
        if (done) throw new Error(`stream ended before ${pattern}`)
        text += value
      }
    }
    await until(/"event":"launched"/)
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    await until(/event: payment/)

    // Live: a new payment appears without reconnecting.
    const seen = text.length
    await api.call(
      'POST',
      `/agents/${bob.id}/pay`,
      { to: alice.chainAgentId, amount: '0.25', memo: 'live' },
      owner.token,
    )
    await until(/"memo":"live"|250000/)
    expect(text.length).toBeGreaterThan(seen)
    await reader.cancel()
    controller.abort()

    // Resuming after the last id sends only what came later.
    const last = Math.max(...[...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1])))
    const resumed = await api.app.request(`/agents/${bob.id}/events`, {
      headers: { 'last-event-id': String(last - 1), authorization: `Bearer ${owner.token}` },
    })
    const resumedReader = resumed.body!.pipeThrough(new TextDecoderStream()).getReader()
    const { value } = await resumedReader.read()
    expect([...value!.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))).toEqual([last])
    await resumedReader.cancel()
    // Closed streams stop listening: none is left open (this test's nor the socket test's).
    const streams = async () =>
      ((await (await api.app.request('/health')).json()) as { streams: number }).streams
    await expect.poll(streams).toBe(0)
  })

  test('behavior: a bad Last-Event-ID is 400; an unknown agent 404', async () => {
    const bad = await api.app.request(`/agents/${bob.id}/events`, { headers: { 'last-event-id': 'x' } })
    expect((await problemOf(bad)).status).toBe(400)
    expect((await problemOf(await api.app.request('/agents/nope/events'))).status).toBe(404)
  })
})
