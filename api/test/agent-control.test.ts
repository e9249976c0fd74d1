import { defineAgent } from '@agora/runtime'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { problemOf, startTestApi, type TestApi } from './harness.ts'
import { startScriptedModel } from './scripted-model.ts'
import { startSellerService } from './webhook.ts'

type Launched = { id: string; chainAgentId: string; safe: string }

let api: TestApi
let stub: Awaited<ReturnType<typeof startScriptedModel>>
let service: Awaited<ReturnType<typeof startSellerService>> // the seller's service: answers { received: input }
let owner: { token: string; address: string }
let stranger: { token: string; address: string }
let seller: Launched // sells `echo` for 1 dUSD
let buyer: Launched // funded with dUSD
let jobId: string

async function launch(body: unknown, token: string): Promise<Launched> {
  const response = await api.call('POST', '/agents', body, token)
  expect(response.status, await response.clone().text()).toBe(201)
  return (await response.json()) as Launched
}

async function dUSD(agent: Launched): Promise<bigint> {
  const response = await api.app.request(`/agents/${agent.id}/balances`)
  const { balances } = (await response.json()) as { balances: { symbol: string; value: string }[] }
  return BigInt(balances.find((b) => b.symbol === 'dUSD')!.value)
}

type Event = { kind: string; data: Record<string, unknown> }

/** Reads an agent's event stream from the start, as its owner, until an event matches; returns the events read. */
async function eventsUntil(agentId: string, match: (event: Event) => boolean): Promise<Event[]> {
  const response = await api.call('GET', `/agents/${agentId}/events`, undefined, owner.token)
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  let text = ''
  const events = () => [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!) as Event)
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<{ value: string; done: true }>((resolve) => {
    timer = setTimeout(() => resolve({ value: '', done: true }), 20_000)
  })
  try {
    while (!events().some(match)) {
      const { value, done } = await Promise.race([reader.read(), timeout])
      if (done) throw new Error(`no matching event in:\n${text}`)
      text += value
    }
    return events()
  } finally {
    clearTimeout(timer)
    await reader.cancel()
  }
}

beforeAll(async () => {
  ;[api, stub, service] = await Promise.all([startTestApi(), startScriptedModel(), startSellerService()])
  owner = await api.signIn(2)
  stranger = await api.signIn(3)
  seller = await launch(
    {
      name: 'seller',
      description: 'Echoes',
      offerings: [
        { name: 'echo', description: 'Echoes its input', price: '1', token: 'dUSD', webhook: service.url },
      ],
    },
    owner.token,
  )
  buyer = await launch({ name: 'buyer', policy: { perJobCap: '5' } }, owner.token)
  await api.fund(buyer.safe, '10')
  const paid = await api.call(
    'POST',
    `/agents/${buyer.id}/pay`,
    { to: seller.chainAgentId, amount: '0.5', memo: 'tip' },
    owner.token,
  )
  expect(paid.status, await paid.clone().text()).toBe(200)
  const hired = await api.call(
    'POST',
    `/agents/${buyer.id}/hire`,
    { provider: seller.chainAgentId, offering: 'echo', input: { text: 'hello' } },
    owner.token,
  )
  expect(hired.status, await hired.clone().text()).toBe(202)
  jobId = ((await hired.json()) as { jobId: string }).jobId
  await api.embedded.runtime.job(jobId).done()
})
afterAll(async () => {
  await api?.stop()
  await stub?.close()
  await service?.close()
})

