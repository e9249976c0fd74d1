import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { getAgent } from '@agora/db'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { problemOf, startTestApi, type TestApi } from './harness.ts'

// A model per agent over HTTP: the API key given once, sealed, used, never returned or logged; a
// server variable as the alternative; every bad model or misplaced key a 400 that writes nothing.

const secret = 'sk-http-SEALED-4c1d0e'
const replacement = 'sk-http-REPLACED-93aa71'

type View = {
  id: string
  description: string
  model: Record<string, unknown> | null
  offerings: { name: string }[]
  instructions?: string
}

let api: TestApi
let owner: { token: string }
let stranger: { token: string }
let server: Server
let baseURL: string
/** The `authorization` header of every chat-completions request the model server received. */
const received: (string | undefined)[] = []

/** A real HTTP server speaking OpenAI chat completions: every answer is a plain "done". */
async function startModelServer() {
  const model = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      received.push(req.headers.authorization)
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          id: `chatcmpl-${received.length}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: 'small',
          choices: [{ index: 0, message: { role: 'assistant', content: 'done' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
        }),
      )
    })
  })
  model.listen(0, '127.0.0.1')
  await once(model, 'listening')
  return model
}

const model = (extra: Record<string, unknown> = {}) => ({
  provider: 'openai-compatible',
  baseURL,
  model: 'small',
  maxRetries: 0,
  ...extra,
})

async function launch(body: Record<string, unknown>): Promise<View> {
  const response = await api.call('POST', '/agents', body, owner.token)
  expect(response.status, await response.clone().text()).toBe(201)
  return (await response.json()) as View
}

/** Gives the agent a task and answers the authorization its model server was sent. */
async function authorizationOfATask(agentId: string): Promise<string | undefined> {
  const before = received.length
  const response = await api.call('POST', `/agents/${agentId}/tasks`, { goal: 'Say done.' }, owner.token)
  expect(response.status, await response.clone().text()).toBe(202)
  await expect.poll(() => received.length, { timeout: 10_000 }).toBeGreaterThan(before)
  return received[before]
}

async function storedRow(id: string) {
  return (await getAgent(api.embedded.db, id))!
}

beforeAll(async () => {
  server = await startModelServer()
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
  api = await startTestApi()
  owner = await api.signIn(5)
  stranger = await api.signIn(6)
})
afterAll(async () => {
  await api?.stop()
  server?.close()
  delete process.env.AGORA_MODEL_KEY_ENVS
  delete process.env.AGORA_HTTP_TEST_KEY
})

describe('POST /agents with a model', () => {
  test('default: the key reaches the model server as a bearer token, and nothing returns or stores it in clear', async () => {
    const agent = await launch({
      name: 'keeper',
      instructions: 'Be brief.',
      model: model({ apiKey: secret }),
    })
    expect(agent.model).toEqual({
      provider: 'openai-compatible',
      model: 'small',
      baseURL,
      timeoutMs: 60_000,
      maxRetries: 0,
      credential: 'sealed',
    })
    expect(await authorizationOfATask(agent.id)).toBe(`Bearer ${secret}`)

    const read = await (await api.app.request(`/agents/${agent.id}`)).text()
    expect(read).not.toContain(secret)
    expect(JSON.parse(read)).toMatchObject({ model: { credential: 'sealed' } })
    const row = await storedRow(agent.id)
    expect(row.modelKey).toMatch(/^v1\./)
    expect(JSON.stringify(row)).not.toContain(secret)
    const activity = await api.embedded.runtime.listActivity(agent.id, { limit: 1_000 })
    expect(JSON.stringify(activity)).not.toContain(secret)
  })

  test('behavior: a server variable its operator offers is the alternative; one it lacks or does not offer is a 400', async () => {
    const origin = new URL(baseURL).origin
    process.env.AGORA_MODEL_KEY_ENVS = `AGORA_HTTP_TEST_KEY=${origin},AGORA_HTTP_ABSENT=${origin}`
    process.env.AGORA_HTTP_TEST_KEY = 'sk-http-FROM-ENV'
    const agent = await launch({ name: 'env-reader', model: model({ apiKeyEnv: 'AGORA_HTTP_TEST_KEY' }) })
    expect(agent.model).toMatchObject({ credential: 'env', apiKeyEnv: 'AGORA_HTTP_TEST_KEY' })
    expect(await authorizationOfATask(agent.id)).toBe('Bearer sk-http-FROM-ENV')
    expect(JSON.stringify(await storedRow(agent.id))).not.toContain('sk-http-FROM-ENV')

    const absent = await problemOf(
      await api.call(
        'POST',
        '/agents',
        { name: 'absent', model: model({ apiKeyEnv: 'AGORA_HTTP_ABSENT' }) },
        owner.token,
      ),
    )
    expect(absent).toMatchObject({
      status: 400,
      code: 'INVALID_ARGUMENT',
      detail: 'model.apiKeyEnv: the server has no environment variable "AGORA_HTTP_ABSENT".',
      errors: [{ path: 'model.apiKeyEnv' }],
    })
    const unoffered = await problemOf(
      await api.call(
        'POST',
        '/agents',
        { name: 'thief', model: model({ apiKeyEnv: 'DATABASE_URL' }) },
        owner.token,
      ),
    )
    expect(unoffered).toMatchObject({
      status: 400,
      detail: expect.stringMatching(/does not offer "DATABASE_URL"/),
    })
    const names = (await api.embedded.runtime.listAgents()).agents.map((a) => a.name)
    expect(names).not.toContain('absent')
    expect(names).not.toContain('thief')
  })

  test('behavior: a bad model or a key in the wrong place is a 400 naming the field, and nothing is launched', async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [
        { model: model({ provider: 'anthropic' }) },
        'model.provider',
        /must be one of "openai", "openai-compatible", "ollama", "llamacpp", "vllm"/,
      ],
      [
        { model: { provider: 'openai-compatible', model: 'm' } },
        'model.baseURL',
        /is required for provider "openai-compatible"/,
      ],
      [
        { model: model({ baseURL: `http://user:${secret}@127.0.0.1:9/v1` }) },
        'model.baseURL',
        /must not carry credentials/,
      ],
      [
        { model: model({ baseURL: `http://127.0.0.1:9/v1?api_key=${secret}` }) },
        'model.baseURL',
        /must not carry credentials/,
      ],
      [{ model: model({ apiKey: secret, apiKeyEnv: 'X' }) }, 'model.apiKeyEnv', /not both/],
      [{ model: model({ apiKeyEnv: 'not a name' }) }, 'model.apiKeyEnv', /must name an environment variable/],
      [{ model: model({ key: secret }) }, 'model', /unknown field\(s\) "key"/],
      [{ model: model({ temperature: 3 }) }, 'model.temperature', /between 0 and 2/],
      [{ apiKey: secret, model: model() }, '(body)', /an API key belongs inside the model/],
    ]
    for (const [fields, path, message] of cases) {
      const body = { name: 'rejected', ...fields }
      const response = await api.call('POST', '/agents', body, owner.token)
      const text = await response.clone().text()
      const problem = await problemOf(response)
      expect(problem.status, JSON.stringify(body)).toBe(400)
      expect(problem.errors, JSON.stringify(body)).toContainEqual({
        path,
        message: expect.stringMatching(message),
      })
      expect(text, JSON.stringify(body)).not.toContain(secret)
    }
    const openai = await problemOf(
      await api.call(
        'POST',
        '/agents',
        { name: 'rejected', model: { provider: 'openai', model: 'gpt-4o-mini' } },
        owner.token,
      ),
    )
    expect(openai).toMatchObject({
      status: 400,
      errors: [{ path: 'model.apiKey', message: expect.stringMatching(/is required for provider "openai"/) }],
    })
    expect((await api.embedded.runtime.listAgents()).agents.map((a) => a.name)).not.toContain('rejected')
  })
})

