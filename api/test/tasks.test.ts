import { defineAgent } from '@agora/runtime'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { problemOf, startTestApi, type TestApi } from './harness.ts'
import { startScriptedModel } from './scripted-model.ts'
import { upperAgent } from './upper-agent.ts'

// Tasks over HTTP: POST answers with the task id at once; the run streams live on the agent's
// events (model turns, tool calls, hires, payments, refusals, all under the task id, the
// transcripts for the owner only); GET /agents/{id}/tasks/{taskId} gives the state and the result.

type Session = { token: string; address: string }
type Event = { id: number; kind: string; data: Record<string, unknown> }
type Task = {
  id: string
  agentId: string
  goal: string
  status: 'running' | 'succeeded' | 'failed'
  answer: string | null
  error: string | null
  steps: number
  createdAt: string
  finishedAt: string | null
}

let api: TestApi
let model: Awaited<ReturnType<typeof startScriptedModel>>
let owner: Session
let stranger: Session
let thinker: { id: string; chainAgentId: string }
let providerId: string

/** Opens the agent's event stream (as `session`) now; `until` reads it until an event matches. */
async function stream(agentId: string, session?: Session) {
  const response = await api.call('GET', `/agents/${agentId}/events`, undefined, session?.token)
  expect(response.status).toBe(200)
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  let text = ''
  const events = () => [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!) as Event)
  return {
    async until(match: (event: Event) => boolean): Promise<Event[]> {
      const deadline = Date.now() + 30_000
      while (!events().some(match)) {
        if (Date.now() > deadline) throw new Error(`no matching event in:\n${text}`)
        const next = await Promise.race([
          reader.read(),
          new Promise<undefined>((r) => setTimeout(() => r(undefined), 500)),
        ])
        if (next?.done) throw new Error(`the stream ended before a matching event:\n${text}`)
        if (next) text += next.value
      }
      return events()
    },
    close: () => reader.cancel(),
  }
}

async function startTask(agentId: string, goal: string, token = owner.token) {
  const response = await api.call('POST', `/agents/${agentId}/tasks`, { goal }, token)
  expect(response.status, await response.clone().text()).toBe(202)
  const { taskId } = (await response.json()) as { taskId: string }
  return { taskId, location: response.headers.get('location')! }
}

