import { ValidationError } from '@agora/db'
import type { BaseChatModel } from '@langchain/core/language_models/chat_models'
import {
  AIMessage,
  type BaseMessage,
  HumanMessage,
  SystemMessage,
  ToolMessage,
} from '@langchain/core/messages'
import { z } from 'zod'
import { modelName, wrapInferenceError } from './chat-model.ts'

/** A conversation turn in the runtime's own terms, independent of LangChain's message classes. */
export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: { id: string; name: string; args: unknown }[] }
  | { role: 'tool'; toolCallId: string; content: string }

/** A function the model may call; its arguments are checked against `schema` before anyone sees them. */
export type ToolDefinition<Name extends string = string, Schema extends z.ZodType = z.ZodType> = {
  name: Name
  description: string
  schema: Schema
}

export type InferenceUsage = { promptTokens: number; completionTokens: number }

/** Receives the tokens of every model call, e.g. to store them with `recordUsage` from `@agora/db`. */
export type UsageRecorder = {
  record(usage: InferenceUsage & { model: string }): void | Promise<void>
}

export type ToolChoice = 'auto' | 'required' | (string & {})

export function toLangChainMessages(messages: readonly ChatMessage[]): BaseMessage[] {
  return messages.map((message): BaseMessage => {
    if (message.role === 'system') return new SystemMessage(message.content)
    if (message.role === 'user') return new HumanMessage(message.content)
    if (message.role === 'assistant') {
      return new AIMessage({
        content: message.content,
        tool_calls: (message.toolCalls ?? []).map((call) => ({
          id: call.id,
          name: call.name,
          args: call.args as Record<string, unknown>,
          type: 'tool_call' as const,
        })),
      })
    }
    if (message.role === 'tool')
      return new ToolMessage({ content: message.content, tool_call_id: message.toolCallId })
    // Reachable from untyped callers only.
    throw new ValidationError(`Unknown message role "${String((message as { role?: unknown }).role)}".`, {
      code: 'INVALID_ARGUMENT',
    })
  })
}

/** The OpenAI function-tool shape, from the JSON Schema of what the model must send. */
export function toOpenAITool(tool: ToolDefinition) {
  const { $schema: _, ...parameters } = z.toJSONSchema(tool.schema, { io: 'input', unrepresentable: 'any' })
  if (parameters.type !== 'object') {
    throw new ValidationError(
      `Tool "${tool.name}" must take an object schema, because models send named arguments.`,
      {
        code: 'INVALID_ARGUMENT',
      },
    )
  }
  return {
    type: 'function' as const,
    function: { name: tool.name, description: tool.description, parameters },
  }
}

export type InvokeModelParameters = {
  model: BaseChatModel
  messages: BaseMessage[]
  tools?: readonly ToolDefinition[]
  toolChoice?: ToolChoice
  usage?: UsageRecorder
  signal?: AbortSignal
}

/**
 * One model call: binds the tools, wraps any failure once into `INFERENCE_FAILED` and reports the
 * tokens spent. Validation of what came back is the caller's.
 */
export async function invokeModel(
  parameters: InvokeModelParameters,
): Promise<{ message: AIMessage; usage: InferenceUsage }> {
  const { model, messages, tools, toolChoice, usage, signal } = parameters
  let runnable: Pick<BaseChatModel, 'invoke'> = model
  if (tools && tools.length > 0) {
    if (!model.bindTools) {
      throw new ValidationError(`Model "${modelName(model)}" does not support tool calling.`, {
        code: 'INVALID_ARGUMENT',
      })
    }
    runnable = model.bindTools(tools.map(toOpenAITool), toolChoice ? { tool_choice: toolChoice } : {})
  }
  let message: AIMessage
  try {
    message = (await runnable.invoke(messages, { signal })) as AIMessage
  } catch (error) {
    throw wrapInferenceError(error, model)
  }
  const spent = {
    promptTokens: message.usage_metadata?.input_tokens ?? 0,
    completionTokens: message.usage_metadata?.output_tokens ?? 0,
  }
  await usage?.record({ model: modelName(model), ...spent })
  return { message, usage: spent }
}

export function addUsage(total: InferenceUsage, more: InferenceUsage): InferenceUsage {
  return {
    promptTokens: total.promptTokens + more.promptTokens,
    completionTokens: total.completionTokens + more.completionTokens,
  }
}

/** Zod issues as one line a model (or a person) can act on. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.map(String).join('.') || '(arguments)'}: ${issue.message}`)
    .join('; ')
}

/** Keeps quoted model output short enough for an error message or a correction prompt. */
export function truncate(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text
}