describe('PATCH /agents/:id', () => {
  let agent: View
  beforeAll(async () => {
    agent = await launch({ name: 'patched', description: 'Before.', model: model({ apiKey: secret }) })
  })

  test('default: a new key replaces the sealed one; apiKey: null removes it; model: null removes the model', async () => {
    const replaced = await api.call(
      'PATCH',
      `/agents/${agent.id}`,
      { model: model({ apiKey: replacement }) },
      owner.token,
    )
    expect(replaced.status, await replaced.clone().text()).toBe(200)
    expect(await replaced.clone().text()).not.toContain(replacement)
    expect(await authorizationOfATask(agent.id)).toBe(`Bearer ${replacement}`)

    const kept = (await (
      await api.call('PATCH', `/agents/${agent.id}`, { model: model({ model: 'bigger' }) }, owner.token)
    ).json()) as View
    expect(kept.model).toMatchObject({ model: 'bigger', credential: 'sealed' })
    expect(await authorizationOfATask(agent.id)).toBe(`Bearer ${replacement}`)

    const removed = (await (
      await api.call('PATCH', `/agents/${agent.id}`, { model: model({ apiKey: null }) }, owner.token)
    ).json()) as View
    expect(removed.model).toMatchObject({ credential: 'none' })
    expect((await storedRow(agent.id)).modelKey).toBeNull()

    const none = (await (
      await api.call('PATCH', `/agents/${agent.id}`, { model: null }, owner.token)
    ).json()) as View
    expect(none.model).toBeNull()
    expect(
      (await problemOf(await api.call('POST', `/agents/${agent.id}/tasks`, { goal: 'x' }, owner.token))).code,
    ).toBe('NO_MODEL')
    const updates = (await api.embedded.runtime.listActivity(agent.id, { limit: 1_000 })).filter(
      (e) => e.data.event === 'updated',
    )
    expect(updates.map((e) => e.data.fields)).toEqual([['model'], ['model'], ['model'], ['model']])
    expect(JSON.stringify(updates)).not.toContain(replacement)
  })

  test("behavior: a bad patch is a 400 that changes nothing; someone else's agent is a 403", async () => {
    const before = await storedRow(agent.id)
    const cases: [Record<string, unknown>, string][] = [
      [{ description: 'After.', model: model({ provider: 'gemini' }) }, 'model.provider'],
      [{ description: 'After.', apiKey: secret }, '(body)'],
      [
        { description: 'After.', offerings: [{ name: 'x', description: 'x', price: '1', token: 'dUSD' }] },
        'offerings.0',
      ],
      [
        { description: 'After.', policy: { budget: { amount: '1', period: 'year' } } },
        'policy.budget.period',
      ],
      [{}, '(body)'],
    ]
    for (const [body, path] of cases) {
      const problem = await problemOf(await api.call('PATCH', `/agents/${agent.id}`, body, owner.token))
      expect(problem.status, JSON.stringify(body)).toBe(400)
      expect(
        problem.errors?.map((e) => e.path),
        JSON.stringify(body),
      ).toContain(path)
    }
    const unknownToken = await problemOf(
      await api.call(
        'PATCH',
        `/agents/${agent.id}`,
        { description: 'After.', policy: { token: 'NOPE' } },
        owner.token,
      ),
    )
    expect(unknownToken).toMatchObject({ status: 400, detail: expect.stringMatching(/Unknown token/) })
    const forbidden = await problemOf(
      await api.call('PATCH', `/agents/${agent.id}`, { description: 'Mine now.' }, stranger.token),
    )
    expect(forbidden.status).toBe(403)
    expect(await storedRow(agent.id)).toEqual(before)
    expect(((await (await api.app.request(`/agents/${agent.id}`)).json()) as View).description).toBe(
      'Before.',
    )
  })

  test('behavior: the OpenAPI document describes the model and the patch', async () => {
    const document = (await (await api.app.request('/openapi.json')).json()) as {
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> }
    }
    const { schemas } = document.components
    const modelView = schemas.Agent!.properties!.model as { properties: Record<string, unknown> }
    expect(Object.keys(modelView.properties)).toEqual(
      expect.arrayContaining(['provider', 'model', 'baseURL', 'credential', 'apiKeyEnv']),
    )
    expect(modelView.properties).not.toHaveProperty('apiKey')
    expect(Object.keys(schemas.UpdateAgent!.properties!)).toEqual(
      expect.arrayContaining([
        'description',
        'instructions',
        'model',
        'offerings',
        'policy',
        'providerPolicy',
      ]),
    )
  })
})