async function finished(location: string): Promise<Task> {
  for (let i = 0; i < 300; i++) {
    const task = (await (await api.call('GET', location, undefined, owner.token)).json()) as Task
    if (task.status !== 'running') return task
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${location} did not finish`)
}

beforeAll(async () => {
  ;[api, model] = await Promise.all([startTestApi(), startScriptedModel()])
  ;[owner, stranger] = await Promise.all([api.signIn(2), api.signIn(3)])
  const providerOwner = (await api.signIn(4)).address as `0x${string}`
  providerId = (await (await api.embedded.runtime.launch(upperAgent, { owner: providerOwner })).info())
    .chainAgentId!
  const handle = await api.embedded.runtime.launch(
    defineAgent({
      name: 'thinker',
      model: { provider: 'openai-compatible', baseURL: model.baseURL, model: 'scripted', maxRetries: 0 },
      policy: { perJobCap: '2', budget: { amount: '10', period: 'day' } },
      evaluate: () => ({ accept: true, rating: 90 }),
    }),
    { owner: owner.address as `0x${string}` },
  )
  const info = await handle.info()
  thinker = { id: info.id, chainAgentId: info.chainAgentId! }
  await api.fund(info.safe!, '20')
})
afterAll(async () => {
  await api?.stop()
  await model?.close()
})

describe('POST /agents/:id/tasks', () => {
  test('default: 202 with the task id at once; every step streams live under it; GET gives the result', async () => {
    // Followed by its on-chain id, as the owner: opened before the task starts.
    const live = await stream(thinker.chainAgentId, owner)
    model.play(
      { call: [{ name: 'search_market', arguments: { capability: 'text' } }] },
      {
        call: [
          {
            name: 'hire',
            arguments: { providerId, offering: 'upper', input: { text: 'agora' }, maxPrice: '1' },
          },
        ],
      },
      { call: [{ name: 'pay', arguments: { to: providerId, amount: '0.5' } }] },
      { call: [{ name: 'pay', arguments: { to: providerId, amount: '3' } }] },
      { call: [{ name: 'finish', arguments: { answer: 'AGORA' } }] },
    )
    const { taskId, location } = await startTask(thinker.id, 'Upper-case agora and tip the provider.')
    expect(taskId).toMatch(/^task_/)
    expect(location).toBe(`/agents/${thinker.id}/tasks/${taskId}`)
    const events = (
      await live.until((e) => e.data.taskId === taskId && e.data.event === 'task succeeded')
    ).filter((e) => e.data.taskId === taskId)
    await live.close()
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
    expect(events.find((e) => e.kind === 'tool' && e.data.name === 'hire')!.data).toMatchObject({
      ok: true,
      value: { status: 'completed', deliverable: { text: 'AGORA' } },
    })
    expect(events.at(-4)!.data).toMatchObject({
      ok: false,
      refused: true,
      reason: expect.stringMatching(/cap of 2/),
    })
    expect(model.pending()).toBe(0)
    // The model was given each tool's JSON Schema, and the offering's input schema in the listing.
    const tools = model.requests[0]!.tools!.map((t) => t.function)
    expect(tools.find((t) => t.name === 'hire')!.parameters).toMatchObject({
      type: 'object',
      required: expect.arrayContaining(['providerId', 'offering', 'input', 'maxPrice']),
    })
    const listing = String(model.requests[1]!.messages.at(-1)!.content)
    const offerings = JSON.parse(/^<untrusted-data[^>]*>([\s\S]*)<\/untrusted-data>$/.exec(listing)![1]!)
    expect(offerings[0]).toMatchObject({
      providerId,
      offering: 'upper',
      price: '1',
      token: 'dUSD',
      input: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
    })

    const task = await finished(location)
    expect(task).toMatchObject({
      id: taskId,
      agentId: thinker.id,
      goal: 'Upper-case agora and tip the provider.',
      status: 'succeeded',
      answer: 'AGORA',
      error: null,
      steps: 5,
    })
    expect(Date.parse(task.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(task.createdAt))
    // The same by on-chain id.
    const byChainId = await api.call(
      'GET',
      `/agents/${thinker.chainAgentId}/tasks/${taskId}`,
      undefined,
      owner.token,
    )
    expect(await byChainId.json()).toEqual(task)
  })

  test('behavior: a run that fails is a failed task with its error, on the stream and on GET', async () => {
    const live = await stream(thinker.id, owner)
    model.play({ call: [{ name: 'balance', arguments: {} }] }, { status: 400 })
    const { taskId, location } = await startTask(thinker.id, 'Fail on the second turn.')
    const events = await live.until((e) => e.data.taskId === taskId && e.data.event === 'task failed')
    await live.close()
    const task = await finished(location)
    expect(task).toMatchObject({
      status: 'failed',
      steps: 2,
      answer: null,
      error: expect.stringMatching(/HTTP 400/),
    })
    expect(events.at(-1)!.data).toMatchObject({ taskId, error: task.error })
  })

  test('behavior: no model is a 422 and records no task', async () => {
    const plain = await api.embedded.runtime.launch(defineAgent({ name: 'plain' }), {
      owner: owner.address as `0x${string}`,
    })
    const response = await api.call('POST', `/agents/${plain.id}/tasks`, { goal: 'Think' }, owner.token)
    expect(await problemOf(response)).toMatchObject({ status: 422, code: 'NO_MODEL' })
    const listed = await api.call('GET', `/agents/${plain.id}/tasks`, undefined, owner.token)
    expect(await listed.json()).toEqual({ tasks: [], next: null })
  })
})

describe('GET /agents/:id/tasks', () => {
  test('default: newest first, paged with limit and cursor, narrowed by status', async () => {
    const page = async (query = '') => {
      const response = await api.call('GET', `/agents/${thinker.id}/tasks${query}`, undefined, owner.token)
      expect(response.status, await response.clone().text()).toBe(200)
      return (await response.json()) as { tasks: Task[]; next: string | null }
    }
    const list = async (query = '') => (await page(query)).tasks
    const all = await list()
    expect(all.length).toBeGreaterThanOrEqual(2)
    expect(all.map((t) => t.createdAt)).toEqual(
      all
        .map((t) => t.createdAt)
        .sort()
        .reverse(),
    )
    const first = await page('?limit=1')
    expect(first.tasks).toHaveLength(1)
    const rest = await page(`?cursor=${encodeURIComponent(first.next!)}`)
    expect([...first.tasks, ...rest.tasks].map((t) => t.id)).toEqual(all.map((t) => t.id))
    expect(rest.next).toBeNull()
    expect((await list('?status=failed')).map((t) => t.status)).toEqual(
      all.filter((t) => t.status === 'failed').map(() => 'failed'),
    )
    for (const query of [
      '?limit=0',
      '?limit=201',
      '?status=done',
      '?other=1',
      '?before=task_1',
      '?cursor=x',
    ]) {
      const problem = await problemOf(
        await api.call('GET', `/agents/${thinker.id}/tasks${query}`, undefined, owner.token),
      )
      expect(problem.status, query).toBe(400)
    }
  })

  test("behavior: the owner's only: 401 signed out, 403 for others; another agent's task is a 404", async () => {
    const [task] = (
      (await (await api.call('GET', `/agents/${thinker.id}/tasks`, undefined, owner.token)).json()) as {
        tasks: Task[]
      }
    ).tasks
    const paths = [`/agents/${thinker.id}/tasks`, `/agents/${thinker.id}/tasks/${task!.id}`]
    for (const path of paths) {
      expect((await problemOf(await api.call('GET', path))).status, path).toBe(401)
      expect((await problemOf(await api.call('GET', path, undefined, stranger.token))).status, path).toBe(403)
    }
    const post = await api.call('POST', `/agents/${thinker.id}/tasks`, { goal: 'Mine' }, stranger.token)
    expect((await problemOf(post)).status).toBe(403)
    // Another agent of the same owner does not have this task.
    const other = await api.embedded.runtime.launch(defineAgent({ name: 'other' }), {
      owner: owner.address as `0x${string}`,
    })
    for (const path of [
      `/agents/${other.id}/tasks/${task!.id}`,
      `/agents/${thinker.id}/tasks/task_missing`,
    ]) {
      expect(await problemOf(await api.call('GET', path, undefined, owner.token))).toMatchObject({
        status: 404,
        code: 'NOT_FOUND',
      })
    }
  })

  test("behavior: anyone else's stream shows the task's public lifecycle only, without goal, answer or transcript", async () => {
    const [task] = (
      (await (
        await api.call('GET', `/agents/${thinker.id}/tasks?status=succeeded`, undefined, owner.token)
      ).json()) as { tasks: Task[] }
    ).tasks
    for (const session of [stranger, undefined]) {
      const live = await stream(thinker.id, session)
      const events = (
        await live.until((e) => e.data.taskId === task!.id && e.data.event === 'task succeeded')
      ).filter((e) => e.data.taskId === task!.id)
      await live.close()
      expect(events.map((e) => e.kind).every((k) => ['lifecycle', 'job', 'payment'].includes(k))).toBe(true)
      const text = JSON.stringify(events)
      expect(text).not.toContain(task!.goal)
      expect(text).not.toContain('AGORA')
    }
  })
})
