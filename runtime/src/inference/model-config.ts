import { ConfigError } from '@agora/db'
import { z } from 'zod'

/** Every backend speaks the OpenAI chat-completions protocol; they differ in defaults and credentials. */
export const modelProviders = ['openai', 'openai-compatible', 'ollama', 'llamacpp', 'vllm'] as const
export type ModelProvider = (typeof modelProviders)[number]

/** Where each local server listens out of the box, so a config can name just the provider and model. */
export const defaultBaseURLs: Partial<Record<ModelProvider, string>> = {
  ollama: 'http://127.0.0.1:11434/v1',
  llamacpp: 'http://127.0.0.1:8080/v1',
  vllm: 'http://127.0.0.1:8000/v1',
}

const httpURL = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const { protocol } = new URL(value)
      return protocol === 'http:' || protocol === 'https:'
    } catch {
      return false
    }
  }, 'must be an http(s) URL, e.g. "http://127.0.0.1:8080/v1"')

const fieldsSchema = z.strictObject(
  {
    provider: z.enum(modelProviders, {
      error: (issue) =>
        `${issue.input === undefined ? 'is required and ' : ''}must be one of ${modelProviders.map((p) => `"${p}"`).join(', ')}`,
    }),
    model: z
      .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
      .trim()
      .min(1, 'must not be empty')
      .max(200, 'must be at most 200 characters'),
    baseURL: httpURL.optional(),
    apiKey: z.string().min(1, 'must not be empty').max(4_096).optional(),
    temperature: z
      .number({ error: 'must be a number' })
      .min(0, 'must be between 0 and 2')
      .max(2, 'must be between 0 and 2')
      .optional(),
    maxTokens: z.int('must be a whole number').positive('must be more than zero').optional(),
    timeoutMs: z
      .int('must be a whole number of milliseconds')
      .positive('must be more than zero')
      .max(3_600_000, 'must be at most one hour')
      .default(60_000),
    maxRetries: z
      .int('must be a whole number')
      .min(0, 'must not be negative')
      .max(10, 'must be at most 10')
      .default(2),
  },
  {
    error: (issue) =>
      issue.code === 'invalid_type'
        ? 'must be an object such as { provider: "ollama", model: "llama3.1" }'
        : undefined,
  },
)

type ModelConfigIssue = { path: string; message: string }

/** Rules that tie fields together; kept apart so they are reported even when other fields are wrong too. */
function requirementIssues(input: unknown): ModelConfigIssue[] {
  if (typeof input !== 'object' || input === null) return []
  const { provider, baseURL, apiKey } = input as Record<string, unknown>
  const issues: ModelConfigIssue[] = []
  if (provider === 'openai' && apiKey === undefined) {
    issues.push({ path: 'apiKey', message: 'is required for provider "openai"' })
  }
  if (provider === 'openai-compatible' && baseURL === undefined) {
    issues.push({ path: 'baseURL', message: 'is required for provider "openai-compatible"' })
  }
  return issues
}

/**
 * The inference settings an agent's `model` field holds. Local providers fill in their usual
 * address when `baseURL` is left out.
 */
export const modelConfigSchema = fieldsSchema
  .superRefine((value, context) => {
    for (const issue of requirementIssues(value)) {
      context.addIssue({ code: 'custom', path: [issue.path], message: issue.message })
    }
  })
  .transform((value) => ({ ...value, baseURL: value.baseURL ?? defaultBaseURLs[value.provider] }))

export type ModelConfigInput = z.input<typeof modelConfigSchema>
export type ModelConfig = z.output<typeof modelConfigSchema>

/**
 * Validates an inference config, naming every bad field at once.
 *
 * @example
 * const config = parseModelConfig({ provider: 'ollama', model: 'llama3.1' })
 * // { provider: 'ollama', model: 'llama3.1', baseURL: 'http://127.0.0.1:11434/v1', timeoutMs: 60000, maxRetries: 2 }
 */
export function parseModelConfig(input: unknown): ModelConfig {
  return parseWithLabels(input, (path) => path)
}

export type ModelConfigEnv = Record<string, string | undefined>

const envNames = {
  provider: 'AGORA_MODEL_PROVIDER',
  model: 'AGORA_MODEL',
  baseURL: 'AGORA_MODEL_BASE_URL',
  apiKey: 'AGORA_MODEL_API_KEY',
} as const

/**
 * Reads an inference config from `AGORA_MODEL_PROVIDER`, `AGORA_MODEL`, `AGORA_MODEL_BASE_URL` and
 * `AGORA_MODEL_API_KEY`; `undefined` when no provider is set. Errors name the variables.
 *
 * @example
 * const config = modelConfigFromEnv(process.env) // AGORA_MODEL_PROVIDER=vllm AGORA_MODEL=qwen2.5-7b
 */
export function modelConfigFromEnv(env: ModelConfigEnv = process.env): ModelConfig | undefined {
  const provider = env[envNames.provider]?.trim()
  if (!provider) return undefined
  const input: Record<string, string> = { provider }
  for (const field of ['model', 'baseURL', 'apiKey'] as const) {
    const value = env[envNames[field]]
    // An exported-but-empty variable means "not set", as shells and .env files commonly leave them.
    if (value !== undefined && value.trim() !== '') input[field] = value
  }
  return parseWithLabels(input, (path) => envNames[path as keyof typeof envNames] ?? path)
}

function parseWithLabels(input: unknown, label: (path: string) => string): ModelConfig {
  const parsed = modelConfigSchema.safeParse(input)
  if (parsed.success) return parsed.data
  const issues: ModelConfigIssue[] = parsed.error.issues.flatMap((issue) => {
    // An unknown key is reported once per key, so the message names the field that should not be there.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: [...issue.path, key].join('.'),
        message: 'is not a known field',
      }))
    }
    return [{ path: issue.path.map(String).join('.') || '(config)', message: issue.message }]
  })
  // Cross-field rules only run inside the schema when every field is well-formed; add them here.
  for (const extra of requirementIssues(input)) {
    if (!issues.some((i) => i.path === extra.path)) issues.push(extra)
  }
  const text = issues.map((i) => `${label(i.path)}: ${i.message}`).join('; ')
  throw new ConfigError(`Model config is invalid: ${text}`, {
    code: 'INVALID_CONFIG',
    meta: { issues: issues.map((i) => ({ path: label(i.path), message: i.message })) },
  })
}
