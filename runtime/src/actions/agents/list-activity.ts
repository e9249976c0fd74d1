import { listActivity as listActivityRows } from '@agora/db'
import type { ActivityEvent } from '../../activity/activity-log.ts'
import type { RuntimeClient } from '../../client.ts'
import { publicActivityKinds, toActivityView } from '../../views/activity-view.ts'
import { type ViewerParameters, viewerIsAny } from '../../views/viewer.ts'

export type ListActivityParameters = ViewerParameters & { afterId?: number; limit?: number }

/**
 * An agent's stored activity after `afterId`, oldest first, at most `limit` (default 100, at most
 * 1000) entries: what a stream replays before it goes live. The agent's owner (and the operator's
 * own code) sees every entry; any other `viewer` only the public kinds, without their private
 * fields (see `toActivityView`), so a full page always means more may follow.
 *
 * @example
 * const backlog = await listActivity(client, agentId, { afterId: lastEventId, viewer: null })
 */
export async function listActivity(
  client: Pick<RuntimeClient, 'db' | 'agents'>,
  agentId: string,
  parameters: ListActivityParameters = {},
): Promise<ActivityEvent[]> {
  const agent = await client.agents.get(agentId)
  const limit = Math.min(Math.max(parameters.limit ?? 100, 1), 1_000)
  const full = viewerIsAny(parameters.viewer, [agent.owner])
  const rows = await listActivityRows(client.db, {
    agentId: agent.id,
    afterId: parameters.afterId ?? 0,
    kinds: full ? undefined : publicActivityKinds,
    limit,
  })
  return (rows as ActivityEvent[]).map((event) => toActivityView(event, { full })!)
}
