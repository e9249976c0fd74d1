import { listAgents as listAgentRows } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import { type AgentView, toAgentView } from '../../views/agent-view.ts'

export type ListAgentsParameters = { owner?: string }
export type ListAgentsReturnType = AgentView[]

/**
 * The runtime's agents, oldest first; only one owner's with `owner`.
 *
 * @example
 * const mine = await listAgents(client, { owner: '0xOwner…' })
 */
export async function listAgents(
  client: Pick<RuntimeClient, 'db' | 'tokens' | 'safes'>,
  parameters: ListAgentsParameters = {},
): Promise<ListAgentsReturnType> {
  const rows = await listAgentRows(client.db, parameters.owner ? { owner: parameters.owner } : {})
  return Promise.all(rows.map((agent) => toAgentView(client, agent)))
}
