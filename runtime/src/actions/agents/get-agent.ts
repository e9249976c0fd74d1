import type { RuntimeClient } from '../../client.ts'
import { type AgentView, toAgentView } from '../../views/agent-view.ts'

export type GetAgentReturnType = AgentView

/**
 * One agent, by runtime id (`agt_…`) or on-chain id; a `NotFoundError` when there is none.
 *
 * @example
 * const agent = await getAgent(client, 'agt_…')
 */
export async function getAgent(
  client: Pick<RuntimeClient, 'agents' | 'tokens' | 'safes'>,
  id: string,
): Promise<GetAgentReturnType> {
  return toAgentView(client, await client.agents.get(id))
}
