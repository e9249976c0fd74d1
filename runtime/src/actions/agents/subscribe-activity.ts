import type { ActivityEvent } from '../../activity/activity-log.ts'
import type { RuntimeClient } from '../../client.ts'
import { toActivityView } from '../../views/activity-view.ts'
import { ownerOf, type ViewerParameters, viewerIsAny } from '../../views/viewer.ts'

export type SubscribeActivityParameters = ViewerParameters & {
  /** Only this agent's entries (its runtime id, `agt_…`); every agent's without it. */
  agentId?: string
}

/**
 * Calls `listener` with every activity entry once stored, as `viewer` may see it (the agent's
 * owner: whole; anyone else: public kinds and fields only, see `toActivityView`), in the order
 * stored. Returns the function that stops it.
 *
 * @example
 * const stop = subscribeActivity(client, (event) => send(event), { agentId, viewer: null })
 */
export function subscribeActivity(
  client: Pick<RuntimeClient, 'activity' | 'agents'>,
  listener: (event: ActivityEvent) => void,
  parameters: SubscribeActivityParameters = {},
): () => void {
  const { agentId, viewer } = parameters
  if (viewer === undefined) {
    return client.activity.subscribe((event) => {
      if (agentId === undefined || event.agentId === agentId) listener(event)
    })
  }
  // Owners are looked up once per agent; entries wait for the lookup in order.
  const owners = new Map<string, Promise<string | undefined>>()
  let previous: Promise<void> = Promise.resolve()
  let open = true
  const stop = client.activity.subscribe((event) => {
    if (agentId !== undefined && event.agentId !== agentId) return
    const id = event.agentId
    let owner = id === null ? Promise.resolve(undefined) : owners.get(id)
    if (!owner) {
      owner = ownerOf(client, { id })
      owners.set(id!, owner)
    }
    const lookup = owner
    previous = previous
      .then(async () => {
        const full = viewerIsAny(viewer, [await lookup])
        const view = toActivityView(event, { full })
        if (view && open) listener(view)
      })
      .catch(() => {})
  })
  return () => {
    open = false
    stop()
  }
}
