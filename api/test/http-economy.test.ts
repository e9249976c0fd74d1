/**
 * The product over HTTP alone, as a person with curl would use it: `npm start` in a child process,
 * sign-in with SIWE, a provider whose offering its model serves, a provider whose offering its
 * owner's service serves (a verified webhook), and a client with a model that is given a task and
 * hires both. Nothing here is defined in TypeScript; the models are local servers speaking the
 * OpenAI protocol, each playing its part of the script.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AgoraJob, startWebhookReceiver, type WebhookReceiver } from '@agora/agents'
import { devUSDAbi } from '@agora/contracts'
import { type Address, createPublicClient, http } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { freePort, type NpmStart, npmStart, signIn } from './npm-start.ts'
import { startScriptedModel } from './scripted-model.ts'

type ScriptedModel = Awaited<ReturnType<typeof startScriptedModel>>

type AgentView = {
  id: string
  chainAgentId: string | null
  status: string
  safe: Address | null
  signer: Address
  model: { provider: string; model: string; credential: string } | null
}

const poemSchema = {
  type: 'object',
  properties: { poem: { type: 'string', minLength: 1 } },
  required: ['poem'],
  additionalProperties: false,
}
const factsSchema = {
  type: 'object',
  properties: { facts: { type: 'array', items: { type: 'string' }, minItems: 1 } },
  required: ['facts'],
  additionalProperties: false,
}
const topicSchema = {
  type: 'object',
  properties: { topic: { type: 'string', minLength: 1, maxLength: 100 } },
  required: ['topic'],
  additionalProperties: false,
}

let api: NpmStart
let dataDir: string
let poetModel: ScriptedModel
let clientModel: ScriptedModel
let service: WebhookReceiver
const signers = new Set<string>()
const served: AgoraJob[] = []

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'agora-http-economy-'))
  ;[poetModel, clientModel] = await Promise.all([startScriptedModel(), startScriptedModel()])
  service = await startWebhookReceiver({
    signer: (address) => signers.has(address.toLowerCase()),
    handle: (job) => {
      served.push(job)
      const { topic } = job.input as { topic: string }
      return { facts: [`${topic} has ${topic.length} letters.`] }
    },
  })
  api = npmStart({ dataDir, port: await freePort(), devnetPort: await freePort() })
  await api.start()
}, 180_000)

afterAll(async () => {
  await api?.shutdown()
  await Promise.all([poetModel?.close(), clientModel?.close(), service?.close()])
  rmSync(dataDir, { recursive: true, force: true })
}, 60_000)

async function request<T>(method: string, path: string, token?: string, body?: unknown) {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T }
}

async function until<T>(what: string, read: () => Promise<T | undefined>, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await read()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${api.output.slice(-3_000)}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

async function launch(token: string, body: Record<string, unknown>): Promise<AgentView> {
  const launched = await request<AgentView>('POST', '/agents', token, body)
  expect(launched.status, JSON.stringify(launched.body)).toBe(201)
  return until(`${String(body.name)} to launch`, async () => {
    const { body: agent } = await request<AgentView>('GET', `/agents/${launched.body.id}`)
    return agent.status === 'active' ? agent : undefined
  })
}

/** The agent's event stream (SSE over a real socket), collected until `stop()`. */
function follow(agentId: string, token: string) {
  const events: { event: string; data: Record<string, unknown> }[] = []
  const controller = new AbortController()
  const done = (async () => {
    const response = await fetch(`${api.url}/agents/${agentId}/events`, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      signal: controller.signal,
    })
    const decoder = new TextDecoder()
    let buffer = ''
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true })
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const frame = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const event = /^event: (.*)$/m.exec(frame)?.[1]
        const data = /^data: (.*)$/m.exec(frame)?.[1]
        // Each data line is an ActivityEvent: the kind again, and what happened under `data`.
        if (event && data)
          events.push({ event, data: (JSON.parse(data) as { data: Record<string, unknown> }).data })
      }
    }
  })().then(
    () => undefined,
    (error: unknown) => ((error as Error).name === 'AbortError' ? undefined : error),
  )
  return {
    events,
    /** Closes the stream; it must not have failed before. */
    async stop() {
      controller.abort()
      expect(await done).toBeUndefined()
    },
  }
}

