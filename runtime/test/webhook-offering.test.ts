import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Devnet } from '@agora/contracts'
import { createDb, type Db, ValidationError } from '@agora/db'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { z } from 'zod'
import { agentFromJson } from '../src/actions/agents/agent-from-json.ts'
import { createRuntime } from '../src/create-runtime.ts'
import { defineAgent } from '../src/define-agent.ts'
import type { AgentHandle, Runtime } from '../src/runtime.ts'
import { startTestReceiver, type TestReceiver } from './fixtures/webhook-receiver.ts'
import { devnetClients, withDevnet } from './harness.ts'
import { type OpenAIStub, startOpenAIStub } from './inference/openai-stub.ts'

const topicInput = {
  type: 'object',
  properties: { topic: { type: 'string', minLength: 1 } },
  required: ['topic'],
  additionalProperties: false,
}
const answerOutput = {
  type: 'object',
  properties: { answer: { type: 'string' } },
  required: ['answer'],
}

/** A provider whose offerings are served by the owner's service at `url`, defined as JSON. */
function webhookProvider(name: string, url: string) {
  return agentFromJson({
    name,
    offerings: [
      {
        name: 'lookup',
        description: 'Looks a topic up in the owner’s service',
        price: '1',
        token: 'dUSD',
        input: topicInput,
        output: answerOutput,
        webhook: url,
      },
    ],
  })
}

/** A URL where nothing listens: a service that is down. */
async function deadUrl(): Promise<string> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  await once(server, 'close')
  return `http://127.0.0.1:${port}/agora`
}

