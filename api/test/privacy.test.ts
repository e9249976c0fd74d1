import { defineAgent } from '@agora/runtime'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { problemOf, startTestApi, type TestApi } from './harness.ts'
import { startScriptedModel } from './scripted-model.ts'
import { startSellerService } from './webhook.ts'

// Finding 7: job inputs and deliverables, payment memos, task goals and model transcripts were
// readable by anyone, signed in or not. They are the parties' business: the job's client's owner,
// the provider's owner and the evaluator (tasks and transcripts: the agent's owner). Everyone else
// sees the public facts: parties, price, status, hashes and transactions.

type Launched = { id: string; chainAgentId: string; safe: string }
type Session = { token: string; address: string }
type JobBody = {
  jobId: string
  status: string
  input: unknown
  deliverable: unknown
  specHash: string
  deliverableHash: string | null
  budget: { value: string }
  client: { agentId: string | null; address: string }
  provider: { chainAgentId: string }
  transactions: { create: string | null; settle: string | null }
}
type Event = { id: number; kind: string; data: Record<string, unknown> }

let api: TestApi
let stub: Awaited<ReturnType<typeof startScriptedModel>>
let service: Awaited<ReturnType<typeof startSellerService>> // the seller's service: answers { received: input }
let clientOwner: Session
let providerOwner: Session
let evaluator: Session
let stranger: Session
let buyer: Launched
let seller: Launched
let thinkerId: string
let jobId: string

const secretInput = { text: 'the secret input' }

async function launch(body: unknown, token: string): Promise<Launched> {
  const response = await api.call('POST', '/agents', body, token)
  expect(response.status, await response.clone().text()).toBe(201)
  return (await response.json()) as Launched
}

/** Reads an agent's stored events (the backlog of its stream) as `session`, or signed out. */
async function backlog(agentId: string, session?: Session): Promise<Event[]> {
  const controller = new AbortController()
  const response = await api.app.request(`/agents/${agentId}/events`, {
    headers: session ? { authorization: `Bearer ${session.token}` } : {},
    signal: controller.signal,
  })
  expect(response.status).toBe(200)
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  let text = ''
  // The backlog is sent at once; the first keep-alive or a pause of 300 ms ends it.
  for (;;) {
    const next = await Promise.race([
      reader.read(),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 300)),
    ])
    if (!next || next.done) break
    text += next.value
  }
  await reader.cancel()
  controller.abort()
  return [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!) as Event)
}

beforeAll(async () => {
  ;[api, stub, service] = await Promise.all([startTestApi(), startScriptedModel(), startSellerService()])
  ;[clientOwner, providerOwner, evaluator, stranger] = await Promise.all([
    api.signIn(2),
    api.signIn(3),
    api.signIn(4),
    api.signIn(5),
  ])
  seller = await launch(
    {
      name: 'seller',
      offerings: [{ name: 'echo', description: 'Echoes', price: '1', token: 'dUSD', webhook: service.url }],
    },
    providerOwner.token,
  )
  buyer = await launch({ name: 'buyer', policy: { perJobCap: '5' } }, clientOwner.token)
  await api.fund(buyer.safe, '10')
  const paid = await api.call(
    'POST',
    `/agents/${buyer.id}/pay`,
    { to: seller.chainAgentId, amount: '0.5', memo: 'the secret memo' },
    clientOwner.token,
  )
  expect(paid.status, await paid.clone().text()).toBe(200)
  const hired = await api.call(
    'POST',
    `/agents/${buyer.id}/hire`,
    { provider: seller.chainAgentId, offering: 'echo', input: secretInput, evaluator: evaluator.address },
    clientOwner.token,
  )
  expect(hired.status, await hired.clone().text()).toBe(202)
  jobId = ((await hired.json()) as { jobId: string }).jobId
  await api.embedded.runtime.job(jobId).done()

  const thinker = await api.embedded.runtime.launch(
    defineAgent({
      name: 'thinker',
      model: { provider: 'openai-compatible', baseURL: stub.baseURL, model: 'scripted', maxRetries: 0 },
    }),
    { owner: clientOwner.address as `0x${string}` },
  )
  thinkerId = thinker.id
  stub.reply('the secret answer')
  const task = await api.call(
    'POST',
    `/agents/${thinkerId}/tasks`,
    { goal: 'the secret goal' },
    clientOwner.token,
  )
  expect(task.status).toBe(202)
  for (let i = 0; i < 100; i++) {
    if ((await backlog(thinkerId, clientOwner)).some((e) => e.data.event === 'task succeeded')) break
    await new Promise((r) => setTimeout(r, 100))
  }
})
afterAll(async () => {
  await api?.stop()
  await stub?.close()
  await service?.close()
})

