import {
  type Agent,
  BaseError,
  ConflictError,
  finishTask,
  insertTask,
  recordUsage,
  setTaskSteps,
  type Task,
} from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import type { SpendingPolicy } from '../../define-agent.ts'
import { createChatModel } from '../../inference/chat-model.ts'
import { type CompleteReturnType, complete } from '../../inference/complete.ts'
import type { ChatMessage } from '../../inference/invoke-model.ts'
import { type ModelConfig, type ModelConfigInput, parseModelConfig } from '../../inference/model-config.ts'
import { untrusted, untrustedDataRule } from '../../inference/untrusted.ts'
import { agentTools } from './agent-tools.ts'
import { runTool, type ToolProgress } from './run-tool.ts'
import { taskModelOf } from './task-model.ts'

export type RunTaskParameters = {
  goal: string
  /** The model to think with; the agent's own (see `taskModelOf`) by default. */
  model?: ModelConfigInput
  /** Most model turns before giving up (default 8). */
  maxSteps?: number
}

export type RunTaskReturnType = {
  /** The task's id: its row (`getTask`) and the `taskId` of its events. */
  taskId: string
  answer: string
  steps: number
  usage: { promptTokens: number; completionTokens: number }
}

/**
 * Works towards a goal with a model and the agent tools, and waits for the answer. Every
 * money-moving tool call goes through the same actions code calls (`pay`, `hire`), so the spending
 * policy is enforced below the model: a refused call is reported back to the model (and logged),
 * never signed. The task is recorded (`getTask`), and every model turn, tool call, hire, payment
 * and refusal is written to the agent's activity under its id. `startTask` runs the same in the
 * background.
 *
 * @example
 * const { answer } = await runTask(client, agentId, { goal: 'Summarise this text: …' })
 */
export async function runTask(
  client: RuntimeClient,
  agentId: string,
  parameters: RunTaskParameters,
): Promise<RunTaskReturnType> {
  const { agent, model } = await prepareTask(client, agentId, parameters.model)
  const task = await insertTask(client.db, { agentId: agent.id, goal: parameters.goal })
  return runAcceptedTask(client, agent, task, { ...parameters, model })
}

/**
 * What a task thinks with, checked before it is accepted: the given model or the agent's own
 * (`NO_MODEL` without one, see `taskModelOf`), and spending limits for it to work within. The guard
 * enforces the policy stored with the agent; a model turned on after launch (in code or by
 * `AGORA_MODEL_*`) brings the limits its definition has (`defaultModelPolicy` unless set), so a
 * stored policy without limits takes those first (limits are only ever added here, never widened).
 */
export async function prepareTask(
  client: Pick<RuntimeClient, 'agents' | 'definitions' | 'activity'>,
  agentId: string,
  given?: ModelConfigInput,
): Promise<{ agent: Agent; model: ModelConfig }> {
  let agent = await client.agents.get(agentId)
  const configured = given ?? taskModelOf(client, agent)
  if (!configured)
    throw new ConflictError(`Agent "${agent.name}" has no model configured; tasks need one to think with.`, {
      code: 'NO_MODEL',
    })
  const model = parseModelConfig(configured)
  const stored = agent.definition as { policy?: SpendingPolicy }
  const hosted = client.definitions.get(agent.name)?.policy
  if (hosted && !hasLimits(stored.policy) && hasLimits(hosted)) {
    // The caps and the token they are in; every other rule stored (counterparties) stays.
    const { perJobCap, budget, token } = hosted
    const policy = JSON.parse(
      JSON.stringify({ ...stored.policy, perJobCap, budget, token }),
    ) as SpendingPolicy
    agent = await client.agents.update(agent.id, { definition: { ...stored, policy } })
    await client.activity.record(agent.id, 'lifecycle', { event: 'updated', fields: ['policy'] })
  }
  if (!hasLimits((agent.definition as { policy?: SpendingPolicy }).policy))
    throw new ConflictError(
      `Agent "${agent.name}" has no spending limits; a model may only work within them: set perJobCap or budget in its policy.`,
    )
  return { agent, model }
}

const hasLimits = (policy: SpendingPolicy | undefined): boolean =>
  Boolean(policy?.perJobCap || policy?.budget)

/**
 * Carries out a recorded task to its end: the outcome is written to the activity (`task finished`
 * and `task succeeded`, or `task failed`), then to the task's row, before this settles. The row is
 * written last, so a task that reads finished has every event of its run stored. Shared by
 * `runTask` and `startTask`, so a task reads the same however it was given.
 */
