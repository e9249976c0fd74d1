import { ConfigError, ValidationError } from '@agora/db'
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

// Each field once: the config given in code and the one given as JSON over HTTP check them alike.
const fields = {
  provider: z.enum(modelProviders, {
    error: (issue) =>
      `${issue.input === undefined ? 'is required and ' : ''}must be one of ${modelProviders.map((p) => `"${p}"`).join(', ')}`,
  }),
  model: z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
    .trim()
    .min(1, 'must not be empty')
    .max(200, 'must be at most 200 characters'),
  apiKey: z.string('must be a string').min(1, 'must not be empty').max(4_096, 'is too long'),
  temperature: z
    .number({ error: 'must be a number' })
    .min(0, 'must be between 0 and 2')
    .max(2, 'must be between 0 and 2'),
  maxTokens: z.int('must be a whole number').positive('must be more than zero'),
  timeoutMs: z
    .int('must be a whole number of milliseconds')
    .positive('must be more than zero')
    .max(3_600_000, 'must be at most one hour'),
  maxRetries: z.int('must be a whole number').min(0, 'must not be negative').max(10, 'must be at most 10'),
}

const notAnObject = {
  error: (issue: { code: string }) =>
    issue.code === 'invalid_type'
      ? 'must be an object such as { provider: "ollama", model: "llama3.1" }'
      : undefined,
}

