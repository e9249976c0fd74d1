import { AuthError, listTasks as listTaskRows, type PageParameters, type TaskStatus } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import { type TaskView, toTaskView } from '../../views/task-view.ts'
import { type ViewerParameters, viewerIsAny } from '../../views/viewer.ts'

export type ListTasksParameters = ViewerParameters &
  PageParameters & {
    /** Only tasks of this status. */
    status?: TaskStatus
  }
export type ListTasksReturnType = { tasks: TaskView[]; next: string | null }

/**
 * An agent's tasks, newest first, a page at a time (`limit`, default 50, at most 200; then `cursor`: the `next` of the page before). The
 * owner's only, like each task: any other `viewer` is refused (`FORBIDDEN`).
 *
 * @example
 * const first = await listTasks(client, agentId, { limit: 20 })
 * const second = await listTasks(client, agentId, { limit: 20, cursor: first.next! })
 */
export async function listTasks(
  client: Pick<RuntimeClient, 'db' | 'agents'>,
  agentId: string,
  parameters: ListTasksParameters = {},
): Promise<ListTasksReturnType> {
  const agent = await client.agents.get(agentId)
  if (!viewerIsAny(parameters.viewer, [agent.owner]))
    throw new AuthError("Only the agent's owner may read its tasks.", { code: 'FORBIDDEN' })
  const { status, cursor, limit } = parameters
  const page = await listTaskRows(client.db, { agentId: agent.id, status, cursor, limit })
  return { tasks: page.items.map(toTaskView), next: page.next }
}
