import { insertTask } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import { requireActiveAgent } from '../agents/require-active-agent.ts'
import { prepareTask, runAcceptedTask } from './run-task.ts'

export type StartTaskParameters = { goal: string; maxSteps?: number }
export type StartTaskReturnType = { taskId: string }

/**
 * Accepts a task for an agent with a model and runs it in the background. The task is recorded at
 * once (follow it with `getTask`), and `task accepted`, each model turn, tool call, hire, payment
 * and refusal, then `task succeeded` or `task failed` go to the agent's activity under the returned
 * task id. The model is the one the agent has in this process (see `taskModelOf`): `NO_MODEL`
 * without one, before anything is recorded.
 *
 * @example
 * const { taskId } = await startTask(client, agentId, { goal: 'Find a summarizer and summarise …' })
 */
export async function startTask(
  client: RuntimeClient,
  agentId: string,
  parameters: StartTaskParameters,
): Promise<StartTaskReturnType> {
  const { agent, model } = await prepareTask(client, agentId)
  requireActiveAgent(agent, 'run tasks')
  const task = await insertTask(client.db, { agentId: agent.id, goal: parameters.goal })
  await client.activity.record(agent.id, 'lifecycle', {
    event: 'task accepted',
    taskId: task.id,
    goal: parameters.goal,
  })
  // The outcome is on the task's row and in the activity (runAcceptedTask writes both), not here.
  void runAcceptedTask(client, agent, task, { ...parameters, model }).catch(() => {})
  return { taskId: task.id }
}
