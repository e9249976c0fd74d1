import type { BaseChatModel } from '@langchain/core/language_models/chat_models'
import { type AIMessage, HumanMessage } from '@langchain/core/messages'
import type { z } from 'zod'
import { InferenceError } from '../errors.ts'
import { modelName } from './chat-model.ts'
import { checkToolCalls } from './complete.ts'
import {
  type ChatMessage,
  describeIssues,
  invokeModel,
  type ToolDefinition,
  toLangChainMessages,
  truncate,
  type UsageRecorder,
} from './invoke-model.ts'

export type GenerateStructuredParameters<Schema extends z.ZodType> = {
  model: BaseChatModel
  /** The schema of the answer; it must describe an object (models send named fields). */
  schema: Schema
  /** Name of the answer, shown to the model as the tool to call. */
  name?: string
  description?: string
  usage?: UsageRecorder
  signal?: AbortSignal
} & ({ prompt: string; messages?: never } | { messages: readonly ChatMessage[]; prompt?: never })

export type GenerateStructuredReturnType<Schema extends z.ZodType> = z.output<Schema>

const attempts = 2

/**
 * Asks the model for an answer shaped by `schema`, through a forced tool call. A reply in plain
 * JSON text is accepted too (some local servers ignore `tool_choice`). The answer is validated; a
 * malformed one is sent back to the model once with the problems, then refused with
 * `INFERENCE_FAILED`.
 *
 * @example
 * const verdict = await generateStructured({
 *   model,
 *   prompt: `Does this summary cover the text?\n\n${summary}`,
 *   schema: z.object({ accept: z.boolean(), rating: z.int().min(0).max(100) }),
 * })
 */
export async function generateStructured<Schema extends z.ZodType>(
  parameters: GenerateStructuredParameters<Schema>,
): Promise<GenerateStructuredReturnType<Schema>> {
  const { model, schema, usage, signal } = parameters
  const tool: ToolDefinition = {
    name: parameters.name ?? 'answer',
    description: parameters.description ?? 'Give the answer, as the arguments of this call.',
    schema,
  }
  const messages = toLangChainMessages(
    parameters.prompt !== undefined ? [{ role: 'user', content: parameters.prompt }] : parameters.messages,
  )
  let problems: string[] = []
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const { message } = await invokeModel({
      model,
      messages,
      tools: [tool],
      toolChoice: tool.name,
      usage,
      signal,
    })
    const answer = readAnswer(message, tool)
    if (answer.ok) return answer.value as GenerateStructuredReturnType<Schema>
    problems = answer.problems
    messages.push(
      new HumanMessage(
        `Your previous reply could not be used. ${problems.join(' ')} ` +
          `Call "${tool.name}" again with arguments that are valid JSON matching its schema.`,
      ),
    )
  }
  throw new InferenceError(
    `Model "${modelName(model)}" did not produce a valid "${tool.name}" twice: ${problems.join(' ')}`,
    {
      meta: { model: modelName(model), reason: 'invalid_structured_output', problems },
    },
  )
}

function readAnswer(
  message: AIMessage,
  tool: ToolDefinition,
): { ok: true; value: unknown } | { ok: false; problems: string[] } {
  const hasToolCalls = (message.tool_calls?.length ?? 0) + (message.invalid_tool_calls?.length ?? 0) > 0
  if (hasToolCalls) {
    const { calls, problems } = checkToolCalls(message, [tool])
    if (problems.length > 0) return { ok: false, problems }
    return { ok: true, value: calls[0]?.args }
  }
  const text = message.text.trim()
  if (text === '')
    return { ok: false, problems: [`The reply was empty instead of a call to "${tool.name}".`] }
  // Without tool support a model often answers in JSON text, sometimes inside a code fence.
  const json = text.replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/i, '$1')
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {
    return { ok: false, problems: [`The reply was text, not a call to "${tool.name}": ${truncate(text)}`] }
  }
  const parsed = tool.schema.safeParse(value)
  if (!parsed.success) {
    return { ok: false, problems: [`The answer does not match the schema: ${describeIssues(parsed.error)}.`] }
  }
  return { ok: true, value: parsed.data }
}
