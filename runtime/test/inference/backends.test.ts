import { BaseError } from '@agora/db'
import { describe, expect, expectTypeOf, onTestFinished, test } from 'vitest'
import { z } from 'zod'
import { createChatModel } from '../../src/inference/chat-model.ts'
import { complete } from '../../src/inference/complete.ts'
import type { InferenceUsage } from '../../src/inference/invoke-model.ts'
import type { ModelConfigInput } from '../../src/inference/model-config.ts'
import { generateStructured } from '../../src/inference/structured.ts'
import { defaultStubUsage, type OpenAIStub, startOpenAIStub } from './openai-stub.ts'

// The same suite for every backend: each is an OpenAI-protocol server, here played by the stub.
const backends: (ModelConfigInput & { expectedKey: string })[] = [
  { provider: 'openai-compatible', model: 'stub-model', expectedKey: 'not-needed' },
  { provider: 'ollama', model: 'llama3.1:8b', expectedKey: 'not-needed' },
  { provider: 'llamacpp', model: 'qwen2.5-7b-instruct', expectedKey: 'not-needed' },
  { provider: 'vllm', model: 'meta-llama/Llama-3.1-8B-Instruct', expectedKey: 'not-needed' },
  { provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-stub', expectedKey: 'sk-stub' },
]

const weather = {
  name: 'weather',
  description: 'Current weather in a city',
  schema: z.object({ city: z.string().min(1), unit: z.enum(['c', 'f']).default('c') }),
}

const messages = [
  { role: 'system' as const, content: 'You are terse.' },
  { role: 'user' as const, content: 'Weather in Paris?' },
]

function expectInferenceFailed(error: unknown): BaseError {
  if (!(error instanceof BaseError)) throw new Error(`expected a BaseError, got ${String(error)}`)
  if (error.code !== 'INFERENCE_FAILED')
    throw new Error(`expected INFERENCE_FAILED, got ${error.code}: ${error.message}`)
  return error
}

function recorder() {
  const calls: (InferenceUsage & { model: string })[] = []
  return { calls, record: (usage: InferenceUsage & { model: string }) => void calls.push(usage) }
}

describe.concurrent.each(backends)('backend: $provider', ({ expectedKey, ...backend }) => {
  // Each test gets its own server, so the tests of every backend run side by side.
  async function setup(overrides: Partial<ModelConfigInput> = {}): Promise<{
    stub: OpenAIStub
    model: ReturnType<typeof createChatModel>
  }> {
    const stub = await startOpenAIStub()
    onTestFinished(() => stub.close())
    const model = createChatModel({ ...backend, baseURL: stub.baseURL, timeoutMs: 5_000, ...overrides })
    return { stub, model }
  }

  describe('complete', () => {
    test('default: a text reply', async ({ expect }) => {
      const { stub, model } = await setup()
      stub.reply({ text: 'Sunny, 21 °C.' })
      const result = await complete({ model, messages })
      expect(result).toEqual({ text: 'Sunny, 21 °C.', toolCalls: [], usage: defaultStubUsage })
      expect(stub.requests).toHaveLength(1)
      const [request] = stub.requests
      expect(request?.model).toBe(backend.model)
      expect(request?.authorization).toBe(`Bearer ${expectedKey}`)
      expect(request?.tools).toBeUndefined()
      expect(request?.messages).toEqual([
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Weather in Paris?' },
      ])
    })

    test('behavior: a tool call is parsed and validated against its schema', async ({ expect }) => {
      const { stub, model } = await setup()
      stub.reply({ toolCalls: [{ id: 'call_1', name: 'weather', arguments: { city: 'Paris' } }] })
      const result = await complete({ model, messages, tools: [weather] })
      // The schema's default is applied: handlers see validated, complete arguments.
      expectTypeOf(result.toolCalls[0]!.args).toEqualTypeOf<{ city: string; unit: 'c' | 'f' }>()
      expect(result.toolCalls).toEqual([
        { id: 'call_1', name: 'weather', args: { city: 'Paris', unit: 'c' } },
      ])
      expect(result.text).toBe('')
      const sent = stub.requests[0]?.tools
      expect(sent).toHaveLength(1)
      expect(sent?.[0]?.type).toBe('function')
      expect(sent?.[0]?.function.name).toBe('weather')
      expect(sent?.[0]?.function.description).toBe('Current weather in a city')
      expect(sent?.[0]?.function.parameters).toMatchObject({
        type: 'object',
        properties: { city: { type: 'string' }, unit: { enum: ['c', 'f'] } },
        required: ['city'],
      })
    })

    test('behavior: sampling settings are sent', async ({ expect }) => {
      const { stub, model } = await setup({ temperature: 0.1, maxTokens: 64 })
      stub.reply({ text: 'ok' })
      await complete({ model, messages })
      expect(stub.requests[0]?.body).toMatchObject({ temperature: 0.1, max_tokens: 64, stream: false })
    })

    test('behavior: a tool result is sent back in the conversation', async ({ expect }) => {
      const { stub, model } = await setup()
      stub.reply({ text: 'It is sunny in Paris.' })
      const result = await complete({
        model,
        tools: [weather],
        messages: [
          ...messages,
          {
            role: 'assistant',
            content: '',
            toolCalls: [{ id: 'call_9', name: 'weather', args: { city: 'Paris' } }],
          },
          { role: 'tool', toolCallId: 'call_9', content: '{"sky":"clear"}' },
        ],
      })
      expect(result.text).toBe('It is sunny in Paris.')
      const sent = stub.requests[0]?.messages
      expect(sent?.[2]).toMatchObject({
        role: 'assistant',
        tool_calls: [
          { id: 'call_9', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
        ],
      })
      expect(sent?.[3]).toMatchObject({ role: 'tool', tool_call_id: 'call_9', content: '{"sky":"clear"}' })
    })

    test('behavior: malformed JSON arguments are sent back once with the error, then accepted when fixed', async ({
      expect,
    }) => {
      const { stub, model } = await setup()
      stub.reply(
        { toolCalls: [{ name: 'weather', arguments: '{"city": "Paris"' }] },
        { toolCalls: [{ name: 'weather', arguments: { city: 'Paris', unit: 'f' } }] },
      )
      const result = await complete({ model, messages, tools: [weather] })
      expect(result.toolCalls.map((c) => c.args)).toEqual([{ city: 'Paris', unit: 'f' }])
      expect(stub.requests).toHaveLength(2)
      const correction = stub.requests[1]?.messages.at(-1)
      expect(correction?.role).toBe('user')
      expect(String(correction?.content)).toMatch(/tool call "weather" are not valid JSON/)
      expect(String(correction?.content)).toContain('{"city": "Paris"')
    })

    test('behavior: malformed JSON arguments twice are refused', async ({ expect }) => {
      const { stub, model } = await setup()
      stub.reply(
        { toolCalls: [{ name: 'weather', arguments: '{"city": ' }] },
        { toolCalls: [{ name: 'weather', arguments: 'city=Paris' }] },
      )
      const error = expectInferenceFailed(
        await complete({ model, messages, tools: [weather] }).catch((e) => e),
      )
      expect(error.shortMessage).toMatch(/sent unusable tool calls twice/)
      expect(error.shortMessage).toMatch(/not valid JSON/)
      expect(stub.requests).toHaveLength(2)
    })

    test('behavior: schema-invalid arguments are retried once, then refused, never returned', async ({
      expect,
    }) => {
      const { stub, model } = await setup()
      stub.reply(
        { toolCalls: [{ name: 'weather', arguments: { city: 42 } }] },
        { toolCalls: [{ name: 'weather', arguments: { city: 'Paris', unit: 'kelvin' } }] },
      )
      const error = expectInferenceFailed(
        await complete({ model, messages, tools: [weather] }).catch((e) => e),
      )
      expect(error.shortMessage).toMatch(/do not match its schema: unit:/)
      expect(stub.requests).toHaveLength(2)
      expect(String(stub.requests[1]?.messages.at(-1)?.content)).toMatch(/do not match its schema: city:/)
      expect(stub.pending()).toBe(0)
    })

    test('behavior: a call to an unknown tool is refused', async ({ expect }) => {
      const { stub, model } = await setup()
      stub.reply(
        { toolCalls: [{ name: 'delete_everything', arguments: {} }] },
        { toolCalls: [{ name: 'delete_everything', arguments: {} }] },
      )
      const error = expectInferenceFailed(
        await complete({ model, messages, tools: [weather] }).catch((e) => e),
      )
      expect(error.shortMessage).toMatch(/no tool named "delete_everything"/)
    })

    test('behavior: HTTP 500 is retried', async ({ expect }) => {
      const { stub, model } = await setup()
      stub.reply({ status: 500 }, { text: 'recovered' })
      const result = await complete({ model, messages })
      expect(result.text).toBe('recovered')
      expect(stub.requests).toHaveLength(2)
    })

    test('behavior: HTTP 500 on every attempt surfaces as INFERENCE_FAILED with the status', async ({
      expect,
    }) => {
      const { stub, model } = await setup({ maxRetries: 1 })
      stub.reply({ status: 503 }, { status: 503 })
      const error = expectInferenceFailed(await complete({ model, messages }).catch((e) => e))
      expect(error.shortMessage).toMatch(/answered with HTTP 503 \(2 attempts\)/)
      expect(error.meta).toMatchObject({ status: 503, provider: backend.provider })
      expect(error.cause).toBeInstanceOf(Error)
      expect(stub.requests).toHaveLength(2)
    })

    test('behavior: a timeout surfaces as INFERENCE_FAILED after the retries', async ({ expect }) => {
      const { stub, model } = await setup({ timeoutMs: 200, maxRetries: 1 })
      stub.reply(
        { delayMs: 1_000, reply: { text: 'too late' } },
        { delayMs: 1_000, reply: { text: 'too late' } },
      )
      const error = expectInferenceFailed(await complete({ model, messages }).catch((e) => e))
      expect(error.shortMessage).toBe(
        `Model "${backend.model}" (${backend.provider} at ${stub.baseURL}) did not answer within 200 ms (2 attempts).`,
      )
      expect(error.meta).toMatchObject({ reason: 'timeout', timeoutMs: 200 })
      expect(stub.requests).toHaveLength(2)
    })

    test('behavior: usage of every call is reported, and summed in the result', async ({ expect }) => {
      const { stub, model } = await setup()
      stub.reply(
        {
          toolCalls: [{ name: 'weather', arguments: '{' }],
          usage: { promptTokens: 100, completionTokens: 3 },
        },
        {
          toolCalls: [{ name: 'weather', arguments: { city: 'Oslo' } }],
          usage: { promptTokens: 140, completionTokens: 9 },
        },
      )
      const usage = recorder()
      const result = await complete({ model, messages, tools: [weather], usage })
      expect(usage.calls).toEqual([
        { model: backend.model, promptTokens: 100, completionTokens: 3 },
        { model: backend.model, promptTokens: 140, completionTokens: 9 },
      ])
      expect(result.usage).toEqual({ promptTokens: 240, completionTokens: 12 })
    })
  })

  describe('generateStructured', () => {
    const verdict = z.object({ accept: z.boolean(), rating: z.int().min(0).max(100) })

    test('default: the answer comes from a forced tool call and is validated', async ({ expect }) => {
      const { stub, model } = await setup()
      stub.reply({ toolCalls: [{ name: 'verdict', arguments: { accept: true, rating: 87 } }] })
      const usage = recorder()
      const result = await generateStructured({
        model,
        prompt: 'Judge this.',
        schema: verdict,
        name: 'verdict',
        usage,
      })
      expect(result).toEqual({ accept: true, rating: 87 })
      expect(stub.requests[0]?.toolChoice).toEqual({ type: 'function', function: { name: 'verdict' } })
      expect(stub.requests[0]?.messages).toEqual([{ role: 'user', content: 'Judge this.' }])
      expect(usage.calls).toEqual([{ model: backend.model, ...defaultStubUsage }])
    })

    test('behavior: a JSON text answer is accepted from servers that ignore tool_choice', async ({
      expect,
    }) => {
      const { stub, model } = await setup()
      stub.reply({ text: '```json\n{"accept": false, "rating": 10}\n```' })
      const result = await generateStructured({ model, prompt: 'Judge this.', schema: verdict })
      expect(result).toEqual({ accept: false, rating: 10 })
    })

    test('behavior: an invalid answer is retried once, then refused', async ({ expect }) => {
      const { stub, model } = await setup()
      stub.reply(
        { toolCalls: [{ name: 'answer', arguments: { accept: 'yes', rating: 50 } }] },
        { text: 'I think it is fine.' },
      )
      const error = expectInferenceFailed(
        await generateStructured({ model, messages, schema: verdict }).catch((e) => e),
      )
      expect(error.shortMessage).toMatch(/did not produce a valid "answer" twice: The reply was text/)
      expect(String(stub.requests[1]?.messages.at(-1)?.content)).toMatch(/accept:/)
    })
  })
})

describe('complete: unreachable backend', () => {
  test('behavior: a refused connection surfaces as INFERENCE_FAILED naming the address', async () => {
    // Take a free port, then close it, so nothing listens there.
    const stub = await startOpenAIStub()
    await stub.close()
    const model = createChatModel({ provider: 'vllm', model: 'qwen', baseURL: stub.baseURL, maxRetries: 0 })
    const error = expectInferenceFailed(await complete({ model, messages }).catch((e) => e))
    expect(error.shortMessage).toBe(
      `Model "qwen" (vllm at ${stub.baseURL}) could not be reached (1 attempt).`,
    )
    expect(error.meta).toMatchObject({ reason: 'connection' })
  })
})