describe('GET /agents/:id/jobs', () => {
  test('default: both sides list the job with status, deliverable and transactions (to their owner)', async () => {
    for (const agent of [buyer, seller]) {
      const { jobs } = (await (
        await api.call('GET', `/agents/${agent.id}/jobs`, undefined, owner.token)
      ).json()) as {
        jobs: Record<string, unknown>[]
      }
      expect(jobs).toHaveLength(1)
      expect(jobs[0]).toMatchObject({
        jobId,
        status: 'completed',
        offering: 'echo',
        client: { agentId: buyer.id },
        provider: { agentId: seller.id, chainAgentId: seller.chainAgentId },
        budget: { value: '1000000', decimals: 6, symbol: 'dUSD', formatted: '1' },
        input: { text: 'hello' },
        deliverable: { received: { text: 'hello' } },
        rating: 100,
        transactions: {
          create: expect.stringMatching(/^0x/),
          submit: expect.stringMatching(/^0x/),
          settle: expect.stringMatching(/^0x/),
        },
      })
    }
  })

  test('behavior: an unknown agent is 404', async () => {
    expect((await problemOf(await api.app.request('/agents/nope/jobs'))).status).toBe(404)
    expect((await problemOf(await api.app.request('/agents/nope/payments'))).status).toBe(404)
  })
})

describe('GET /agents/:id/payments', () => {
  test('default: payments made and received, with status and transaction (and, to the owner, the memo)', async () => {
    const { payments } = (await (
      await api.call('GET', `/agents/${buyer.id}/payments`, undefined, owner.token)
    ).json()) as {
      payments: unknown[]
    }
    expect(payments).toEqual([
      expect.objectContaining({
        status: 'confirmed',
        kind: 'pay',
        from: { agentId: buyer.id, address: buyer.safe },
        to: { chainAgentId: seller.chainAgentId, agentId: seller.id, address: seller.safe },
        amount: expect.objectContaining({ value: '500000', symbol: 'dUSD', formatted: '0.5' }),
        memo: 'tip',
        txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/),
      }),
    ])
    // The payee lists it too (received); to someone anonymous, without the memo.
    const received = (await (await api.app.request(`/agents/${seller.id}/payments`)).json()) as {
      payments: unknown[]
    }
    expect(received.payments).toEqual([
      expect.objectContaining({ to: expect.objectContaining({ agentId: seller.id }), memo: null }),
    ])
  })
})

describe('GET /jobs/:jobId', () => {
  test('default: one job, public', async () => {
    const response = await api.app.request(`/jobs/${jobId}`)
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ jobId, status: 'completed', rating: 100 })
  })

  test('behavior: unknown or malformed ids are 404', async () => {
    expect((await problemOf(await api.app.request('/jobs/12345'))).status).toBe(404)
    expect((await problemOf(await api.app.request('/jobs/abc'))).status).toBe(404)
  })
})

describe('PATCH /agents/:id', () => {
  test('default: the owner changes description and instructions', async () => {
    const response = await api.call(
      'PATCH',
      `/agents/${seller.id}`,
      { description: 'Echoes, faithfully', instructions: 'Say it back.' },
      owner.token,
    )
    expect(response.status, await response.clone().text()).toBe(200)
    expect(await response.json()).toMatchObject({
      description: 'Echoes, faithfully',
      instructions: 'Say it back.',
    })
    const stored = await api.embedded.runtime.agent(seller.id).info()
    expect(stored).toMatchObject({ description: 'Echoes, faithfully' })
    const publicView = await (await api.app.request(`/agents/${seller.id}`)).json()
    expect(publicView).not.toHaveProperty('instructions')
  })

  test('behavior: strangers get 403, bad bodies 400, signed out 401', async () => {
    const body = { description: 'mine now' }
    expect(
      (await problemOf(await api.call('PATCH', `/agents/${seller.id}`, body, stranger.token))).status,
    ).toBe(403)
    expect((await problemOf(await api.call('PATCH', `/agents/${seller.id}`, body))).status).toBe(401)
    for (const bad of [{}, { name: 'renamed' }, { description: 42 }]) {
      const problem = await problemOf(await api.call('PATCH', `/agents/${seller.id}`, bad, owner.token))
      expect(problem.status, JSON.stringify(bad)).toBe(400)
    }
    expect((await api.embedded.runtime.agent(seller.id).info()).description).not.toBe('mine now')
  })
})

