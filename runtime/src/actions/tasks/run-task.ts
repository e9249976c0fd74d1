import { type Agent, BaseError, ConflictError, recordUsage } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import type { SpendingPolicy } from '../../define-agent.ts'
import { createChatModel } from '../../inference/chat-model.ts'
import { type CompleteReturnType, complete } from '../../inference/complete.ts'
import type { ChatMessage } from '../../inference/invoke-model.ts'
import { type ModelConfigInput, parseModelConfig } from '../../inference/model-config.ts'
import { untrusted, untrustedDataRule } from '../../inference/untrusted.ts'
import { agentTools } from './agent-tools.ts'
import { runTool } from './run-tool.ts'

export type RunTaskParameters = {
  goal: string
  /** The model to think with; the agent's own `model` by default. */
  model?: ModelConfigInput
  /** Most model turns before giving up (default 8). */
  maxSteps?: number
}

export type RunTaskReturnType = {
  answer: string
  steps: number
  usage: { promptTokens: number; completionTokens: number }
}

/**
 * Works towards a goal with a model and the agent tools. Every money-moving tool call goes through
 * the same actions code calls (`pay`, `hire`), so the spending policy is enforced below the
 * model: a refused call is reported back to the model (and logged), never signed. Every model call
 * and tool call is written to the agent's activity.
 *
 * @example
 * const { answer } = await runTask(client, agentId, { goal: 'Summarise this text: …' })
 */
export async function runTask(
  client: RuntimeClient,
  agentId: string,
  parameters: RunTaskParameters,
): Promise<RunTaskReturnType> {
  const agent = await client.agents.get(agentId)
  const configured =
    parameters.model ?? (agent.definition as { model?: ModelConfigInput | null }).model ?? undefined
  if (!configured)
    throw new ConflictError(`Agent "${agent.name}" has no model configured to run a task with.`, {
      code: 'NO_MODEL',
    })
  const policy = ((agent.definition as { policy?: SpendingPolicy }).policy ?? {}) as SpendingPolicy
  if (!policy.perJobCap && !policy.budget)
    throw new ConflictError(
      `Agent "${agent.name}" has no spending limits; a model may only work within them: set perJobCap or budget in its policy.`,
    )
  const config = parseModelConfig(configured)
  const model = createChatModel(config)
  const messages: ChatMessage[] = [
    { role: 'system', content: systemPrompt(agent) },
    { role: 'user', content: parameters.goal },
  ]
  const usage = { promptTokens: 0, completionTokens: 0 }
  const maxSteps = parameters.maxSteps ?? 8
  const finish = async (answer: string, steps: number) => {
    await client.activity.record(agent.id, 'lifecycle', { event: 'task finished', answer, steps, usage })
    return { answer, steps, usage }
  }
  await client.activity.record(agent.id, 'lifecycle', {
    event: 'task started',
    goal: parameters.goal,
    model: config.model,
  })
  for (let step = 1; step <= maxSteps; step++) {
    const reply = await think(client, agent, model, messages, step)
    usage.promptTokens += reply.usage.promptTokens
    usage.completionTokens += reply.usage.completionTokens
    if (reply.toolCalls.length === 0) return finish(reply.text, step)
    messages.push({ role: 'assistant', content: reply.text, toolCalls: reply.toolCalls })
    for (const call of reply.toolCalls) {
      if (call.name === 'finish') return finish(call.args.answer, step)
      messages.push(await act(client, agent, call, step))
    }
  }
  throw new ConflictError(`Agent "${agent.name}" did not finish the task within ${maxSteps} steps.`)
}

function systemPrompt(agent: Agent): string {
  const policy = ((agent.definition as { policy?: SpendingPolicy }).policy ?? {}) as SpendingPolicy
  return [
    `You are ${agent.name}, an autonomous agent (on-chain id ${agent.chainAgentId}). ${agent.description}`,
    agent.instructions,
    `Spending limits enforced by your wallet: ${JSON.stringify(policy)}.`,
    'Work with the tools; call finish with your answer when done.',
    untrustedDataRule,
  ]
    .filter(Boolean)
    .join('\n')
}

/** One model turn, with its usage recorded and the reply written to the activity. */
async function think(
  client: RuntimeClient,
  agent: Agent,
  model: ReturnType<typeof createChatModel>,
  messages: ChatMessage[],
  step: number,
): Promise<CompleteReturnType<typeof agentTools>> {
  const reply = await complete({
    model,
    messages,
    tools: agentTools,
    usage: {
      record: async (u) => {
        const { model, promptTokens, completionTokens } = u
        await recordUsage(client.db, { agentId: agent.id, model, promptTokens, completionTokens })
      },
    },
  }).catch(async (error: unknown) => {
    const reason = error instanceof BaseError ? error.shortMessage : String(error)
    await client.activity.record(agent.id, 'model', { step, error: reason })
    throw error
  })
  await client.activity.record(agent.id, 'model', {
    step,
    text: reply.text,
    toolCalls: reply.toolCalls.map((c) => ({ name: c.name, args: c.args })),
    usage: reply.usage,
  })
  return reply
}

/** Runs one tool call; its result (or the refusal) goes to the activity and back to the model. */
async function act(
  client: RuntimeClient,
  agent: Agent,
  call: { id: string; name: string; args: unknown },
  step: number,
): Promise<ChatMessage> {
  const result = await runTool(client, agent.id, call).then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({
      ok: false as const,
      refused: error instanceof BaseError && error.code === 'POLICY_REFUSED',
      reason: error instanceof BaseError ? error.shortMessage : String(error),
    }),
  )
  await client.activity.record(agent.id, 'tool', { step, name: call.name, args: call.args, ...result })
  // What a tool returns may carry other agents' text (listings, deliverables): it goes back as data.
  const content = result.ok
    ? untrusted(`tool:${call.name}`, result.value)
    : JSON.stringify({
        error: result.refused ? `refused by your spending policy: ${result.reason}` : result.reason,
      })
  return { role: 'tool', toolCallId: call.id, content }
}
