import type { BaseChatModel } from '@langchain/core/language_models/chat_models'
import { type AIMessage, type BaseMessage, HumanMessage } from '@langchain/core/messages'
import type { z } from 'zod'
import { InferenceError } from '../errors.ts'
import { modelName } from './chat-model.ts'
import {
  addUsage,
  type ChatMessage,
  describeIssues,
  type InferenceUsage,
  invokeModel,
  type ToolChoice,
  type ToolDefinition,
  toLangChainMessages,
  truncate,
  type UsageRecorder,
} from './invoke-model.ts'

/** A validated tool call: `args` has passed the tool's schema (defaults and transforms applied). */
export type ToolCall<Tools extends readonly ToolDefinition[] = readonly ToolDefinition[]> = {
  [K in keyof Tools]: { id: string; name: Tools[K]['name']; args: z.output<Tools[K]['schema']> }
}[number]

export type CompleteParameters<Tools extends readonly ToolDefinition[] = readonly ToolDefinition[]> = {
  model: BaseChatModel
  messages: readonly ChatMessage[]
  tools?: Tools
  /** `'auto'` (default), `'required'`, or a tool name to force that tool. */
  toolChoice?: ToolChoice
  usage?: UsageRecorder
  signal?: AbortSignal
}

export type CompleteReturnType<Tools extends readonly ToolDefinition[] = readonly ToolDefinition[]> = {
  text: string
  toolCalls: ToolCall<Tools>[]
  /** Tokens of every model call made, including a corrective retry. */
  usage: InferenceUsage
}

/** One more chance for the model after unusable tool calls; a second failure is final. */
const attempts = 2

/**
 * Asks the model for its next turn. Tool arguments are parsed and checked against each tool's
 * schema; if any are malformed the model is told what was wrong and asked once more, and if they
 * are still wrong the call is refused with `INFERENCE_FAILED`, so unvalidated arguments never
 * reach a handler.
 *
 * @example
 * const { text, toolCalls } = await complete({
 *   model: createChatModel({ provider: 'ollama', model: 'llama3.1' }),
 *   messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
 *   tools: [{ name: 'weather', description: 'Current weather', schema: z.object({ city: z.string() }) }],
 *   usage: { record: (u) => recordUsage(db, { agentId, jobId, ...u }) },
 * })
 */
export async function complete<const Tools extends readonly ToolDefinition[] = []>(
  parameters: CompleteParameters<Tools>,
): Promise<CompleteReturnType<Tools>> {
  const { model, tools = [] as unknown as Tools, toolChoice, usage, signal } = parameters
  const messages: BaseMessage[] = toLangChainMessages(parameters.messages)
  let total: InferenceUsage = { promptTokens: 0, completionTokens: 0 }
  let problems: string[] = []
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const reply = await invokeModel({ model, messages, tools, toolChoice, usage, signal })
    total = addUsage(total, reply.usage)
    const checked = checkToolCalls(reply.message, tools)
    problems = checked.problems
    if (problems.length === 0) {
      return { text: reply.message.text, toolCalls: checked.calls as ToolCall<Tools>[], usage: total }
    }
    messages.push(
      new HumanMessage(
        `Your previous reply could not be used. ${problems.join(' ')} ` +
          'Reply again, calling the tools with arguments that are valid JSON matching their schemas.',
      ),
    )
  }
  throw new InferenceError(
    `Model "${modelName(model)}" sent unusable tool calls twice: ${problems.join(' ')}`,
    {
      meta: { model: modelName(model), reason: 'invalid_tool_calls', problems },
    },
  )
}

/** Parses and validates every tool call of a reply; any problem makes the whole reply unusable. */
export function checkToolCalls(
  message: AIMessage,
  tools: readonly ToolDefinition[],
): { calls: { id: string; name: string; args: unknown }[]; problems: string[] } {
  if (tools.length === 0) return { calls: [], problems: [] }
  const problems: string[] = []
  for (const invalid of message.invalid_tool_calls ?? []) {
    problems.push(
      `The arguments of tool call "${invalid.name ?? '(unnamed)'}" are not valid JSON` +
        `${invalid.error ? ` (${invalid.error})` : ''}: ${truncate(invalid.args ?? '')}`,
    )
  }
  const calls: { id: string; name: string; args: unknown }[] = []
  for (const [index, call] of (message.tool_calls ?? []).entries()) {
    const tool = tools.find((t) => t.name === call.name)
    if (!tool) {
      problems.push(
        `There is no tool named "${call.name}"; the tools are ${tools.map((t) => `"${t.name}"`).join(', ')}.`,
      )
      continue
    }
    const parsed = tool.schema.safeParse(call.args)
    if (!parsed.success) {
      problems.push(
        `The arguments of tool call "${call.name}" do not match its schema: ${describeIssues(parsed.error)}.`,
      )
      continue
    }
    // Some local servers omit ids; the runtime needs one to pair results with calls.
    calls.push({ id: call.id ?? `call_${index}`, name: call.name, args: parsed.data })
  }
  return { calls, problems }
}