describe('GET /jobs/:jobId', () => {
  const get = async (session?: Session) => {
    const response = await api.call('GET', `/jobs/${jobId}`, undefined, session?.token)
    expect(response.status).toBe(200)
    return (await response.json()) as JobBody
  }

  test("default: the client's owner, the provider's owner and the evaluator read input and deliverable", async () => {
    for (const session of [clientOwner, providerOwner, evaluator]) {
      const job = await get(session)
      expect(job.status).toBe('completed')
      expect(job.input).toEqual(secretInput)
      expect(job.deliverable).toEqual({ received: secretInput })
    }
  })

  test('behavior: a stranger and a signed-out reader see the public facts only', async () => {
    const full = await get(clientOwner)
    for (const session of [stranger, undefined]) {
      const job = await get(session)
      expect(job.input).toBeNull()
      expect(job.deliverable).toBeNull()
      expect(JSON.stringify(job)).not.toContain('the secret input')
      // The public facts stay: parties, price, status, hashes, transactions.
      expect(job).toMatchObject({
        jobId,
        status: 'completed',
        client: full.client,
        provider: full.provider,
        budget: full.budget,
        specHash: full.specHash,
        deliverableHash: full.deliverableHash,
        transactions: full.transactions,
      })
      expect(job.deliverableHash).toMatch(/^0x[0-9a-f]{64}$/)
    }
  })

  test('behavior: an unknown or expired session is a 401, not a silent downgrade', async () => {
    const response = await api.call('GET', `/jobs/${jobId}`, undefined, 'not-a-token')
    expect((await problemOf(response)).status).toBe(401)
  })
})

describe('GET /agents/:id/jobs', () => {
  test('default: each party sees the job in full on either side', async () => {
    for (const [agent, session] of [
      [buyer, clientOwner],
      [seller, providerOwner],
      [buyer, evaluator],
      [seller, evaluator],
    ] as const) {
      const response = await api.call('GET', `/agents/${agent.id}/jobs`, undefined, session.token)
      const { jobs } = (await response.json()) as { jobs: JobBody[] }
      expect(jobs.find((j) => j.jobId === jobId)!.input).toEqual(secretInput)
    }
  })

  test('behavior: a stranger and a signed-out reader get no input or deliverable', async () => {
    for (const agent of [buyer, seller]) {
      for (const session of [stranger, undefined]) {
        const response = await api.call('GET', `/agents/${agent.id}/jobs`, undefined, session?.token)
        const { jobs } = (await response.json()) as { jobs: JobBody[] }
        const job = jobs.find((j) => j.jobId === jobId)!
        expect(job).toMatchObject({ status: 'completed', input: null, deliverable: null })
        expect(JSON.stringify(jobs)).not.toContain('the secret input')
      }
    }
  })
})

describe('GET /agents/:id/payments', () => {
  const memos = async (session?: Session) => {
    const response = await api.call('GET', `/agents/${buyer.id}/payments`, undefined, session?.token)
    const { payments } = (await response.json()) as { payments: { memo: string | null; amount: unknown }[] }
    expect(payments).toHaveLength(1)
    return payments.map((p) => p.memo)
  }

  test("default: the payer's owner and the payee's owner read the memo", async () => {
    expect(await memos(clientOwner)).toEqual(['the secret memo'])
    expect(await memos(providerOwner)).toEqual(['the secret memo'])
  })

  test('behavior: anyone else sees the payment without its memo', async () => {
    for (const session of [evaluator, stranger, undefined]) expect(await memos(session)).toEqual([null])
  })
})

describe('GET /agents/:id/events', () => {
  test("default: the owner's stream carries task goals, model transcripts and memos", async () => {
    const thinking = JSON.stringify(await backlog(thinkerId, clientOwner))
    expect(thinking).toContain('the secret goal')
    expect(thinking).toContain('the secret answer')
    expect(thinking).toContain('"kind":"model"')
    expect(JSON.stringify(await backlog(buyer.id, clientOwner))).toContain('the secret memo')
    // The payee's owner hears of the payment it received with its memo.
    expect(JSON.stringify(await backlog(seller.id, providerOwner))).toContain('the secret memo')
  })

  test('behavior: anyone else gets public events only, without goals, transcripts, memos or inputs', async () => {
    for (const session of [providerOwner, evaluator, stranger, undefined]) {
      const events = await backlog(thinkerId, session)
      expect(events.some((e) => e.data.event === 'launched')).toBe(true)
      const text = JSON.stringify(events)
      expect(text).not.toContain('the secret goal')
      expect(text).not.toContain('the secret answer')
      expect(events.filter((e) => ['model', 'tool', 'guardrail'].includes(e.kind))).toEqual([])
    }
    for (const session of [evaluator, stranger, undefined]) {
      const events = await backlog(buyer.id, session)
      expect(events.some((e) => e.data.event === 'paid')).toBe(true)
      expect(JSON.stringify(events)).not.toContain('the secret memo')
      expect(JSON.stringify(events)).not.toContain('the secret input')
    }
  })
})
