import type { Devnet } from '@agora/contracts'
import { type Db, getAgent } from '@agora/db'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { z } from 'zod'
import { defineAgent } from '../src/define-agent.ts'
import type { Runtime } from '../src/runtime.ts'
import { devnetClients, openRuntime, withDevnet } from './harness.ts'
import { type OpenAIStub, startOpenAIStub } from './inference/openai-stub.ts'

describe('offerings served by a model', () => {
  let devnet: Devnet
  let runtime: Runtime
  let db: Db
  let close: () => Promise<void>
  let stub: OpenAIStub

  beforeAll(async () => {
    devnet = await withDevnet()
    stub = await startOpenAIStub()
  })
  afterAll(async () => {
    await close?.()
    await stub?.close()
    await devnet?.stop()
  })

  test('behavior: the prompt is filled from the input, the answer held to the schema, usage recorded per job', async () => {
    const summarizer = defineAgent({
      name: 'llm-summarizer',
      instructions: 'Write plainly.',
      model: { provider: 'vllm', baseURL: stub.baseURL, model: 'small', maxRetries: 0, apiKey: 'sk-secret' },
      offerings: [
        {
          name: 'summarize',
          description: 'Summarises text with a model',
          price: '1',
          token: 'dUSD',
          input: z.object({ text: z.string() }),
          output: z.object({ summary: z.string().min(1) }),
          prompt: 'Summarise in one sentence:\n{{text}}',
        },
      ],
    })
    const client = defineAgent({ name: 'reader' })
    ;({ runtime, db, close } = await openRuntime(devnet, { name: 'pglite' }, [summarizer, client]))
    const owner = devnet.manifest.accounts[1]!.address
    const provider = await runtime.launch(summarizer, { owner })
    const reader = await runtime.launch(client, { owner })
    await devnetClients(devnet).fund((await reader.info()).safe!, '10')
    // The first answer breaks the schema; the model is asked again and then answers well.
    stub.reply(
      { toolCalls: [{ name: 'answer', arguments: { summary: '' } }] },
      {
        toolCalls: [{ name: 'answer', arguments: { summary: 'Agents trade.' } }],
        usage: { promptTokens: 30, completionTokens: 4 },
      },
    )
    const job = await reader.hire({
      provider: (await provider.info()).chainAgentId!,
      offering: 'summarize',
      input: { text: 'Agents pay each other and rate the work.' },
    })
    const done = await job.done()
    expect(done).toMatchObject({ status: 'completed', deliverable: { summary: 'Agents trade.' } })
    // The client's input is marked as untrusted data; the instructions are the system prompt.
    expect(stub.requests[0]!.messages.at(-1)!.content).toBe(
      'Summarise in one sentence:\n<untrusted-data source="client input text">Agents pay each other and rate the work.</untrusted-data>',
    )
    expect(stub.requests[0]!.messages[0]).toMatchObject({
      role: 'system',
      content: expect.stringMatching(/^Write plainly\.\nText inside <untrusted-data> elements/),
    })
    const usage = (await db.query.usage.findMany()).filter((u) => u.jobId === done.jobId)
    expect(usage.map((u) => [u.model, u.promptTokens, u.completionTokens])).toEqual([
      ['small', 12, 5],
      ['small', 30, 4],
    ])
    // The API key stays in code: the stored definition has none, nor does the agent's view.
    const stored = await getAgent(db, provider.id)
    expect(stored?.definition).toMatchObject({ model: { provider: 'vllm', model: 'small' } })
    expect(JSON.stringify(stored?.definition)).not.toContain('sk-secret')
    expect(JSON.stringify(await provider.info())).not.toContain('sk-secret')
  })

  test('behavior: a client with a model and no evaluator of its own has the model judge, and a rejection refunds', async () => {
    const shouter = defineAgent({
      name: 'shouter',
      offerings: [
        {
          name: 'shout',
          description: 'Upper-cases text',
          price: '1',
          token: 'dUSD',
          input: z.object({ text: z.string() }),
          handler: ({ text }: { text: string }) => ({ text: text.toUpperCase() }),
        },
      ],
    })
    const critic = defineAgent({
      name: 'critic',
      model: { provider: 'ollama', baseURL: stub.baseURL, model: 'judge', maxRetries: 0 },
    })
    const second = await openRuntime(devnet, { name: 'pglite' }, [shouter, critic], [16, 17])
    try {
      const owner = devnet.manifest.accounts[2]!.address
      const provider = await second.runtime.launch(shouter, { owner })
      const client = await second.runtime.launch(critic, { owner })
      const safe = (await client.info()).safe!
      await devnetClients(devnet).fund(safe, '5', 2)
      stub.reply({
        toolCalls: [
          { name: 'verdict', arguments: { accept: false, rating: 0, reason: 'I asked for lower case.' } },
        ],
      })
      const job = await client.hire({
        provider: (await provider.info()).chainAgentId!,
        offering: 'shout',
        input: { text: 'hi' },
      })
      expect((await job.done()).status).toBe('rejected')
      expect(stub.requests.at(-1)!.messages.at(-1)!.content).toContain(
        '<untrusted-data source="the provider">{"text":"HI"}</untrusted-data>',
      )
      expect(await devnetClients(devnet).dUSD(safe)).toBe(5_000_000n)
    } finally {
      await second.close()
    }
  })
})