describe('POST /agents/:id/pause, /resume, /retire', () => {
  test('default: a paused agent cannot pay or hire (409), and can again once resumed', async () => {
    const paused = await api.call('POST', `/agents/${buyer.id}/pause`, undefined, owner.token)
    expect(paused.status, await paused.clone().text()).toBe(200)
    expect(await paused.json()).toMatchObject({ id: buyer.id, status: 'paused' })

    const pay = await api.call(
      'POST',
      `/agents/${buyer.id}/pay`,
      { to: seller.chainAgentId, amount: '0.1' },
      owner.token,
    )
    const problem = await problemOf(pay)
    expect(problem).toMatchObject({ status: 409, type: 'urn:agora:problem:agent-paused' })
    expect(problem.detail).toMatch(/paused.*resume/)
    const hire = await api.call(
      'POST',
      `/agents/${buyer.id}/hire`,
      { provider: seller.chainAgentId, offering: 'echo', input: {} },
      owner.token,
    )
    expect((await problemOf(hire)).type).toBe('urn:agora:problem:agent-paused')

    const resumed = await api.call('POST', `/agents/${buyer.id}/resume`, undefined, owner.token)
    expect(await resumed.json()).toMatchObject({ status: 'active' })
    const again = await api.call(
      'POST',
      `/agents/${buyer.id}/pay`,
      { to: seller.chainAgentId, amount: '0.1' },
      owner.token,
    )
    expect(again.status, await again.clone().text()).toBe(200)
  })

  test('behavior: retired is final; resuming it is a 409', async () => {
    const temp = await launch({ name: 'short-lived' }, owner.token)
    const retired = await api.call('POST', `/agents/${temp.id}/retire`, undefined, owner.token)
    expect(await retired.json()).toMatchObject({ status: 'retired' })
    const resume = await api.call('POST', `/agents/${temp.id}/resume`, undefined, owner.token)
    expect((await problemOf(resume)).status).toBe(409)
    const pay = await api.call(
      'POST',
      `/agents/${temp.id}/pay`,
      { to: seller.chainAgentId, amount: '0.1' },
      owner.token,
    )
    expect(await problemOf(pay)).toMatchObject({ status: 409, type: 'urn:agora:problem:agent-retired' })
  })

  test('behavior: only the owner, signed in', async () => {
    for (const action of ['pause', 'resume', 'retire']) {
      const response = await api.call('POST', `/agents/${buyer.id}/${action}`, undefined, stranger.token)
      expect((await problemOf(response)).status, action).toBe(403)
      expect((await problemOf(await api.call('POST', `/agents/${buyer.id}/${action}`))).status).toBe(401)
    }
    expect((await api.embedded.runtime.agent(buyer.id).info()).status).toBe('active')
  })
})

describe('POST /agents/:id/withdraw', () => {
  test('default: an amount to the owner, then everything (also while paused)', async () => {
    const before = await dUSD(buyer)
    const some = await api.call('POST', `/agents/${buyer.id}/withdraw`, { amount: '1.5' }, owner.token)
    expect(some.status, await some.clone().text()).toBe(200)
    expect(await some.json()).toEqual({
      status: 'confirmed',
      txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/),
      amount: {
        value: '1500000',
        decimals: 6,
        token: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/),
        symbol: 'dUSD',
        formatted: '1.5',
      },
      to: expect.stringMatching(new RegExp(`^${owner.address}$`, 'i')),
    })
    expect(await dUSD(buyer)).toBe(before - 1_500_000n)

    await api.call('POST', `/agents/${buyer.id}/pause`, undefined, owner.token)
    const rest = await api.call('POST', `/agents/${buyer.id}/withdraw`, {}, owner.token)
    expect(rest.status, await rest.clone().text()).toBe(200)
    expect(await dUSD(buyer)).toBe(0n)
    const empty = await api.call('POST', `/agents/${buyer.id}/withdraw`, {}, owner.token)
    expect((await problemOf(empty)).status).toBe(409)
    await api.call('POST', `/agents/${buyer.id}/resume`, undefined, owner.token)
  })

  test('behavior: bad bodies are 400 naming the field; strangers 403', async () => {
    const cases: [unknown, string][] = [
      [{ amount: '-1' }, 'amount'],
      [{ amount: '0' }, 'amount'],
      [{ amount: 2 }, 'amount'],
      [{ to: 'me' }, 'to'],
      [{ to: `0x${'0'.repeat(40)}` }, 'to'],
      [{ token: '' }, 'token'],
      [{ everything: true }, '(body)'],
    ]
    for (const [body, path] of cases) {
      const problem = await problemOf(
        await api.call('POST', `/agents/${seller.id}/withdraw`, body, owner.token),
      )
      expect(problem.status, JSON.stringify(body)).toBe(400)
      expect(problem.errors?.map((e) => e.path)).toContain(path)
    }
    const unknown = await api.call('POST', `/agents/${seller.id}/withdraw`, { token: 'NOPE' }, owner.token)
    expect((await problemOf(unknown)).status).toBe(400)
    const before = await dUSD(seller)
    const stolen = await api.call(
      'POST',
      `/agents/${seller.id}/withdraw`,
      { to: stranger.address },
      stranger.token,
    )
    expect((await problemOf(stolen)).status).toBe(403)
    expect(await dUSD(seller)).toBe(before)
  })
})