const fieldsSchema = z.strictObject(
  {
    provider: fields.provider,
    model: fields.model,
    baseURL: httpURL.optional(),
    apiKey: fields.apiKey.optional(),
    temperature: fields.temperature.optional(),
    maxTokens: fields.maxTokens.optional(),
    timeoutMs: fields.timeoutMs.default(60_000),
    maxRetries: fields.maxRetries.default(2),
  },
  notAnObject,
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

// ---------------------------------------------------------------------------------------------
// The model as JSON (agents launched and edited over HTTP)

/** Query parameters that services read API keys from: such a URL would store the key in clear. */
const keyParameters = /^(key|api[-_]?key|access[-_]?token|token|secret)$/i

function carriesCredentials(value: string): boolean {
  try {
    const url = new URL(value)
    return (
      url.username !== '' ||
      url.password !== '' ||
      [...url.searchParams.keys()].some((k) => keyParameters.test(k))
    )
  } catch {
    return false // not a URL: reported by the http(s) check
  }
}

const keyPlacement = 'give the key as model.apiKey (sealed at rest) or model.apiKeyEnv'

const jsonBaseURL = httpURL.refine(
  (value) => !carriesCredentials(value),
  `must not carry credentials (user:password@ or an API key in the query): ${keyPlacement}`,
)

/** The name of an environment variable of the server, as `apiKeyEnv` gives it. */
export const envNameSchema = z
  .string('must be a string')
  .max(128, 'must be at most 128 characters')
  .regex(
    /^[A-Z_][A-Z0-9_]*$/,
    'must name an environment variable (upper-case letters, digits and "_"), e.g. "OPENAI_API_KEY"',
  )

const jsonFields = {
  provider: fields.provider,
  model: fields.model,
  baseURL: jsonBaseURL
    .optional()
    .describe(
      'Ends in `/v1`; required for `openai-compatible`. Local providers default to their usual address.',
    ),
  apiKey: fields.apiKey
    .optional()
    .describe(
      'Given once: sealed at rest with the master key, never stored in the definition, returned or logged.',
    ),
  apiKeyEnv: envNameSchema
    .optional()
    .describe(
      'Instead of apiKey: a server environment variable its operator offers (`AGORA_MODEL_KEY_ENVS`).',
    ),
  temperature: fields.temperature.optional(),
  maxTokens: fields.maxTokens.optional(),
  timeoutMs: fields.timeoutMs.optional().describe('Per request; default 60000.'),
  maxRetries: fields.maxRetries.optional().describe('Default 2.'),
}

const jsonObjectError = {
  error: (issue: { code: string; keys?: string[] }) =>
    issue.code === 'unrecognized_keys'
      ? `unknown field(s) ${issue.keys?.map((k) => `"${k}"`).join(', ')}: the fields are ${Object.keys(jsonFields).join(', ')}`
      : notAnObject.error(issue),
}

/** Rules across the fields of a model given as JSON. */
function jsonRules(
  value: { provider: string; baseURL?: string; apiKey?: string | null; apiKeyEnv?: string },
  context: z.RefinementCtx,
) {
  if (typeof value.apiKey === 'string' && value.apiKeyEnv !== undefined)
    context.addIssue({ code: 'custom', path: ['apiKeyEnv'], message: 'give apiKey or apiKeyEnv, not both' })
  if (value.provider === 'openai-compatible' && value.baseURL === undefined)
    context.addIssue({
      code: 'custom',
      path: ['baseURL'],
      message: 'is required for provider "openai-compatible"',
    })
}

/**
 * The `model` of an agent given as JSON: the fields `parseModelConfig` takes, plus `apiKeyEnv`.
 * The API key is taken here only to be sealed; no URL may carry one.
 */
export const modelJsonSchema = z.strictObject(jsonFields, jsonObjectError).superRefine(jsonRules).meta({
  id: 'ModelConfig',
  description: 'The model an agent thinks with (OpenAI chat-completions protocol).',
})

export type ModelJson = z.infer<typeof modelJsonSchema>

/**
 * The `model` of `PATCH /agents/{id}`: replaces the model; `apiKey` replaces the sealed key,
 * `apiKey: null` removes it, and without `apiKey` the sealed key is kept.
 */
export const modelPatchSchema = z
  .strictObject(
    {
      ...jsonFields,
      apiKey: fields.apiKey
        .nullable()
        .optional()
        .describe('Replaces the sealed key; null removes it; left out, the sealed key is kept.'),
    },
    jsonObjectError,
  )
  .superRefine(jsonRules)
  .meta({ id: 'ModelConfigPatch', description: 'A new model for the agent; replaces the one it had.' })

export type ModelPatch = z.infer<typeof modelPatchSchema>

/**
 * An error for an agent's JSON with an API key outside `model` (a strict object's unknown keys):
 * as `error` of `z.strictObject`, so the key's name, never its value, is reported.
 */
export function misplacedApiKeyError(issue: { code: string; keys?: string[] }): string | undefined {
  if (
    issue.code !== 'unrecognized_keys' ||
    !issue.keys?.some((k) => /^(api[-_]?key|key|secret|token)$/i.test(k))
  )
    return undefined
  return `an API key belongs inside the model: ${keyPlacement}`
}

/** Where an agent's model key comes from; never the key itself. */
export type ModelCredential = {
  /** `sealed`: given over HTTP and sealed at rest; `env`: read from a server variable; `code`: in a TypeScript definition. */
  source: 'sealed' | 'env' | 'code' | 'none'
  apiKeyEnv?: string
}

/** The variable operators list the model keys in that owners may name with `apiKeyEnv`. */
export const modelKeyEnvsVariable = 'AGORA_MODEL_KEY_ENVS'

/** OpenAI's endpoint, where provider `openai` goes without a base URL. */
export const openAIBaseURL = 'https://api.openai.com/v1'

/**
 * The variables named in `AGORA_MODEL_KEY_ENVS` (`NAME=https://origin` entries, comma-separated),
 * each with the one origin its key may be sent to (`*`: any).
 */
function offeredKeyEnvs(env: ModelConfigEnv): Map<string, string> {
  const offered = new Map<string, string>()
  for (const entry of (env[modelKeyEnvsVariable] ?? '').split(',')) {
    const [name, origin] = entry.split('=').map((part) => part.trim())
    if (!name || !origin) continue
    if (origin === '*') offered.set(name, '*')
    else {
      try {
        offered.set(name, new URL(origin).origin)
      } catch {
        // An entry that names no origin offers nothing: a key never goes somewhere unintended.
      }
    }
  }
  return offered
}

export type ModelFromJsonOptions = {
  /** The key opened from the agent's sealed one, when the JSON (stored without it) has none. */
  apiKey?: string
  /** Where `apiKeyEnv` is read (default `process.env`). */
  env?: ModelConfigEnv
}

/**
 * The model config an agent given as JSON thinks with: its key from the JSON, else the sealed one,
 * else the server variable `apiKeyEnv` names (only one `AGORA_MODEL_KEY_ENVS` offers, and only for
 * the origin it names: any owner could otherwise send the server's secrets to a server of theirs).
 * Errors are `ValidationError`s naming the field, never a key.
 *
 * @example
 * const config = modelFromJson({ provider: 'openai', model: 'gpt-4o-mini', apiKeyEnv: 'OPENAI_API_KEY' })
 */
export function modelFromJson(json: ModelJson | ModelPatch, options: ModelFromJsonOptions = {}): ModelConfig {
  const { apiKeyEnv, apiKey: given, ...rest } = json
  let apiKey = typeof given === 'string' ? given : given === null ? undefined : options.apiKey
  if (apiKeyEnv !== undefined) {
    const env = options.env ?? process.env
    const origin = offeredKeyEnvs(env).get(apiKeyEnv)
    if (!origin)
      throw invalidModel(
        'apiKeyEnv',
        `the server does not offer "${apiKeyEnv}" for model keys (its operator lists the ones it offers in ${modelKeyEnvsVariable})`,
      )
    const target = new URL(rest.baseURL ?? defaultBaseURLs[rest.provider] ?? openAIBaseURL).origin
    if (origin !== '*' && origin !== target)
      throw invalidModel(
        'apiKeyEnv',
        `the key in "${apiKeyEnv}" may only be sent to ${origin}, not to ${target}`,
      )
    apiKey = env[apiKeyEnv]?.trim() || undefined
    if (!apiKey) throw invalidModel('apiKeyEnv', `the server has no environment variable "${apiKeyEnv}"`)
  }
  if (rest.provider === 'openai' && !apiKey)
    throw invalidModel(
      'apiKey',
      `is required for provider "openai" (or name a server variable with apiKeyEnv)`,
    )
  try {
    return parseModelConfig({ ...rest, ...(apiKey ? { apiKey } : {}) })
  } catch (error) {
    const issues = ((error as { meta?: { issues?: ModelConfigIssue[] } }).meta?.issues ?? []).map((i) => ({
      path: `model.${i.path}`,
      message: i.message,
    }))
    throw new ValidationError(
      `The model is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      {
        meta: { issues },
      },
    )
  }
}

function invalidModel(field: string, message: string): ValidationError {
  return new ValidationError(`model.${field}: ${message}.`, {
    meta: { issues: [{ path: `model.${field}`, message }] },
  })
}
