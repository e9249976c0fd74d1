import { AuthError, getTask as getTaskRow, NotFoundError } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import { type TaskView, toTaskView } from '../../views/task-view.ts'
import { type ViewerParameters, viewerIsAny } from '../../views/viewer.ts'

export type GetTaskParameters = ViewerParameters
export type GetTaskReturnType = TaskView

/**
 * One task of an agent, by its id (`task_…`): its goal, status, steps so far and, once finished,
 * its answer or error. Tasks are the owner's business: any other `viewer` is refused
 * (`FORBIDDEN`). Another agent's task id is not found.
 *
 * @example
 * const { taskId } = await startTask(client, agentId, { goal: 'Summarise the news' })
 * const task = await getTask(client, agentId, taskId) // { status: 'running', steps: 1, … }
 */
export async function getTask(
  client: Pick<RuntimeClient, 'db' | 'agents'>,
  agentId: string,
  taskId: string,
  parameters: GetTaskParameters = {},
): Promise<GetTaskReturnType> {
  const agent = await client.agents.get(agentId)
  if (!viewerIsAny(parameters.viewer, [agent.owner]))
    throw new AuthError("Only the agent's owner may read its tasks.", { code: 'FORBIDDEN' })
  const task = /^task_[\w-]{1,64}$/.test(taskId)
    ? await getTaskRow(client.db, { agentId: agent.id, id: taskId })
    : undefined
  if (!task) throw new NotFoundError(`Agent "${agent.name}" has no task ${taskId}.`)
  return toTaskView(task)
}
