import { randomUUID } from 'node:crypto'
import { BaseError, ConflictError } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import type { ModelConfigInput } from '../../inference/model-config.ts'
import { requireActiveAgent } from '../agents/require-active-agent.ts'
import { runTask } from './run-task.ts'

export type StartTaskParameters = { goal: string; maxSteps?: number }
export type StartTaskReturnType = { taskId: string }

/**
 * Accepts a task for an agent with a model and runs it in the background: `task accepted`, the
 * model's steps and tool calls, then `task succeeded` or `task failed` go to the agent's activity
 * under the returned task id.
 *
 * @example
 * const { taskId } = await startTask(client, agentId, { goal: 'Find a summarizer and summarise …' })
 */
export async function startTask(
  client: RuntimeClient,
  agentId: string,
  parameters: StartTaskParameters,
): Promise<StartTaskReturnType> {
  const agent = await client.agents.get(agentId)
  if (!(agent.definition as { model?: unknown }).model) {
    throw new ConflictError(`Agent "${agent.name}" has no model configured; tasks need one to think with.`, {
      code: 'NO_MODEL',
    })
  }
  requireActiveAgent(agent, 'run tasks')
  // The stored model leaves out its API key; the definition hosted in this process has it.
  const model = client.definitions.get(agent.name)?.model as ModelConfigInput | undefined
  const taskId = `task_${randomUUID()}`
  await client.activity.record(agent.id, 'lifecycle', {
    event: 'task accepted',
    taskId,
    goal: parameters.goal,
  })
  void runTask(client, agent.id, { ...parameters, ...(model ? { model } : {}) })
    .then(
      (result) =>
        client.activity.record(agent.id, 'lifecycle', {
          event: 'task succeeded',
          taskId,
          steps: result.steps,
        }),
      (error: unknown) =>
        client.activity.record(agent.id, 'lifecycle', {
          event: 'task failed',
          taskId,
          error: error instanceof BaseError ? error.shortMessage : String(error),
        }),
    )
    .catch((error: unknown) => client.log(`runtime: task ${taskId} could not be recorded: ${error}`))
  return { taskId }
}
