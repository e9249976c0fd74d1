import { randomBytes } from 'node:crypto'
import type { Devnet } from '@agora/contracts'
import { type Db, insertTask } from '@agora/db'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { interruptedTaskError } from '../src/actions/tasks/fail-interrupted-tasks.ts'
import { createRuntime } from '../src/create-runtime.ts'
import { defineAgent } from '../src/define-agent.ts'
import type { AgentHandle, Runtime } from '../src/runtime.ts'
import type { TaskView } from '../src/views/task-view.ts'
import { searchAndHireUpper, upperAgent } from './fixtures/upper-agent.ts'
import { devnetClients, openRuntime, withDevnet } from './harness.ts'
import { type OpenAIStub, startOpenAIStub } from './inference/openai-stub.ts'

// Tasks as an owner follows them: recorded at once, every step on the agent's activity under the
// task's id, the outcome on the task; the model sees each tool's JSON Schema and each offering's.

const upper = upperAgent('1.5')

describe('tasks', () => {
  let devnet: Devnet
  let runtime: Runtime
  let db: Db
  let close: () => Promise<void>
  let stub: OpenAIStub
  let planner: AgentHandle
  let plannerOwner: string
  let providerId: string

  const model = () =>
    ({ provider: 'openai-compatible', baseURL: stub.baseURL, model: 'scripted', maxRetries: 0 }) as const

  /** Polls the task until it is finished. */
  async function finished(agentId: string, taskId: string): Promise<TaskView> {
    for (let i = 0; i < 300; i++) {
      const task = await runtime.getTask(agentId, taskId)
      if (task.status !== 'running') return task
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`task ${taskId} did not finish`)
  }

  const eventsOf = async (agentId: string, taskId: string) =>
    (await runtime.listActivity(agentId, { limit: 1_000 })).filter((e) => e.data.taskId === taskId)

  beforeAll(async () => {
    devnet = await withDevnet()
    stub = await startOpenAIStub()
    ;({ runtime, db, close } = await openRuntime(devnet, { name: 'pglite' }, [upper]))
    const providerOwner = devnet.manifest.accounts[1]!.address
    providerId = (await (await runtime.launch(upper, { owner: providerOwner })).info()).chainAgentId!
    plannerOwner = devnet.manifest.accounts[2]!.address
    planner = await runtime.launch(
      defineAgent({
        name: 'planner',
        instructions: 'Get text work done.',
        model: model(),
        policy: { perJobCap: '5', budget: { amount: '10', period: 'day' } },
        evaluate: () => ({ accept: true, rating: 80 }),
      }),
      { owner: plannerOwner as `0x${string}` },
    )
    await devnetClients(devnet).fund((await planner.info()).safe!, '20')
  })
  afterAll(async () => {
    await close?.()
    await stub?.close()
    await devnet?.stop()
  })

  test('behavior: a started task streams its steps, hire, payment and refusal under its id, and ends with its answer', async () => {
    stub.reply(
      ...searchAndHireUpper(providerId),
      { toolCalls: [{ name: 'pay', arguments: { to: providerId, amount: '0.5', memo: 'thanks' } }] },
      // Over the per-job cap: refused below the model.
      { toolCalls: [{ name: 'pay', arguments: { to: providerId, amount: '6' } }] },
      { toolCalls: [{ name: 'finish', arguments: { answer: 'AGORA' } }] },
    )
    const { taskId } = await runtime.startTask(planner.id, { goal: 'Upper-case the word agora.' })
    expect(taskId).toMatch(/^task_/)
    const task = await finished(planner.id, taskId)
    expect(task).toMatchObject({
      id: taskId,
      agentId: planner.id,
      goal: 'Upper-case the word agora.',
      status: 'succeeded',
      answer: 'AGORA',
      error: null,
      steps: 5,
      finishedAt: expect.any(String),
    })
    expect(stub.pending()).toBe(0)

    // The model was given every tool with its JSON Schema (the OpenAI request's function parameters).
    const tools = stub.requests[0]!.tools!
    const parameters = Object.fromEntries(tools.map((t) => [t.function.name, t.function.parameters]))
    expect(Object.keys(parameters).sort()).toEqual(
      ['balance', 'buy_x402', 'finish', 'hire', 'job_status', 'pay', 'search_market'].sort(),
    )
    expect(parameters.buy_x402).toMatchObject({
      type: 'object',
      properties: { url: { type: 'string', format: 'uri' }, maxAmount: { type: 'string' } },
      required: ['url', 'maxAmount'],
    })
    expect(parameters.search_market).toMatchObject({
      type: 'object',
      properties: {
        text: { type: 'string' },
        capability: { type: 'string' },
        maxPrice: { type: 'string', pattern: expect.any(String) },
        minRating: { type: 'number', minimum: 0, maximum: 100 },
      },
      additionalProperties: false,
    })
    expect(parameters.hire).toMatchObject({
      type: 'object',
      properties: { providerId: { type: 'string' }, input: { type: 'object' } },
      required: expect.arrayContaining(['providerId', 'offering', 'input', 'maxPrice']),
    })
    expect(parameters.pay).toMatchObject({ required: expect.arrayContaining(['to', 'amount']) })

    // The market listing the model read: price in token units, the token, and the input schema.
    const listing = String(stub.requests[1]!.messages.find((m) => m.role === 'tool')!.content)
    const offerings = JSON.parse(/^<untrusted-data[^>]*>([\s\S]*)<\/untrusted-data>$/.exec(listing)![1]!)
    expect(offerings[0]).toMatchObject({
      providerId,
      offering: 'upper',
      price: '1.5',
      token: 'dUSD',
      input: {
        type: 'object',
        properties: { text: { type: 'string', description: 'the text to upper-case' } },
        required: ['text'],
      },
    })

    // Everything the task did is on the agent's activity under its id, in order.
    const events = await eventsOf(planner.id, taskId)
    const seen = events.map((e) => `${e.kind}:${e.data.event ?? e.data.name ?? `step ${e.data.step}`}`)
    expect(seen).toEqual([
      'lifecycle:task accepted',
      'lifecycle:task started',
      'model:step 1',
      'tool:search_market',
      'model:step 2',
      'job:hired for task',
      'tool:hire',
      'model:step 3',
      'payment:paid for task',
      'tool:pay',
      'model:step 4',
      'tool:pay',
      'model:step 5',
      'lifecycle:task finished',
      'lifecycle:task succeeded',
    ])
    const hired = events.find((e) => e.data.event === 'hired for task')!.data
    expect(hired).toMatchObject({
      step: 2,
      provider: providerId,
      offering: 'upper',
      budget: { formatted: '1.5', symbol: 'dUSD' },
    })
    const hireResult = events.find((e) => e.kind === 'tool' && e.data.name === 'hire')!.data
    expect(hireResult).toMatchObject({
      ok: true,
      value: { jobId: hired.jobId, status: 'completed', deliverable: { text: 'AGORA' } },
    })
    expect(events.find((e) => e.data.event === 'paid for task')!.data).toMatchObject({
      step: 3,
      to: providerId,
      amount: { formatted: '0.5', symbol: 'dUSD' },
      status: 'confirmed',
      paymentId: expect.stringMatching(/^pay_/),
      txHash: expect.stringMatching(/^0x/),
    })
    expect(events.filter((e) => e.kind === 'tool' && e.data.name === 'pay').at(-1)!.data).toMatchObject({
      step: 4,
      ok: false,
      refused: true,
      reason: expect.stringMatching(/over the per-job cap of 5/),
    })
    expect(events.at(-1)!.data).toMatchObject({ steps: 5 })
    // The refusal is also the guard's own record of the refused spend.
    const guardrails = (await runtime.listActivity(planner.id, { limit: 1_000 })).filter(
      (e) => e.kind === 'guardrail',
    )
    expect(guardrails.at(-1)!.data.reason).toMatch(/over the per-job cap of 5/)
  })

  test('behavior: a failed task keeps its error and the steps it took; runTask records its task too', async () => {
    stub.reply({ toolCalls: [{ name: 'balance', arguments: {} }] }, { status: 400, message: 'no more' })
    const { taskId } = await runtime.startTask(planner.id, { goal: 'Fail on the second turn.' })
    const task = await finished(planner.id, taskId)
    expect(task).toMatchObject({
      status: 'failed',
      steps: 2,
      answer: null,
      error: expect.stringMatching(/400/),
    })
    expect((await eventsOf(planner.id, taskId)).at(-1)!.data).toMatchObject({
      event: 'task failed',
      error: task.error,
    })

    stub.reply({ text: 'direct answer' })
    const run = await planner.runTask({ goal: 'Answer directly.' })
    expect(run).toMatchObject({ answer: 'direct answer', steps: 1, taskId: expect.stringMatching(/^task_/) })
    expect(await runtime.getTask(planner.id, run.taskId)).toMatchObject({ status: 'succeeded', steps: 1 })
  })

  test('behavior: tasks are listed newest first and paged; read by on-chain id; the owner only; another agent’s task is not found', async () => {
    const all = (await runtime.listTasks(planner.id)).tasks
    expect(all.length).toBeGreaterThanOrEqual(3)
    expect(all.map((t) => t.createdAt)).toEqual([...all.map((t) => t.createdAt)].sort().reverse())
    const first = await runtime.listTasks(planner.id, { limit: 2 })
    const second = await runtime.listTasks(planner.id, { limit: 2, cursor: first.next! })
    expect([...first.tasks, ...second.tasks].map((t) => t.id)).toEqual(all.slice(0, 4).map((t) => t.id))
    expect(
      (await runtime.listTasks(planner.id, { status: 'failed' })).tasks.every((t) => t.status === 'failed'),
    ).toBe(true)

    const chainId = (await planner.info()).chainAgentId!
    expect((await runtime.getTask(chainId, all[0]!.id)).id).toBe(all[0]!.id)
    expect((await runtime.getTask(planner.id, all[0]!.id, { viewer: plannerOwner })).id).toBe(all[0]!.id)
    for (const viewer of [null, devnet.manifest.accounts[5]!.address]) {
      await expect(runtime.getTask(planner.id, all[0]!.id, { viewer })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      })
      await expect(runtime.listTasks(planner.id, { viewer })).rejects.toMatchObject({ code: 'FORBIDDEN' })
    }
    const other = await runtime.agent(providerId).info()
    await expect(runtime.getTask(other.id, all[0]!.id)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(runtime.getTask(planner.id, 'task_missing')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(runtime.getTask(planner.id, "'; drop table tasks")).rejects.toMatchObject({
      code: 'NOT_FOUND',
    })
  })

  test('behavior: the model is the one hosted in this process, not the one stored at launch', async () => {
    const owner = devnet.manifest.accounts[3]!.address
    // Launched without a model: stored so.
    const late = await runtime.launch(defineAgent({ name: 'late', description: 'Thinks later.' }), { owner })
    await expect(runtime.startTask(late.id, { goal: 'Think' })).rejects.toMatchObject({ code: 'NO_MODEL' })
    expect((await runtime.listTasks(late.id)).tasks).toEqual([])
    // A model turned on later (as AGORA_MODEL_* does at the next start): the hosted definition has it.
    runtime.register(defineAgent({ name: 'late', description: 'Thinks later.', model: model() }))
    stub.reply({ toolCalls: [{ name: 'finish', arguments: { answer: 'thought' } }] })
    const { taskId } = await runtime.startTask(late.id, { goal: 'Think' })
    expect(await finished(late.id, taskId)).toMatchObject({ status: 'succeeded', answer: 'thought' })
    // It works within the limits its model brings (the defaults), now stored where the guard reads them.
    expect((await late.info()).policy).toEqual({ perJobCap: '5', budget: { amount: '20', period: 'day' } })
    // And turned off again: the stored definition's model no longer counts.
    const thinker = await runtime.launch(defineAgent({ name: 'thinker', model: model() }), { owner })
    runtime.register(defineAgent({ name: 'thinker' }))
    await expect(runtime.startTask(thinker.id, { goal: 'Think' })).rejects.toMatchObject({ code: 'NO_MODEL' })
  })

  test('behavior: tasks a stopped process was running are failed at the next start', async () => {
    const interrupted = await insertTask(db, { agentId: planner.id, goal: 'Cut short' })
    // The process stops (its database stays, for the next one; afterAll closes it).
    await runtime.stop()
    const again = await createRuntime({
      chain: { rpcUrl: devnet.rpcUrl, manifest: devnet.manifest },
      db,
      masterKey: randomBytes(32),
      relayerKeys: [16, 17].map((i) => devnet.manifest.accounts[i]!.privateKey),
      log: () => {},
    })
    try {
      await again.start()
      expect(await again.getTask(planner.id, interrupted.id)).toMatchObject({
        status: 'failed',
        error: interruptedTaskError,
      })
      const events = (await again.listActivity(planner.id, { limit: 1_000 })).filter(
        (e) => e.data.taskId === interrupted.id,
      )
      expect(events.map((e) => e.data.event)).toEqual(['task failed'])
    } finally {
      await again.stop()
    }
  })
})
