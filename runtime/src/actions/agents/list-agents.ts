import { type PageParameters, pageAgents } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import { type AgentView, toAgentView } from '../../views/agent-view.ts'

export type ListAgentsParameters = PageParameters & { owner?: string }
export type ListAgentsReturnType = { agents: AgentView[]; next: string | null }

/**
 * A page of the runtime's agents, oldest first (`limit`, default 50, at most 200; then `cursor`:
 * the `next` of the previous page); only one owner's with `owner`.
 *
 * @example
 * const { agents, next } = await listAgents(client, { owner: '0xOwner…' })
 */
export async function listAgents(
  client: Pick<RuntimeClient, 'db' | 'tokens' | 'safes'>,
  parameters: ListAgentsParameters = {},
): Promise<ListAgentsReturnType> {
  const { owner, limit, cursor } = parameters
  const page = await pageAgents(client.db, { ...(owner && { owner }), limit, cursor })
  return { agents: await Promise.all(page.items.map((agent) => toAgentView(client, agent))), next: page.next }
}
