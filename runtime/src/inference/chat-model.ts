import { BaseError } from '@agora/db'
import type { BaseChatModel } from '@langchain/core/language_models/chat_models'
import { ChatOpenAI } from '@langchain/openai'
import { InferenceError } from '../errors.ts'
import { type ModelConfig, type ModelConfigInput, parseModelConfig } from './model-config.ts'

/** Local servers ignore the key, but the OpenAI client refuses to start without one. */
const placeholderApiKey = 'not-needed'

// What each model was built from, so errors can say which backend failed and how long it was given.
const configs = new WeakMap<object, ModelConfig>()

export type CreateChatModelReturnType = ChatOpenAI

/**
 * Builds a LangChain chat model for any OpenAI-protocol backend (OpenAI, Ollama, llama.cpp, vLLM or
 * another compatible server). Retries with backoff on rate limits, 5xx and timeouts are the
 * LangChain caller's, up to `maxRetries`.
 *
 * @example
 * const model = createChatModel({ provider: 'llamacpp', model: 'qwen2.5-7b-instruct', timeoutMs: 30_000 })
 * const reply = await complete({ model, messages: [{ role: 'user', content: 'Hello' }] })
 */
export function createChatModel(input: ModelConfigInput | ModelConfig): CreateChatModelReturnType {
  const config = parseModelConfig(input)
  const model = new ChatOpenAI({
    model: config.model,
    apiKey: config.apiKey ?? placeholderApiKey,
    configuration: config.baseURL ? { baseURL: config.baseURL } : {},
    timeout: config.timeoutMs,
    maxRetries: config.maxRetries,
    temperature: config.temperature,
    maxTokens: config.maxTokens,
    // Local servers implement chat completions only; never switch to the Responses API by model name.
    useResponsesApi: false,
  })
  configs.set(model, config)
  return model
}

/** The name a model was asked for, as recorded in usage and shown in errors. */
export function modelName(model: BaseChatModel): string {
  const config = configs.get(model)
  if (config) return config.model
  const named = (model as { model?: unknown }).model
  return typeof named === 'string' ? named : model.getName()
}

function describeModel(model: BaseChatModel): string {
  const config = configs.get(model)
  if (!config) return `Model "${modelName(model)}"`
  return `Model "${config.model}" (${config.provider}${config.baseURL ? ` at ${config.baseURL}` : ''})`
}

function isTimeout(error: Error): boolean {
  return (
    error.name === 'TimeoutError' ||
    error.constructor.name === 'APIConnectionTimeoutError' ||
    /timed? ?out/i.test(error.message)
  )
}

/**
 * Turns whatever a model call threw (OpenAI client, LangChain, network) into one `BaseError` with
 * code `INFERENCE_FAILED`, keeping the original as `cause`. A `BaseError` passes through unchanged,
 * so wrapping happens once.
 */
export function wrapInferenceError(error: unknown, model: BaseChatModel): BaseError {
  if (error instanceof BaseError) return error
  const who = describeModel(model)
  const config = configs.get(model)
  // A server may echo the credential it was sent; the message travels to logs and activity.
  if (config?.apiKey && error instanceof Error && error.message.includes(config.apiKey))
    error.message = error.message.replaceAll(config.apiKey, '[api key]')
  const meta: Record<string, unknown> = { model: modelName(model), provider: config?.provider }
  if (!(error instanceof Error)) {
    return new InferenceError(`${who} failed: ${String(error)}`, { cause: error, meta })
  }
  const attempts = config ? ` (${config.maxRetries + 1} attempt${config.maxRetries === 0 ? '' : 's'})` : ''
  if (isTimeout(error)) {
    const limit = config ? ` within ${config.timeoutMs} ms` : ' in time'
    return new InferenceError(`${who} did not answer${limit}${attempts}.`, {
      cause: error,
      details: error.message,
      meta: { ...meta, reason: 'timeout', timeoutMs: config?.timeoutMs },
    })
  }
  const status = (error as { status?: unknown }).status
  if (typeof status === 'number') {
    // Server errors went through every retry; a refusal (4xx) is final at once, and a rate limit
    // may have been given up early (exhausted quota, long Retry-After), so no count is claimed.
    const retried = status >= 500
    return new InferenceError(`${who} answered with HTTP ${status}${retried ? attempts : ''}.`, {
      cause: error,
      details: error.message,
      meta: { ...meta, reason: 'http', status },
    })
  }
  if (
    error.constructor.name === 'APIConnectionError' ||
    /ECONNREFUSED|fetch failed|Connection error/i.test(error.message)
  ) {
    return new InferenceError(`${who} could not be reached${attempts}.`, {
      cause: error,
      details: error.message,
      meta: { ...meta, reason: 'connection' },
    })
  }
  return new InferenceError(`${who} failed: ${error.message}`, { cause: error, meta })
}
