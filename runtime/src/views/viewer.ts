import type { RuntimeClient } from '../client.ts'

/**
 * Who reads a view, for what it may show of private work (job inputs and deliverables, payment
 * memos, task goals and model transcripts): an address (signed in), `null` for someone anonymous,
 * and `undefined` for the operator's own code, which sees everything. Whatever serves other people
 * (the HTTP API) always passes one of the first two.
 */
export type Viewer = string | null | undefined

/** The read actions' visibility option. */
export type ViewerParameters = {
  /** Who reads: an address, `null` for anonymous; omitted only by the operator's own code (sees everything). */
  viewer?: Viewer
}

/** True when `viewer` is one of `addresses` (case-insensitively), or is the operator. */
export function viewerIsAny(viewer: Viewer, addresses: (string | null | undefined)[]): boolean {
  if (viewer === undefined) return true
  if (viewer === null) return false
  const me = viewer.toLowerCase()
  return addresses.some((a) => a?.toLowerCase() === me)
}

/** The owner of a hosted agent, or undefined when it is not hosted here (or unknown). */
export async function ownerOf(
  client: Pick<RuntimeClient, 'agents'>,
  agent: { id?: string | null; chainAgentId?: string | null },
): Promise<string | undefined> {
  if (agent.id) return (await client.agents.get(agent.id).catch(() => undefined))?.owner
  if (agent.chainAgentId) return (await client.agents.byChainId(agent.chainAgentId))?.owner
  return undefined
}