describe('offerings served by the owner’s service (webhooks)', () => {
  let devnet: Devnet
  let database: Awaited<ReturnType<typeof createDb>>
  let db: Db
  let runtime: Runtime
  let receiver: TestReceiver
  let stub: OpenAIStub
  let reader: AgentHandle
  let safe: string
  const masterKey = randomBytes(32)
  const owner = () => devnet.manifest.accounts[1]!.address

  beforeAll(async () => {
    devnet = await withDevnet()
    receiver = await startTestReceiver()
    stub = await startOpenAIStub()
    database = await createDb()
    db = database.db
    runtime = await createRuntime({
      chain: { rpcUrl: devnet.rpcUrl, manifest: devnet.manifest },
      db,
      masterKey,
      relayerKeys: [12, 13, 14, 15].map((i) => devnet.manifest.accounts[i]!.privateKey),
      pollIntervalMs: 50,
      log: () => {},
    })
    await runtime.start()
    reader = await runtime.launch(defineAgent({ name: 'reader' }), { owner: owner() })
    safe = (await reader.info()).safe!
    await devnetClients(devnet).fund(safe, '20')
  })
  afterAll(async () => {
    await runtime?.stop()
    await database?.close()
    await receiver?.close()
    await stub?.close()
    await devnet?.stop()
  })

  const hire = async (provider: AgentHandle, input: unknown, deadlineSeconds?: number) =>
    reader.hire({
      provider: (await provider.info()).chainAgentId!,
      offering: 'lookup',
      input,
      deadlineSeconds,
    })
  const declineReason = async (provider: AgentHandle, jobId: string) =>
    (await runtime.listActivity(provider.id, { limit: 1_000 })).find(
      (e) => e.data.jobId === jobId && e.data.event === 'declining',
    )?.data.reason as string | undefined

  test('behavior: input that breaks the schema is refused before any money moves, with every error', async () => {
    const provider = await runtime.launch(webhookProvider('strict', receiver.url), { owner: owner() })
    const chainAgentId = (await provider.info()).chainAgentId!
    const [jobs, intents, block, balance] = await Promise.all([
      db.query.jobs.findMany(),
      db.query.intents.findMany(),
      devnetClients(devnet).publicClient.getBlockNumber(),
      devnetClients(devnet).dUSD(safe),
    ])
    const attempt = reader.hire({
      provider: chainAgentId,
      offering: 'lookup',
      input: { topic: '', extra: 1 },
    })
    await expect(attempt).rejects.toThrow(ValidationError)
    await expect(attempt).rejects.toMatchObject({
      shortMessage: expect.stringContaining('input.topic: must NOT have fewer than 1 characters'),
      meta: {
        issues: expect.arrayContaining([
          { path: ['input', 'topic'], message: 'must NOT have fewer than 1 characters' },
          { path: ['input', 'extra'], message: 'is not allowed' },
        ]),
      },
    })
    expect(await db.query.jobs.findMany()).toHaveLength(jobs.length)
    expect(await db.query.intents.findMany()).toHaveLength(intents.length)
    expect(await devnetClients(devnet).publicClient.getBlockNumber()).toBe(block)
    expect(await devnetClients(devnet).dUSD(safe)).toBe(balance)
    expect(receiver.requests).toHaveLength(0)

    // The same check holds where the provider is not hosted: against the schema the market publishes.
    const elsewhere = await createRuntime({
      chain: { rpcUrl: devnet.rpcUrl, manifest: devnet.manifest },
      db,
      masterKey,
      relayerKeys: [16].map((i) => devnet.manifest.accounts[i]!.privateKey),
      log: () => {},
    })
    const other = elsewhere.hire(reader.id, { provider: chainAgentId, offering: 'lookup', input: {} })
    await expect(other).rejects.toMatchObject({
      meta: { issues: [{ path: ['input', 'topic'], message: 'is required' }] },
    })
    expect(await db.query.jobs.findMany()).toHaveLength(jobs.length)
  })

  test('default: the job is POSTed signed by the agent’s key; the answer is delivered and paid for', async () => {
    const provider = await runtime.launch(webhookProvider('oracle', receiver.url), { owner: owner() })
    const view = await provider.info()
    receiver.answer((request) => ({
      status: 200,
      body: { answer: `all about ${(request.body.input as { topic: string }).topic}` },
    }))
    const before = receiver.requests.length
    const job = await hire(provider, { topic: 'autumn' })
    const done = await job.done()
    expect(done).toMatchObject({ status: 'completed', deliverable: { answer: 'all about autumn' } })
    const [request] = receiver.requests.slice(before)
    expect(receiver.requests.length - before).toBe(1)
    // Verifiable: the signature over the timestamp and body is the agent's signer's.
    expect(request!.verifiedSigner).toBe(view.signer)
    expect(request!.headers['content-type']).toBe('application/json')
    expect(Math.abs(Number(request!.headers['agora-timestamp']) - Date.now() / 1_000)).toBeLessThan(60)
    expect(request!.body).toEqual({
      jobId: done.jobId,
      agentId: view.chainAgentId,
      offering: 'lookup',
      input: { topic: 'autumn' },
      price: expect.objectContaining({ value: '1000000', symbol: 'dUSD', formatted: '1' }),
      client: safe.toLowerCase(),
      deadline: done.deadline,
    })
    expect(await devnetClients(devnet).dUSD(view.safe!)).toBeGreaterThan(0n)
  })

  test('behavior: 5xx and 429 answers are tried again with backoff until the service answers', async () => {
    const provider = await runtime.launch(webhookProvider('flaky', receiver.url), { owner: owner() })
    let calls = 0
    receiver.answer(() => {
      calls++
      if (calls === 1) return { status: 503 }
      if (calls === 2) return { status: 429 }
      return { status: 200, body: { answer: 'third time' } }
    })
    const started = Date.now()
    const done = await (await hire(provider, { topic: 'luck' })).done()
    expect(done).toMatchObject({ status: 'completed', deliverable: { answer: 'third time' } })
    expect(calls).toBe(3)
    expect(Date.now() - started).toBeGreaterThanOrEqual(3_000) // waited 1 s, then 2 s
    const failures = (await runtime.listActivity(provider.id)).filter(
      (e) => e.data.event === 'webhook failed',
    )
    expect(failures.map((e) => [e.data.attempt, e.data.reason, e.data.retryInMs])).toEqual([
      [1, 'it answered 503', 1_000],
      [2, 'it answered 429', 2_000],
    ])
  })

  test('behavior: a 4xx answer declines the job at once and refunds the client', async () => {
    const provider = await runtime.launch(webhookProvider('picky', receiver.url), { owner: owner() })
    const before = receiver.requests.length
    receiver.answer(() => ({ status: 404, body: { error: 'no such topic' } }))
    const balance = await devnetClients(devnet).dUSD(safe)
    const done = await (await hire(provider, { topic: 'nothing' })).done()
    expect(done.status).toBe('declined')
    expect(receiver.requests.length - before).toBe(1)
    expect(await devnetClients(devnet).dUSD(safe)).toBe(balance)
    expect(await declineReason(provider, done.jobId)).toBe("The owner's service failed: it answered 404")
  })

  test('behavior: an answer that breaks the output schema declines the job, naming the errors', async () => {
    const provider = await runtime.launch(webhookProvider('sloppy', receiver.url), { owner: owner() })
    receiver.answer(() => ({ status: 200, body: { answr: 'typo' } }))
    const balance = await devnetClients(devnet).dUSD(safe)
    const done = await (await hire(provider, { topic: 'spelling' })).done()
    expect(done.status).toBe('declined')
    expect(await devnetClients(devnet).dUSD(safe)).toBe(balance)
    expect(await declineReason(provider, done.jobId)).toBe(
      "The owner's service failed: its answer does not match the output schema: answer: is required",
    )
    receiver.answer(() => ({ status: 200, raw: '<html>oops</html>' }))
    const html = await (await hire(provider, { topic: 'markup' })).done()
    expect(html.status).toBe('declined')
    expect(await declineReason(provider, html.jobId)).toMatch(/with a body that is not JSON/)
    receiver.answer(() => ({ status: 200, body: { answer: 'x'.repeat(300 * 1024) } }))
    const huge = await (await hire(provider, { topic: 'everything' })).done()
    expect(huge.status).toBe('declined')
    expect(await declineReason(provider, huge.jobId)).toBe(
      "The owner's service failed: its answer is larger than 262144 bytes",
    )
  })

  test('behavior: a service down until the deadline leads to a decline and a refund, never a stuck job', async () => {
    const provider = await runtime.launch(webhookProvider('absent', await deadUrl()), { owner: owner() })
    const balance = await devnetClients(devnet).dUSD(safe)
    const started = Date.now()
    const done = await (await hire(provider, { topic: 'anyone?' }, 20)).done({ timeoutMs: 60_000 })
    expect(done.status).toBe('declined')
    // Attempts stopped before the deadline (less a quarter of the time left), with backoff between.
    expect(Date.now() - started).toBeLessThan(20_000)
    expect(await devnetClients(devnet).dUSD(safe)).toBe(balance)
    const failures = (await runtime.listActivity(provider.id)).filter(
      (e) => e.data.event === 'webhook failed',
    )
    expect(failures.length).toBeGreaterThanOrEqual(3)
    expect(await declineReason(provider, done.jobId)).toMatch(
      /^The owner's service failed: it did not answer before the deadline \(\d+ attempt\(s\); last: it could not be reached \(ECONNREFUSED\)\)$/,
    )
  })

  test('behavior: a slow service holds up only its own job', async () => {
    const slow = await runtime.launch(webhookProvider('slow', receiver.url), { owner: owner() })
    const quick = await runtime.launch(
      defineAgent({
        name: 'quick',
        offerings: [
          {
            name: 'lookup',
            description: 'Answers at once',
            price: '1',
            token: 'dUSD',
            input: z.object({ topic: z.string() }),
            handler: () => ({ answer: 'now' }),
          },
        ],
      }),
      { owner: owner() },
    )
    receiver.answer(() => ({ status: 200, body: { answer: 'eventually' }, delayMs: 6_000 }))
    const slowJob = await hire(slow, { topic: 'patience' })
    const started = Date.now()
    const quickDone = await (await hire(quick, { topic: 'speed' })).done()
    expect(quickDone.status).toBe('completed')
    expect(Date.now() - started).toBeLessThan(6_000)
    expect(await slowJob.done()).toMatchObject({ status: 'completed', deliverable: { answer: 'eventually' } })
  })

  test('behavior: a webhook at a link-local (cloud metadata) address is refused at launch', async () => {
    expect(() => webhookProvider('thief', 'http://169.254.169.254/latest/meta-data/')).toThrow(/link-local/)
    expect(() => webhookProvider('thief', 'http://[::ffff:169.254.169.254]/')).toThrow(/link-local/)
    expect(() => webhookProvider('thief', 'ftp://owner.example/')).toThrow(/http\(s\) URL/)
    expect(() => webhookProvider('thief', 'not a url')).toThrow(/not a URL/)
  })

  test('behavior: a prompt offering whose model answers garbage twice is declined and refunded', async () => {
    const poet = await runtime.launch(
      agentFromJson({
        name: 'poet',
        instructions: 'You write short poems.',
        model: { provider: 'vllm', baseURL: stub.baseURL, model: 'small', maxRetries: 0 },
        offerings: [
          {
            name: 'lookup',
            description: 'A poem about a topic',
            price: '1',
            token: 'dUSD',
            input: topicInput,
            output: { type: 'object', properties: { poem: { type: 'string' } }, required: ['poem'] },
            prompt: 'Write a poem about {{topic}}.',
          },
        ],
      }),
      { owner: owner() },
    )
    stub.reply(
      { text: 'Roses are red, and this is not JSON.' },
      { toolCalls: [{ name: 'answer', arguments: '{"poem": ' }] },
    )
    const balance = await devnetClients(devnet).dUSD(safe)
    const done = await (await hire(poet, { topic: 'autumn' })).done()
    expect(done.status).toBe('declined')
    expect(await devnetClients(devnet).dUSD(safe)).toBe(balance)
    expect(stub.pending()).toBe(0)
    expect(stub.requests.slice(-2).map((r) => r.messages[0])).toEqual([
      expect.objectContaining({ role: 'system', content: expect.stringMatching(/^You write short poems\./) }),
      expect.objectContaining({ role: 'system', content: expect.stringMatching(/^You write short poems\./) }),
    ])
    expect(await declineReason(poet, done.jobId)).toMatch(
      /^The model failed: .*did not produce a valid "answer" twice/,
    )
  })
})