describe('POST /agents/:id/tasks', () => {
  test('default: 202 with a task id; the run is followed on the event stream', async () => {
    const thinker = await api.embedded.runtime.launch(
      defineAgent({
        name: 'thinker',
        model: { provider: 'openai-compatible', baseURL: stub.baseURL, model: 'scripted', maxRetries: 0 },
      }),
      { owner: owner.address as `0x${string}` },
    )
    stub.reply('all done', null)
    const response = await api.call('POST', `/agents/${thinker.id}/tasks`, { goal: 'Think' }, owner.token)
    expect(response.status, await response.clone().text()).toBe(202)
    const { taskId } = (await response.json()) as { taskId: string }
    expect(taskId).toMatch(/^task_/)
    const done = await eventsUntil(
      thinker.id,
      (e) => e.data.taskId === taskId && e.data.event === 'task succeeded',
    )
    expect(done.at(-1)!.data).toMatchObject({ event: 'task succeeded', steps: 1 })
    expect(done.map((e) => e.data)).toContainEqual(
      expect.objectContaining({ event: 'task finished', answer: 'all done' }),
    )

    // A model that refuses: the failure lands in the activity, not in a response.
    const failing = await api.call('POST', `/agents/${thinker.id}/tasks`, { goal: 'Fail' }, owner.token)
    expect(failing.status).toBe(202)
    const failed = ((await failing.json()) as { taskId: string }).taskId
    const events = await eventsUntil(
      thinker.id,
      (e) => e.data.taskId === failed && e.data.event === 'task failed',
    )
    expect(events.at(-1)!.data).toMatchObject({ event: 'task failed', error: expect.any(String) })

    // A paused agent takes no tasks.
    await api.call('POST', `/agents/${thinker.id}/pause`, undefined, owner.token)
    const paused = await api.call('POST', `/agents/${thinker.id}/tasks`, { goal: 'Think' }, owner.token)
    expect(await problemOf(paused)).toMatchObject({ status: 409, type: 'urn:agora:problem:agent-paused' })
  })

  test('behavior: no model is a 422; bad bodies 400; strangers 403', async () => {
    const none = await api.call('POST', `/agents/${seller.id}/tasks`, { goal: 'Think' }, owner.token)
    expect(await problemOf(none)).toMatchObject({ status: 422, type: 'urn:agora:problem:no-model' })
    for (const body of [{}, { goal: '' }, { goal: 'x', maxSteps: 0 }, { goal: 'x', extra: 1 }]) {
      const problem = await problemOf(await api.call('POST', `/agents/${seller.id}/tasks`, body, owner.token))
      expect(problem.status, JSON.stringify(body)).toBe(400)
    }
    const stranger_ = await api.call('POST', `/agents/${seller.id}/tasks`, { goal: 'x' }, stranger.token)
    expect((await problemOf(stranger_)).status).toBe(403)
  })
})