describe('the economy over HTTP', () => {
  test('default: a client given a task hires a model-served and a webhook-served agent; money, reputation and events follow', async () => {
    const owner = await signIn(api.url, 1)
    const seller = await signIn(api.url, 2)

    const poet = await launch(seller, {
      name: 'poet',
      description: 'Short poems on any topic.',
      instructions: 'You are a poet. Answer with four lines at most.',
      model: {
        provider: 'openai-compatible',
        model: 'poet-model',
        baseURL: poetModel.baseURL,
        apiKey: 'sk-poet-secret',
      },
      offerings: [
        {
          name: 'poem',
          description: 'A short poem about a topic.',
          price: '1',
          token: 'dUSD',
          capabilities: ['poetry'],
          input: topicSchema,
          output: poemSchema,
          prompt: 'Write a poem about {{topic}}.',
        },
      ],
    })
    expect(poet.model).toMatchObject({ model: 'poet-model', credential: 'sealed' })
    expect(JSON.stringify(poet)).not.toContain('sk-poet-secret')

    const oracle = await launch(seller, {
      name: 'oracle',
      description: 'Facts, from its owner’s service.',
      offerings: [
        {
          name: 'facts',
          description: 'Facts about a topic.',
          price: '2',
          token: 'dUSD',
          capabilities: ['facts'],
          input: topicSchema,
          output: factsSchema,
          webhook: service.url,
        },
      ],
    })
    signers.add(oracle.signer.toLowerCase())

    const buyer = await launch(owner, {
      name: 'buyer',
      instructions: 'You buy what the goal needs, and nothing more.',
      model: { provider: 'openai-compatible', model: 'buyer-model', baseURL: clientModel.baseURL },
      policy: { perJobCap: '5', budget: { amount: '10', period: 'day' } },
    })
    const faucet = await request('POST', '/devnet/faucet', owner, { to: buyer.id, amount: '20' })
    expect(faucet.status, JSON.stringify(faucet.body)).toBe(200)

    // The client's model: look around, hire the poet, judge, hire the oracle, judge, finish.
    clientModel.play(
      { call: [{ name: 'search_market', arguments: { text: 'poem' } }] },
      {
        call: [
          {
            name: 'hire',
            arguments: {
              providerId: poet.chainAgentId,
              offering: 'poem',
              input: { topic: 'autumn' },
              maxPrice: '1',
            },
          },
        ],
      },
      { answer: JSON.stringify({ accept: true, rating: 90, reason: 'A fine poem.' }) },
      {
        call: [
          {
            name: 'hire',
            arguments: {
              providerId: oracle.chainAgentId,
              offering: 'facts',
              input: { topic: 'autumn' },
              maxPrice: '2',
            },
          },
        ],
      },
      { answer: JSON.stringify({ accept: true, rating: 80, reason: 'True enough.' }) },
      { call: [{ name: 'finish', arguments: { answer: 'A poem and a fact about autumn.' } }] },
    )
    poetModel.play({ answer: JSON.stringify({ poem: 'Leaves let go,\nthe year exhales.' }) })

    const stream = follow(buyer.id, owner)
    const started = await request<{ taskId: string }>('POST', `/agents/${buyer.id}/tasks`, owner, {
      goal: 'Get a poem and a fact about autumn.',
    })
    expect(started.status, JSON.stringify(started.body)).toBe(202)
    const { taskId } = started.body
    const task = await until('the task to end', async () => {
      const { body } = await request<{ status: string; answer: string | null; error: string | null }>(
        'GET',
        `/agents/${buyer.id}/tasks/${taskId}`,
        owner,
      )
      return body.status === 'running' ? undefined : body
    })
    expect(task, api.output.slice(-3_000)).toMatchObject({
      status: 'succeeded',
      answer: 'A poem and a fact about autumn.',
    })

    // The deliverables match the output schemas, and both jobs completed.
    const jobs = await until('both jobs to complete', async () => {
      const { body } = await request<{
        jobs: { offering: string; status: string; deliverable: unknown; rating: number | null }[]
      }>('GET', `/agents/${buyer.id}/jobs`, owner)
      return body.jobs.length === 2 && body.jobs.every((j) => j.status === 'completed')
        ? body.jobs
        : undefined
    })
    const byOffering = Object.fromEntries(jobs.map((j) => [j.offering, j]))
    expect(byOffering.poem!.deliverable).toEqual({ poem: 'Leaves let go,\nthe year exhales.' })
    expect(byOffering.facts!.deliverable).toEqual({ facts: ['autumn has 6 letters.'] })
    expect(served.map((j) => [j.offering, j.input, j.agentId])).toEqual([
      ['facts', { topic: 'autumn' }, oracle.chainAgentId],
    ])

    // The poet's model got the poet's instructions as the system prompt and the filled template.
    const [serving] = poetModel.requests
    expect(serving!.messages[0]).toMatchObject({ role: 'system' })
    expect(String(serving!.messages[0]!.content)).toContain('You are a poet.')
    expect(JSON.stringify(serving!.messages.at(-1))).toContain('autumn')
    // The client's model saw the offering's input schema and price in the market search.
    const listing = clientModel.requests[1]!.messages.find((m) => m.role === 'tool')
    expect(String(listing!.content)).toContain('"price":"1","token":"dUSD","input":{"type":"object"')
    expect(String(listing!.content)).toContain('"required":["topic"]')
    expect(clientModel.pending()).toBe(0)
    expect(poetModel.pending()).toBe(0)

    // Money moved on chain: each provider's Safe holds its price less the protocol fee.
    const manifest = api.manifest()
    const chain = createPublicClient({ transport: http(await devnetRpc()) })
    const balanceOf = (address: Address) =>
      chain.readContract({
        address: manifest.contracts.devUSD,
        abi: devUSDAbi,
        functionName: 'balanceOf',
        args: [address],
      })
    const [poetBalance, oracleBalance, buyerBalance] = await Promise.all(
      [poet, oracle, buyer].map((a) => balanceOf(a.safe!)),
    )
    expect(poetBalance).toBeGreaterThan(900_000n)
    expect(poetBalance).toBeLessThanOrEqual(1_000_000n)
    expect(oracleBalance).toBeGreaterThan(1_800_000n)
    expect(oracleBalance).toBeLessThanOrEqual(2_000_000n)
    expect(buyerBalance).toBe(17_000_000n)

    // Reputation was written on chain for both providers (jobs between different owners count).
    for (const [agent, rating] of [
      [poet, 90],
      [oracle, 80],
    ] as const) {
      const { status, body } = await request<{ completed: number; averageRating: number | null }>(
        'GET',
        `/agents/${agent.chainAgentId}/reputation`,
      )
      expect(status).toBe(200)
      expect(body).toMatchObject({ completed: 1, averageRating: rating })
    }

    // The task streamed live: accepted, the model's steps, the tool calls, both hires, the end.
    await until('the end of the task on the stream', async () =>
      stream.events.some((e) => e.data.event === 'task succeeded') ? true : undefined,
    )
    await stream.stop()
    const ofTask = stream.events.filter((e) => e.data.taskId === taskId)
    expect(ofTask.map((e) => e.data.event)).toContain('task accepted')
    expect(ofTask.filter((e) => e.event === 'model').length).toBeGreaterThanOrEqual(4)
    const tools = ofTask.filter((e) => e.event === 'tool' && e.data.name !== 'finish')
    expect(tools.map((e) => [e.data.name, e.data.ok])).toEqual([
      ['search_market', true],
      ['hire', true],
      ['hire', true],
    ])
    expect(ofTask.filter((e) => e.data.event === 'hired for task')).toHaveLength(2)
  }, 300_000)
})

async function devnetRpc(): Promise<string> {
  const { body } = await request<{ rpcUrl?: string }>('GET', '/health')
  return body.rpcUrl!
}
