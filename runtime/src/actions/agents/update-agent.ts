import type { RuntimeClient } from '../../client.ts'
import { type AgentView, toAgentView } from '../../views/agent-view.ts'

export type UpdateAgentParameters = { description?: string; instructions?: string }
/** The agent as its owner sees it: its view and its instructions (the owner's prompt). */
export type UpdateAgentReturnType = AgentView & { instructions: string }

/**
 * Changes an agent's public description or its instructions. Offering handlers and evaluators
 * hosted here read the definition, so it is kept in step.
 *
 * @example
 * await updateAgent(client, id, { instructions: 'Answer in French.' })
 */
export async function updateAgent(
  client: Pick<RuntimeClient, 'agents' | 'tokens' | 'definitions' | 'activity'>,
  id: string,
  parameters: UpdateAgentParameters,
): Promise<UpdateAgentReturnType> {
  const agent = await client.agents.get(id)
  const updated = await client.agents.update(agent.id, parameters)
  const hosted = client.definitions.get(agent.name)
  if (hosted) client.definitions.set(agent.name, { ...hosted, ...parameters })
  await client.activity.record(agent.id, 'lifecycle', { event: 'updated', fields: Object.keys(parameters) })
  return { ...(await toAgentView(client, updated)), instructions: updated.instructions }
}
