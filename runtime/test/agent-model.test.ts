import { randomBytes } from 'node:crypto'
import type { Devnet } from '@agora/contracts'
import { createDb, getAgent, listOfferings, tables } from '@agora/db'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type AgentJson, agentFromJson } from '../src/actions/agents/agent-from-json.ts'
import { createRuntime } from '../src/create-runtime.ts'
import { defineAgent } from '../src/define-agent.ts'
import type { Runtime } from '../src/runtime.ts'
import { asOwner, devnetClients, withDevnet } from './harness.ts'
import { type OpenAIStub, startOpenAIStub } from './inference/openai-stub.ts'

// Models of agents defined as JSON: the API key sealed at rest and opened only in memory, and
// PATCH of everything set at launch, all or nothing, with funded jobs kept on their terms.

const secret = 'sk-test-SEALED-7f3a9c'
const replacement = 'sk-test-REPLACED-81be2d'
const fromEnv = 'sk-test-FROM-ENV-55c0e1'

describe('models and edits of agents defined as JSON', () => {
  let devnet: Devnet
  let database: Awaited<ReturnType<typeof createDb>>
  let stub: OpenAIStub
  const masterKey = randomBytes(32)
  const running: Runtime[] = []

  const open = async () => {
    const runtime = await createRuntime({
      chain: { rpcUrl: devnet.rpcUrl, manifest: devnet.manifest },
      db: database.db,
      masterKey,
      relayerKeys: [devnet.manifest.accounts[12]!.privateKey, devnet.manifest.accounts[13]!.privateKey],
      pollIntervalMs: 50,
      log: () => {},
    })
    await runtime.start()
    running.push(runtime)
    return runtime
  }
  const stop = async (runtime: Runtime) => {
    await runtime.stop()
    running.splice(running.indexOf(runtime), 1)
  }
  const model = (extra: Record<string, unknown> = {}) => ({
    provider: 'openai-compatible' as const,
    baseURL: stub.baseURL,
    model: 'small',
    maxRetries: 0,
    ...extra,
  })
  /** Runs a one-step task and answers what the model server was sent. */
  const think = async (runtime: Runtime, agentId: string) => {
    stub.reply({ text: 'done' })
    await runtime.runTask(agentId, { goal: 'Say done.' })
    return stub.requests.at(-1)!
  }
  /** Everything stored, as text: the secret must be in none of it. */
  const everythingStored = async () =>
    JSON.stringify(
      await Promise.all(
        [tables.agents, tables.activity, tables.intents, tables.offerings, tables.usage].map((t) =>
          database.db.select().from(t),
        ),
      ),
    )

  beforeAll(async () => {
    devnet = await withDevnet()
    database = await createDb()
    stub = await startOpenAIStub()
  })
  afterAll(async () => {
    for (const runtime of running) await runtime.stop()
    await database?.close()
    await stub?.close()
    await devnet?.stop()
    delete process.env.AGORA_MODEL_KEY_ENVS
    delete process.env.AGORA_TEST_MODEL_KEY
  })

  test('behavior: an API key is sealed at rest, used for the model, never shown, and opened again after a restart', async () => {
    const owner = devnet.manifest.accounts[1]!.address
    const first = await open()
    const thinker = await first.launch(
      agentFromJson({ name: 'thinker', instructions: 'Think.', model: model({ apiKey: secret }) }),
      { owner },
    )
    expect((await think(first, thinker.id)).authorization).toBe(`Bearer ${secret}`)

    const row = (await getAgent(database.db, thinker.id))!
    expect(row.modelKey).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/)
    expect(JSON.stringify(row.definition)).not.toContain(secret)
    expect(row.definition).toMatchObject({
      json: { model: { model: 'small' } },
      credential: { source: 'sealed' },
    })
    const view = await thinker.info()
    expect(view.model).toEqual({
      provider: 'openai-compatible',
      model: 'small',
      baseURL: stub.baseURL,
      timeoutMs: 60_000,
      maxRetries: 0,
      credential: 'sealed',
    })
    expect(JSON.stringify(view)).not.toContain(secret)
    expect(JSON.stringify(await first.listActivity(thinker.id, { limit: 1_000 }))).not.toContain(secret)
    expect(await everythingStored()).not.toContain(secret)
    await stop(first)

    // A new process: the key is opened from its sealed copy, with the same master key.
    const second = await open()
    expect((await think(second, thinker.id)).authorization).toBe(`Bearer ${secret}`)
    await stop(second)
  })

  test('behavior: PATCH of the model keeps, replaces or removes the sealed key, or names a server variable', async () => {
    const runtime = await open()
    const owner = devnet.manifest.accounts[1]!.address
    const agent = await runtime.launch(
      agentFromJson({ name: 'switcher', model: model({ apiKey: secret }) }),
      { owner },
    )
    const sealedAtLaunch = (await getAgent(database.db, agent.id))!.modelKey

    // A new model without apiKey keeps the sealed key.
    const kept = await runtime.updateAgent(agent.id, { model: model({ model: 'bigger' }) })
    expect(kept.model).toMatchObject({ model: 'bigger', credential: 'sealed' })
    expect((await getAgent(database.db, agent.id))!.modelKey).toBe(sealedAtLaunch)
    expect(await think(runtime, agent.id)).toMatchObject({
      model: 'bigger',
      authorization: `Bearer ${secret}`,
    })

    // apiKey replaces it.
    await runtime.updateAgent(agent.id, { model: model({ apiKey: replacement }) })
    const replaced = (await getAgent(database.db, agent.id))!.modelKey
    expect(replaced).not.toBe(sealedAtLaunch)
    expect(replaced).not.toContain(replacement)
    expect((await think(runtime, agent.id)).authorization).toBe(`Bearer ${replacement}`)

    // apiKey: null removes it (a local server needs none; the client sends a placeholder).
    const removed = await runtime.updateAgent(agent.id, { model: model({ apiKey: null }) })
    expect(removed.model).toMatchObject({ credential: 'none' })
    expect((await getAgent(database.db, agent.id))!.modelKey).toBeNull()
    expect((await think(runtime, agent.id)).authorization).not.toContain('sk-test')

    // A server variable its operator offers for this origin.
    process.env.AGORA_MODEL_KEY_ENVS = `AGORA_TEST_MODEL_KEY=${new URL(stub.baseURL).origin}`
    process.env.AGORA_TEST_MODEL_KEY = fromEnv
    const env = await runtime.updateAgent(agent.id, { model: model({ apiKeyEnv: 'AGORA_TEST_MODEL_KEY' }) })
    expect(env.model).toMatchObject({ credential: 'env', apiKeyEnv: 'AGORA_TEST_MODEL_KEY' })
    expect((await think(runtime, agent.id)).authorization).toBe(`Bearer ${fromEnv}`)

    // null removes the model.
    const none = await runtime.updateAgent(agent.id, { model: null })
    expect(none.model).toBeNull()
    await expect(runtime.runTask(agent.id, { goal: 'Say done.' })).rejects.toMatchObject({ code: 'NO_MODEL' })

    const updates = (await runtime.listActivity(agent.id, { limit: 1_000 })).filter(
      (e) => e.kind === 'lifecycle' && e.data.event === 'updated',
    )
    expect(updates.map((e) => e.data.fields)).toEqual([['model'], ['model'], ['model'], ['model'], ['model']])
    const stored = await everythingStored()
    for (const key of [secret, replacement, fromEnv]) expect(stored).not.toContain(key)
    await stop(runtime)
  })

  test('behavior: a bad PATCH changes nothing; an agent defined in TypeScript changes only its texts', async () => {
    const runtime = await open()
    const owner = devnet.manifest.accounts[1]!.address
    const agent = await runtime.launch(
      agentFromJson({ name: 'steady', description: 'Steady.', model: model({ apiKey: secret }) }),
      { owner },
    )
    const before = await getAgent(database.db, agent.id)
    const refusals: [Record<string, unknown>, RegExp][] = [
      // A valid description with an invalid rest: the description is not written either.
      [{ description: 'Changed.', policy: { token: 'NOPE' } }, /Unknown token/],
      [
        { description: 'Changed.', model: { provider: 'openai', model: 'gpt-4o', apiKey: null } },
        /model\.apiKey: is required/,
      ],
      [
        { description: 'Changed.', model: { provider: 'anthropic', model: 'claude' } },
        /model\.provider: must be one of "openai"/,
      ],
      [
        { description: 'Changed.', model: model({ baseURL: `http://u:${secret}@127.0.0.1/v1` }) },
        /must not carry credentials/,
      ],
      [{ description: 'Changed.', apiKey: secret }, /an API key belongs inside the model/],
      [
        { description: 'Changed.', model: model({ apiKeyEnv: 'AGORA_MASTER_KEY' }) },
        /does not offer "AGORA_MASTER_KEY"/,
      ],
      [{}, /must set at least one of/],
    ]
    for (const [patch, message] of refusals) {
      const error = await runtime.updateAgent(agent.id, patch as never).catch((e: unknown) => e)
      expect(error, JSON.stringify(patch)).toMatchObject({ name: 'ValidationError', shortMessage: message })
      expect(JSON.stringify(error), JSON.stringify(patch)).not.toContain(secret)
    }
    expect(await getAgent(database.db, agent.id)).toEqual(before)
    expect((await agent.info()).description).toBe('Steady.')

    const coded = await runtime.launch(defineAgent({ name: 'coded', model: model({ apiKey: secret }) }), {
      owner,
    })
    expect((await coded.info()).model).toMatchObject({ credential: 'code' })
    expect((await getAgent(database.db, coded.id))!.modelKey).toBeNull()
    await expect(runtime.updateAgent(coded.id, { policy: { perJobCap: '9' } })).rejects.toMatchObject({
      code: 'DEFINED_IN_CODE',
      shortMessage: expect.stringMatching(/defined in TypeScript.*change policy in its code/),
    })
    expect(await runtime.updateAgent(coded.id, { description: 'Still code.' })).toMatchObject({
      description: 'Still code.',
    })
    await stop(runtime)
  })

  test('behavior: offerings added, repriced and retired reach the market and registration file; jobs funded before keep their terms', async () => {
    const owner = devnet.manifest.accounts[1]!.address
    const text = { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] }
    const topic = { type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'] }
    const offering = (name: string, price: string, prompt: string) => ({
      name,
      description: `Writes a ${name}`,
      price,
      token: 'dUSD',
      input: topic,
      output: text,
      prompt,
    })
    const poet: AgentJson = {
      name: 'poet',
      description: 'Writes poems.',
      instructions: 'You write short poems.',
      model: model({ apiKey: secret }),
      offerings: [
        offering('poem', '1', 'OLD poem about {{topic}}'),
        offering('haiku', '1', 'Haiku about {{topic}}'),
      ],
    }
    const first = await open()
    const provider = await first.launch(agentFromJson(poet), { owner })
    const buyer = await first.launch(agentFromJson({ name: 'buyer', policy: { perJobCap: '5' } }), { owner })
    await devnetClients(devnet).fund((await buyer.info()).safe!, '10')
    const providerId = (await provider.info()).chainAgentId!

    // Funded while the provider is paused, so they wait to be served until after the change.
    await first.setAgentStatus(provider.id, { status: 'paused' })
    const poemJob = await buyer.hire({ provider: providerId, offering: 'poem', input: { topic: 'rain' } })
    const haikuJob = await buyer.hire({ provider: providerId, offering: 'haiku', input: { topic: 'snow' } })
    for (const job of [poemJob, haikuJob]) {
      await expect.poll(async () => (await job.get()).status, { timeout: 10_000 }).toBe('funded')
    }

    // The policy is written to the agent module too: a Safe transaction its owner signs.
    const updated = await asOwner(devnet, 1, (ownerSignature) =>
      first.updateAgent(provider.id, {
        description: 'Writes poems and limericks.',
        offerings: [
          offering('poem', '3', 'NEW poem about {{topic}}'),
          offering('limerick', '2', 'Limerick: {{topic}}'),
        ],
        policy: { perJobCap: '4' },
        ownerSignature,
      }),
    )
    expect(updated.offerings.map((o) => [o.name, o.price.formatted])).toEqual([
      ['poem', '3'],
      ['limerick', '2'],
    ])
    expect(updated.policy).toEqual({ perJobCap: '4' })
    expect((await listOfferings(database.db, provider.id)).map((o) => [o.name, o.active])).toEqual([
      ['haiku', false],
      ['limerick', true],
      ['poem', true],
    ])
    await first.setAgentStatus(provider.id, { status: 'active' })
    const { offerings: market } = await first.searchMarket({ text: 'poet' })
    expect(market.map((m) => [m.offering.name, m.offering.price.formatted]).sort()).toEqual([
      ['limerick', '2'],
      ['poem', '3'],
    ])
    expect(await first.registrationFile(providerId)).toMatchObject({
      description: 'Writes poems and limericks.',
      offerings: [{ name: 'poem', price: { formatted: '3' } }, { name: 'limerick' }],
    })
    await expect(
      buyer.hire({ provider: providerId, offering: 'haiku', input: { topic: 'late' } }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' })
    const [update] = (await first.listActivity(provider.id, { limit: 1_000 })).filter(
      (e) => e.data.event === 'updated',
    )
    expect(update!.data).toEqual({
      event: 'updated',
      fields: ['description', 'offerings', 'policy'],
      offerings: { added: ['limerick'], changed: ['poem'], retired: ['haiku'] },
    })
    // The versions those jobs were hired on are kept (to serve them after a restart too).
    expect((await getAgent(database.db, provider.id))!.definition).toMatchObject({
      formerOfferings: [
        { offering: { name: 'poem', price: '1', prompt: 'OLD poem about {{topic}}' } },
        { offering: { name: 'haiku' } },
      ],
    })
    await stop(first)

    // After a restart, the funded jobs are served as hired: the old prompt, the retired offering, the old price.
    const served = stub.requests.length
    stub.reply(
      { toolCalls: [{ name: 'answer', arguments: { text: 'A verse.' } }] },
      { toolCalls: [{ name: 'answer', arguments: { text: 'A verse.' } }] },
    )
    const second = await open()
    for (const job of [poemJob, haikuJob]) {
      const done = await second.job(job.jobId).done()
      expect(done).toMatchObject({ status: 'completed', deliverable: { text: 'A verse.' } })
      expect(done.budget.formatted).toBe('1')
    }
    const prompts = stub.requests.slice(served).map((r) => String(r.messages.at(-1)!.content))
    expect(prompts.sort()).toEqual([
      expect.stringMatching(/^Haiku about <untrusted-data/),
      expect.stringMatching(/^OLD poem about <untrusted-data/),
    ])
    await stop(second)
  })
})
