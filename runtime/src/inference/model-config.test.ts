import { BaseError } from '@agora/db'
import { ChatOpenAI } from '@langchain/openai'
import { describe, expect, test } from 'vitest'
import { createChatModel } from '../../src/inference/chat-model.ts'
import {
  modelConfigFromEnv,
  modelFromJson,
  modelJsonSchema,
  modelPatchSchema,
  parseModelConfig,
} from './model-config.ts'

function configError(run: () => unknown): BaseError {
  try {
    run()
  } catch (error) {
    if (error instanceof BaseError && error.code === 'INVALID_CONFIG') return error
    throw error
  }
  throw new Error('expected an INVALID_CONFIG error')
}

describe('parseModelConfig', () => {
  test('default: timeout and retries are filled in', () => {
    expect(parseModelConfig({ provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-1' })).toEqual({
      provider: 'openai',
      model: 'gpt-4o-mini',
      apiKey: 'sk-1',
      baseURL: undefined,
      timeoutMs: 60_000,
      maxRetries: 2,
    })
  })

  test.each([
    ['ollama', 'http://127.0.0.1:11434/v1'],
    ['llamacpp', 'http://127.0.0.1:8080/v1'],
    ['vllm', 'http://127.0.0.1:8000/v1'],
  ] as const)('behavior: %s defaults its base URL to %s', (provider, baseURL) => {
    expect(parseModelConfig({ provider, model: 'm' }).baseURL).toBe(baseURL)
  })

  test('behavior: an explicit base URL and tuning are kept', () => {
    const config = parseModelConfig({
      provider: 'ollama',
      model: 'llama3.1',
      baseURL: 'http://gpu-box:11434/v1',
      temperature: 0.2,
      maxTokens: 512,
      timeoutMs: 5_000,
      maxRetries: 0,
    })
    expect(config).toMatchObject({ baseURL: 'http://gpu-box:11434/v1', temperature: 0.2, maxTokens: 512 })
    expect(config).toMatchObject({ timeoutMs: 5_000, maxRetries: 0 })
  })

  test('behavior: openai requires an API key', () => {
    expect(configError(() => parseModelConfig({ provider: 'openai', model: 'gpt-4o' })).shortMessage).toBe(
      'Model config is invalid: apiKey: is required for provider "openai"',
    )
  })

  test('behavior: openai-compatible requires a base URL', () => {
    expect(
      configError(() => parseModelConfig({ provider: 'openai-compatible', model: 'm' })).shortMessage,
    ).toBe('Model config is invalid: baseURL: is required for provider "openai-compatible"')
  })

  test('behavior: every bad field is named at once', () => {
    const error = configError(() =>
      parseModelConfig({
        provider: 'azure',
        model: '',
        baseURL: 'ftp://models.example',
        apiKey: '',
        temperature: 3,
        maxTokens: 1.5,
        timeoutMs: -1,
        maxRetries: 11,
        seed: 7,
      }),
    )
    expect(error.shortMessage).toMatchInlineSnapshot(
      `"Model config is invalid: provider: must be one of "openai", "openai-compatible", "ollama", "llamacpp", "vllm"; model: must not be empty; baseURL: must be an http(s) URL, e.g. "http://127.0.0.1:8080/v1"; apiKey: must not be empty; temperature: must be between 0 and 2; maxTokens: must be a whole number; timeoutMs: must be more than zero; maxRetries: must be at most 10; seed: is not a known field"`,
    )
    expect((error.meta?.issues as { path: string }[] | undefined)?.map((i) => i.path)).toEqual([
      'provider',
      'model',
      'baseURL',
      'apiKey',
      'temperature',
      'maxTokens',
      'timeoutMs',
      'maxRetries',
      'seed',
    ])
  })

  test('behavior: wrong types and missing fields are named', () => {
    expect(configError(() => parseModelConfig({})).shortMessage).toBe(
      'Model config is invalid: provider: is required and must be one of "openai", "openai-compatible", "ollama", "llamacpp", "vllm"; model: is required',
    )
    expect(
      configError(() =>
        parseModelConfig({ provider: 'openai-compatible', model: 7, temperature: 'hot', maxRetries: '2' }),
      ).shortMessage,
    ).toBe(
      'Model config is invalid: model: must be a string; temperature: must be a number; maxRetries: must be a whole number; baseURL: is required for provider "openai-compatible"',
    )
    expect(
      configError(() => parseModelConfig({ provider: 'vllm', model: 'm', timeoutMs: 7_200_000 }))
        .shortMessage,
    ).toBe('Model config is invalid: timeoutMs: must be at most one hour')
  })

  test('behavior: a config that is not an object is refused', () => {
    expect(configError(() => parseModelConfig('ollama')).shortMessage).toBe(
      'Model config is invalid: (config): must be an object such as { provider: "ollama", model: "llama3.1" }',
    )
  })
})

describe('modelConfigFromEnv', () => {
  test('default: no provider means no config', () => {
    expect(modelConfigFromEnv({})).toBeUndefined()
    expect(modelConfigFromEnv({ AGORA_MODEL: 'llama3.1', AGORA_MODEL_PROVIDER: ' ' })).toBeUndefined()
  })

  test('behavior: reads provider, model, base URL and key', () => {
    expect(
      modelConfigFromEnv({
        AGORA_MODEL_PROVIDER: 'openai',
        AGORA_MODEL: 'gpt-4o-mini',
        AGORA_MODEL_BASE_URL: 'https://proxy.example/v1',
        AGORA_MODEL_API_KEY: 'sk-env',
      }),
    ).toMatchObject({
      provider: 'openai',
      model: 'gpt-4o-mini',
      baseURL: 'https://proxy.example/v1',
      apiKey: 'sk-env',
    })
    expect(
      modelConfigFromEnv({ AGORA_MODEL_PROVIDER: 'vllm', AGORA_MODEL: 'qwen', AGORA_MODEL_API_KEY: '' }),
    ).toEqual({
      provider: 'vllm',
      model: 'qwen',
      baseURL: 'http://127.0.0.1:8000/v1',
      timeoutMs: 60_000,
      maxRetries: 2,
    })
  })

  test('behavior: errors name the environment variables', () => {
    expect(
      configError(() => modelConfigFromEnv({ AGORA_MODEL_PROVIDER: 'openai', AGORA_MODEL_BASE_URL: 'nope' }))
        .shortMessage,
    ).toBe(
      'Model config is invalid: AGORA_MODEL: is required; AGORA_MODEL_BASE_URL: must be an http(s) URL, e.g. "http://127.0.0.1:8080/v1"; AGORA_MODEL_API_KEY: is required for provider "openai"',
    )
  })
})

describe('createChatModel', () => {
  test('default: a ChatOpenAI model pointed at the backend', () => {
    const model = createChatModel({ provider: 'llamacpp', model: 'qwen2.5-7b-instruct', timeoutMs: 1_234 })
    expect(model).toBeInstanceOf(ChatOpenAI)
    expect(model.model).toBe('qwen2.5-7b-instruct')
    expect(model.timeout).toBe(1_234)
  })

  test('behavior: an invalid config is refused before any request', () => {
    expect(configError(() => createChatModel({ provider: 'ollama', model: '' })).shortMessage).toBe(
      'Model config is invalid: model: must not be empty',
    )
  })
})

describe('modelJsonSchema', () => {
  const issues = (input: unknown) => {
    const parsed = modelJsonSchema.safeParse(input)
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
  }

  test('default: the fields of defineAgent plus apiKeyEnv, with no defaults written in', () => {
    expect(
      modelJsonSchema.parse({ provider: 'openai', model: 'gpt-4o-mini', apiKeyEnv: 'OPENAI_API_KEY' }),
    ).toEqual({ provider: 'openai', model: 'gpt-4o-mini', apiKeyEnv: 'OPENAI_API_KEY' })
  })

  test('behavior: an unknown provider names the allowed ones', () => {
    expect(issues({ provider: 'anthropic', model: 'm' })).toEqual([
      'provider: must be one of "openai", "openai-compatible", "ollama", "llamacpp", "vllm"',
    ])
  })

  test.each([
    ['http://user:sk-1@host/v1'],
    ['http://host/v1?key=sk-1'],
    ['http://host/v1?api_key=sk-1'],
    ['http://host/v1?apiKey=sk-1'],
    ['https://host/v1?x=1&access_token=sk-1'],
  ])('behavior: a key in the base URL (%s) is refused, naming where it goes', (baseURL) => {
    const found = issues({ provider: 'vllm', model: 'm', baseURL })
    expect(found).toEqual([expect.stringMatching(/^baseURL: must not carry credentials .*model\.apiKey/)])
    expect(found.join()).not.toContain('sk-1')
  })

  test('behavior: apiKey and apiKeyEnv together, a bad variable name, unknown fields', () => {
    expect(issues({ provider: 'vllm', model: 'm', apiKey: 'sk-1', apiKeyEnv: 'K' })).toEqual([
      'apiKeyEnv: give apiKey or apiKeyEnv, not both',
    ])
    expect(issues({ provider: 'vllm', model: 'm', apiKeyEnv: 'lower' })).toEqual([
      expect.stringMatching(/^apiKeyEnv: must name an environment variable/),
    ])
    expect(issues({ provider: 'vllm', model: 'm', api_key: 'sk-1' })).toEqual([
      expect.stringMatching(
        /^: unknown field\(s\) "api_key": the fields are provider, model, baseURL, apiKey/,
      ),
    ])
    expect(issues({ provider: 'openai-compatible', model: 'm' })).toEqual([
      'baseURL: is required for provider "openai-compatible"',
    ])
  })

  test('behavior: the patch form takes apiKey: null (remove the sealed key)', () => {
    expect(modelPatchSchema.parse({ provider: 'vllm', model: 'm', apiKey: null })).toMatchObject({
      apiKey: null,
    })
    expect(modelJsonSchema.safeParse({ provider: 'vllm', model: 'm', apiKey: null }).success).toBe(false)
  })
})

describe('modelFromJson', () => {
  const env = {
    AGORA_MODEL_KEY_ENVS: 'OPENAI_API_KEY=https://api.openai.com, ROUTER_KEY=*, BROKEN=not a url',
    OPENAI_API_KEY: 'sk-from-env',
    ROUTER_KEY: 'sk-router',
    BROKEN: 'sk-broken',
    AGORA_MASTER_KEY: 'ab'.repeat(32),
  }
  const refusal = (run: () => unknown) => {
    try {
      run()
    } catch (error) {
      expect(error).toMatchObject({ name: 'ValidationError', code: 'INVALID_ARGUMENT' })
      return (error as BaseError).shortMessage
    }
    throw new Error('expected a ValidationError')
  }

  test('default: a given key, else the sealed one, is the config key', () => {
    expect(
      modelFromJson({ provider: 'vllm', model: 'm', apiKey: 'sk-given' }, { apiKey: 'sk-sealed' }),
    ).toMatchObject({
      apiKey: 'sk-given',
      baseURL: 'http://127.0.0.1:8000/v1',
    })
    expect(modelFromJson({ provider: 'vllm', model: 'm' }, { apiKey: 'sk-sealed' }).apiKey).toBe('sk-sealed')
    expect(modelFromJson({ provider: 'vllm', model: 'm' }).apiKey).toBeUndefined()
  })

  test('behavior: apiKeyEnv reads a variable its operator offers, for the origin offered', () => {
    expect(
      modelFromJson({ provider: 'openai', model: 'gpt', apiKeyEnv: 'OPENAI_API_KEY' }, { env }).apiKey,
    ).toBe('sk-from-env')
    expect(
      modelFromJson(
        {
          provider: 'openai-compatible',
          model: 'm',
          baseURL: 'https://router.example/v1',
          apiKeyEnv: 'ROUTER_KEY',
        },
        { env },
      ).apiKey,
    ).toBe('sk-router')
  })

  test('behavior: a variable not offered, sent elsewhere, or missing is a 400 that never shows a value', () => {
    const messages = [
      refusal(() =>
        modelFromJson({ provider: 'openai', model: 'gpt', apiKeyEnv: 'AGORA_MASTER_KEY' }, { env }),
      ),
      refusal(() => modelFromJson({ provider: 'openai', model: 'gpt', apiKeyEnv: 'BROKEN' }, { env })),
      refusal(() =>
        modelFromJson(
          {
            provider: 'openai-compatible',
            model: 'm',
            baseURL: 'https://evil.example/v1',
            apiKeyEnv: 'OPENAI_API_KEY',
          },
          { env },
        ),
      ),
      refusal(() =>
        modelFromJson(
          { provider: 'openai', model: 'gpt', apiKeyEnv: 'OPENAI_API_KEY' },
          { env: { AGORA_MODEL_KEY_ENVS: 'OPENAI_API_KEY=https://api.openai.com' } },
        ),
      ),
    ]
    expect(messages[0]).toBe(
      'model.apiKeyEnv: the server does not offer "AGORA_MASTER_KEY" for model keys (its operator lists the ones it offers in AGORA_MODEL_KEY_ENVS).',
    )
    expect(messages[2]).toBe(
      'model.apiKeyEnv: the key in "OPENAI_API_KEY" may only be sent to https://api.openai.com, not to https://evil.example.',
    )
    expect(messages[3]).toBe('model.apiKeyEnv: the server has no environment variable "OPENAI_API_KEY".')
    expect(messages.join()).not.toMatch(/sk-|abab/)
  })

  test('behavior: openai without any key says where one goes', () => {
    expect(refusal(() => modelFromJson({ provider: 'openai', model: 'gpt' }))).toBe(
      'model.apiKey: is required for provider "openai" (or name a server variable with apiKeyEnv).',
    )
  })
})
