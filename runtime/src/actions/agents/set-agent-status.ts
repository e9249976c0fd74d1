import { ConflictError, upsertOfferings } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import { type AgentView, toAgentView } from '../../views/agent-view.ts'

export type SetAgentStatusParameters = { status: 'active' | 'paused' | 'retired' }
export type SetAgentStatusReturnType = AgentView

/**
 * Pauses (no payments, hires or serving), resumes or retires (for good) an agent. Its jobs in
 * flight still settle; refunds still happen. A retired agent's offerings leave the market.
 *
 * @example
 * await setAgentStatus(client, id, { status: 'paused' })
 */
export async function setAgentStatus(
  client: Pick<RuntimeClient, 'db' | 'agents' | 'tokens' | 'activity' | 'market' | 'safes'>,
  id: string,
  { status }: SetAgentStatusParameters,
): Promise<SetAgentStatusReturnType> {
  const agent = await client.agents.get(id)
  if (agent.status === 'launching')
    throw new ConflictError(`Agent "${agent.name}" is still launching.`, { code: 'AGENT_LAUNCHING' })
  if (agent.status === 'retired' && status !== 'retired')
    throw new ConflictError(`Agent "${agent.name}" is retired; that is final.`, { code: 'AGENT_RETIRED' })
  const updated = await client.agents.update(agent.id, { status })
  if (status === 'retired')
    await upsertOfferings(client.db, { agentId: agent.id, offerings: [], deactivateMissing: true })
  await client.activity.record(agent.id, 'lifecycle', { event: status === 'active' ? 'resumed' : status })
  if (updated.chainAgentId) await client.market.refresh(updated.chainAgentId)
  return toAgentView(client, updated)
}
