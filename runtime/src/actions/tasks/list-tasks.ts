import { AuthError, listTasks as listTaskRows, type TaskStatus } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import { type TaskView, toTaskView } from '../../views/task-view.ts'
import { type ViewerParameters, viewerIsAny } from '../../views/viewer.ts'

export type ListTasksParameters = ViewerParameters & {
  /** Only tasks of this status. */
  status?: TaskStatus
  /** Tasks older than this one (the last id of the previous page). */
  before?: string
  /** At most this many (default 50, at most 500). */
  limit?: number
}
export type ListTasksReturnType = TaskView[]

/**
 * An agent's tasks, newest first, a page at a time (`limit`, then `before` the last id seen). The
 * owner's only, like each task: any other `viewer` is refused (`FORBIDDEN`).
 *
 * @example
 * const page = await listTasks(client, agentId, { limit: 20 })
 * const next = await listTasks(client, agentId, { limit: 20, before: page.at(-1)?.id })
 */
export async function listTasks(
  client: Pick<RuntimeClient, 'db' | 'agents'>,
  agentId: string,
  parameters: ListTasksParameters = {},
): Promise<ListTasksReturnType> {
  const agent = await client.agents.get(agentId)
  if (!viewerIsAny(parameters.viewer, [agent.owner]))
    throw new AuthError("Only the agent's owner may read its tasks.", { code: 'FORBIDDEN' })
  const { status, before, limit } = parameters
  const rows = await listTaskRows(client.db, { agentId: agent.id, status, before, limit })
  return rows.map(toTaskView)
}
