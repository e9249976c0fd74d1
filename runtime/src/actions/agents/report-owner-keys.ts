import { listAgents } from '@agora/db'
import type { Address } from 'viem'
import type { RuntimeClient } from '../../client.ts'

/**
 * Says which agents still hold an owner key of their Safe (launched before the agent module): their
 * policy holds in code only, and their owners can move them (`moveToModule`, `POST
 * /agents/{id}/module`). Run in the background at start; a chain that does not answer skips the report.
 *
 * @example
 * void reportOwnerKeys(client)
 */
export async function reportOwnerKeys(
  client: Pick<RuntimeClient, 'db' | 'safes' | 'log' | 'shard'>,
): Promise<string[]> {
  const held: string[] = []
  for (const agent of await listAgents(client.db, { shard: client.shard })) {
    if (!agent.safeAddress || agent.status === 'retired') continue
    const path = await client.safes
      .pathOf(agent.safeAddress as Address, agent.signerAddress as Address)
      .catch(() => undefined)
    if (path === 'owner') held.push(`"${agent.name}" (${agent.chainAgentId})`)
  }
  if (held.length > 0)
    client.log(
      `runtime: ${held.length} agent(s) still hold an owner key of their Safe, so their policy holds in code only: ${held.join(', ')}; their owners can move them onto the agent module (POST /agents/{id}/module)`,
    )
  return held
}