export async function runAcceptedTask(
  client: RuntimeClient,
  agent: Agent,
  task: Task,
  parameters: RunTaskParameters & { model: ModelConfig },
): Promise<RunTaskReturnType> {
  const taskId = task.id
  let steps = 0
  let result: Omit<RunTaskReturnType, 'taskId'>
  try {
    result = await think(client, agent, taskId, parameters, (step) => {
      steps = step
    })
  } catch (error) {
    const reason = error instanceof BaseError ? error.shortMessage : String(error)
    await client.activity
      .record(agent.id, 'lifecycle', { event: 'task failed', taskId, error: reason, steps })
      .catch((cause: unknown) =>
        client.log(`runtime: task ${taskId} could not be recorded: ${String(cause)}`),
      )
    await finishTask(client.db, taskId, { status: 'failed', error: reason, steps }).catch((cause: unknown) =>
      client.log(`runtime: task ${taskId} could not be marked failed: ${String(cause)}`),
    )
    throw error
  }
  const { answer, usage } = result
  await client.activity.recordMany([
    {
      agentId: agent.id,
      kind: 'lifecycle',
      data: { event: 'task finished', taskId, answer, steps: result.steps, usage },
    },
    { agentId: agent.id, kind: 'lifecycle', data: { event: 'task succeeded', taskId, steps: result.steps } },
  ])
  await finishTask(client.db, taskId, { status: 'succeeded', answer, steps: result.steps })
  return { taskId, ...result }
}

/** The loop: a model turn, then its tool calls, until the model answers or the steps run out. */
async function think(
  client: RuntimeClient,
  agent: Agent,
  taskId: string,
  parameters: RunTaskParameters & { model: ModelConfig },
  onStep: (step: number) => void,
): Promise<Omit<RunTaskReturnType, 'taskId'>> {
  const config = parameters.model
  const model = createChatModel(config)
  const messages: ChatMessage[] = [
    { role: 'system', content: systemPrompt(agent) },
    { role: 'user', content: parameters.goal },
  ]
  const usage = { promptTokens: 0, completionTokens: 0 }
  const maxSteps = parameters.maxSteps ?? 8
  await client.activity.record(agent.id, 'lifecycle', {
    event: 'task started',
    taskId,
    goal: parameters.goal,
    model: config.model,
  })
  for (let step = 1; step <= maxSteps; step++) {
    onStep(step)
    const reply = await turn(client, agent, { model, messages, step, taskId })
    // Read while the task runs (`getTask`); a lost write costs only that count.
    await setTaskSteps(client.db, taskId, step).catch(() => undefined)
    usage.promptTokens += reply.usage.promptTokens
    usage.completionTokens += reply.usage.completionTokens
    if (reply.toolCalls.length === 0) return { answer: reply.text, steps: step, usage }
    messages.push({ role: 'assistant', content: reply.text, toolCalls: reply.toolCalls })
    for (const call of reply.toolCalls) {
      if (call.name === 'finish') return { answer: call.args.answer, steps: step, usage }
      messages.push(await act(client, agent, call, { step, taskId }))
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
    "Work with the tools; hire with an input that matches the offering's input schema from search_market; call finish with your answer when done.",
    untrustedDataRule,
  ]
    .filter(Boolean)
    .join('\n')
}

/** One model turn, with its usage recorded and the reply written to the activity. */
async function turn(
  client: RuntimeClient,
  agent: Agent,
  context: {
    model: ReturnType<typeof createChatModel>
    messages: ChatMessage[]
    step: number
    taskId: string
  },
): Promise<CompleteReturnType<typeof agentTools>> {
  const { model, messages, step, taskId } = context
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
    await client.activity.record(agent.id, 'model', { taskId, step, error: reason })
    throw error
  })
  await client.activity.record(agent.id, 'model', {
    taskId,
    step,
    text: reply.text,
    toolCalls: reply.toolCalls.map((c) => ({ name: c.name, args: c.args })),
    usage: reply.usage,
  })
  return reply
}

/**
 * Runs one tool call; its result (or the refusal) goes to the activity and back to the model. A
 * hire and a payment are written as they happen (the hire before its delivery is awaited), in the
 * job and payment kinds, so the task's money shows on the stream beside the job's own events.
 */
async function act(
  client: RuntimeClient,
  agent: Agent,
  call: { id: string; name: string; args: unknown },
  context: { step: number; taskId: string },
): Promise<ChatMessage> {
  const { step, taskId } = context
  const progress: ToolProgress = {
    hired: async (job) =>
      client.activity.record(agent.id, 'job', {
        event: 'hired for task',
        taskId,
        step,
        jobId: job.jobId,
        provider: job.providerChainAgentId,
        offering: job.offering,
        budget: await client.tokens.moneyOf(job.budget, job.token),
      }),
    paid: (payment) =>
      client.activity.record(agent.id, 'payment', {
        event: 'paid for task',
        taskId,
        step,
        paymentId: payment.id,
        to: payment.to.chainAgentId,
        amount: payment.amount,
        status: payment.status,
        txHash: payment.txHash,
      }),
  }
  const result = await runTool(client, agent.id, call, progress).then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({
      ok: false as const,
      refused: error instanceof BaseError && error.code === 'POLICY_REFUSED',
      reason: error instanceof BaseError ? error.shortMessage : String(error),
    }),
  )
  await client.activity.record(agent.id, 'tool', {
    taskId,
    step,
    name: call.name,
    args: call.args,
    ...result,
  })
  // What a tool returns may carry other agents' text (listings, deliverables): it goes back as data.
  const content = result.ok
    ? untrusted(`tool:${call.name}`, result.value)
    : JSON.stringify({
        error: result.refused ? `refused by your spending policy: ${result.reason}` : result.reason,
      })
  return { role: 'tool', toolCallId: call.id, content }
}
