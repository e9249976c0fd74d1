import { listActivity as listActivityRows } from '@agora/db'
import type { ActivityEvent } from '../../activity/activity-log.ts'
import type { RuntimeClient } from '../../client.ts'

export type ListActivityParameters = { afterId?: number; limit?: number }

/**
 * An agent's stored activity after `afterId`, oldest first, at most `limit` (default 100, at most
 * 1000) entries: what a stream replays before it goes live.
 *
 * @example
 * const backlog = await listActivity(client, agentId, { afterId: lastEventId })
 */
export async function listActivity(
  client: Pick<RuntimeClient, 'db' | 'agents'>,
  agentId: string,
  parameters: ListActivityParameters = {},
): Promise<ActivityEvent[]> {
  const agent = await client.agents.get(agentId)
  const limit = Math.min(Math.max(parameters.limit ?? 100, 1), 1_000)
  const rows = await listActivityRows(client.db, {
    agentId: agent.id,
    afterId: parameters.afterId ?? 0,
    limit,
  })
  return rows as ActivityEvent[]
}
