import { recordUsage } from '@agora/db'
import { z } from 'zod'
import type { RuntimeContext } from './context.ts'
import type { SpendingPolicy } from './define-agent.ts'
import { BaseError } from './errors.ts'
import { createChatModel } from './inference/chat-model.ts'
import { complete } from './inference/complete.ts'
import type { ChatMessage } from './inference/invoke-model.ts'
import { type ModelConfigInput, parseModelConfig } from './inference/model-config.ts'

const amount = z
  .string()
  .regex(/^\d+(\.\d+)?$/, 'a positive decimal number as a string, e.g. "2.5"')
  .describe('an amount in token units, as a decimal string')
const agentId = z.string().regex(/^\d+$/, 'an on-chain agent id (digits)')

/** The tools an agent works through. Amounts come only from these schema-typed arguments. */
export const agentTools = [
  {
    name: 'search_market',
    description: 'Find offerings of other agents by text or capability, with price and reputation.',
    schema: z.strictObject({
      text: z.string().max(200).optional(),
      capability: z.string().max(64).optional(),
      maxPrice: amount.optional(),
      minRating: z.number().min(0).max(100).optional(),
    }),
  },
  {
    name: 'hire',
    description:
      'Hire an agent for one of its offerings and wait for the result. The job is paid from escrow only if the delivery is accepted.',
    schema: z.strictObject({
      providerId: agentId,
      offering: z.string().min(1).max(64),
      input: z.record(z.string(), z.unknown()),
      maxPrice: amount,
    }),
  },
  {
    name: 'pay',
    description: 'Pay another agent directly.',
    schema: z.strictObject({ to: agentId, amount, memo: z.string().max(500).optional() }),
  },
  {
    name: 'job_status',
    description: 'Read the state of a job you hired for: status, deliverable, rating.',
    schema: z.strictObject({ jobId: z.string().regex(/^\d+$/, 'a job id (digits)') }),
  },
  {
    name: 'balance',
    description: 'Read your own wallet balances.',
    schema: z.strictObject({}),
  },
  {
    name: 'finish',
    description: 'End the task with your final answer.',
    schema: z.strictObject({ answer: z.string().max(20_000) }),
  },
] as const

/** What the loop needs from the runtime: the same guarded actions code uses. */
export type AgentActions = {
  searchMarket(query: {
    text?: string
    capability?: string
    maxPrice?: string
    minRating?: number
  }): Promise<unknown>
  hire(parameters: { provider: string; offering: string; input: unknown; maxPrice: string }): Promise<unknown>
  pay(parameters: { to: string; amount: string; memo?: string }): Promise<unknown>
  balances(): Promise<Record<string, string>>
  jobStatus(jobId: string): Promise<unknown>
}

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
 * the same code paths as `agent.pay`/`agent.hire`, so the spending policy is enforced below the
 * model: a refused call is reported back to the model (and logged), never signed. Every model call
 * and tool call is written to the agent's activity.
 */
export async function runTask(
  ctx: RuntimeContext,
  agentIdValue: string,
  actions: AgentActions,
  parameters: RunTaskParameters,
): Promise<RunTaskReturnType> {
  const agent = await ctx.requireAgent(agentIdValue)
  const configured =
    parameters.model ?? (agent.definition as { model?: ModelConfigInput | null }).model ?? undefined
  if (!configured) {
    throw new BaseError(`Agent "${agent.name}" has no model configured to run a task with.`, {
      code: 'INVALID_CONFIG',
    })
  }
  const config = parseModelConfig(configured)
  const model = createChatModel(config)
  const policy = ((agent.definition as { policy?: SpendingPolicy }).policy ?? {}) as SpendingPolicy
  const messages: ChatMessage[] = [
    {
      role: 'system',
      content: [
        `You are ${agent.name}, an autonomous agent (on-chain id ${agent.chainAgentId}). ${agent.description}`,
        agent.instructions,
        `Spending limits enforced by your wallet: ${JSON.stringify(policy)}.`,
        'Work with the tools; call finish with your answer when done.',
      ]
        .filter(Boolean)
        .join('\n'),
    },
    { role: 'user', content: parameters.goal },
  ]
  const usage = { promptTokens: 0, completionTokens: 0 }
  const maxSteps = parameters.maxSteps ?? 8
  await ctx.record(agent.id, 'lifecycle', {
    event: 'task started',
    goal: parameters.goal,
    model: config.model,
  })
  for (let step = 1; step <= maxSteps; step++) {
    const reply = await complete({
      model,
      messages,
      tools: agentTools,
      usage: {
        record: async (u) => {
          await recordUsage(ctx.db, {
            agentId: agent.id,
            model: u.model,
            promptTokens: u.promptTokens,
            completionTokens: u.completionTokens,
          })
        },
      },
    }).catch(async (error: unknown) => {
      await ctx.record(agent.id, 'model', {
        step,
        error: error instanceof BaseError ? error.shortMessage : String(error),
      })
      throw error
    })
    usage.promptTokens += reply.usage.promptTokens
    usage.completionTokens += reply.usage.completionTokens
    await ctx.record(agent.id, 'model', {
      step,
      text: reply.text,
      toolCalls: reply.toolCalls.map((c) => ({ name: c.name, args: c.args })),
      usage: reply.usage,
    })
    if (reply.toolCalls.length === 0) return finish(reply.text, step)
    messages.push({ role: 'assistant', content: reply.text, toolCalls: reply.toolCalls })
    for (const call of reply.toolCalls) {
      if (call.name === 'finish') return finish(call.args.answer, step)
      const result = await runTool(call).then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({
          ok: false as const,
          refused: error instanceof BaseError && error.code === 'POLICY_REFUSED',
          reason: error instanceof BaseError ? error.shortMessage : String(error),
        }),
      )
      await ctx.record(agent.id, 'tool', { step, name: call.name, args: call.args, ...result })
      messages.push({
        role: 'tool',
        toolCallId: call.id,
        content: JSON.stringify(
          result.ok
            ? result.value
            : { error: result.refused ? `refused by your spending policy: ${result.reason}` : result.reason },
          (_k, v) => (typeof v === 'bigint' ? v.toString() : v),
        ),
      })
    }
  }
  throw new BaseError(`Agent "${agent.name}" did not finish the task within ${maxSteps} steps.`, {
    code: 'CONFLICT',
  })

  async function finish(answer: string, steps: number) {
    await ctx.record(agent.id, 'lifecycle', { event: 'task finished', answer, steps, usage })
    return { answer, steps, usage }
  }

  function runTool(call: { name: string; args: unknown }) {
    const args = call.args as never
    switch (call.name) {
      case 'search_market':
        return actions.searchMarket(args)
      case 'hire': {
        const a = call.args as { providerId: string; offering: string; input: unknown; maxPrice: string }
        return actions.hire({
          provider: a.providerId,
          offering: a.offering,
          input: a.input,
          maxPrice: a.maxPrice,
        })
      }
      case 'pay':
        return actions.pay(args)
      case 'balance':
        return actions.balances()
      case 'job_status':
        return actions.jobStatus((call.args as { jobId: string }).jobId)
      default:
        return Promise.reject(new BaseError(`There is no tool "${call.name}".`, { code: 'INVALID_ARGUMENT' }))
    }
  }
}
