import { type Agent, getShardHolder } from '@agora/db'
import type { RuntimeClient } from '../client.ts'
import { AgentElsewhereError } from '../errors.ts'

/** Whether this process serves `agent` (its shard is this process's). */
export function isHosted(client: Pick<RuntimeClient, 'shard'>, agent: Pick<Agent, 'shard'>): boolean {
  return agent.shard === client.shard
}

/** Whether this process serves the agent `id` (`agt_…` or on-chain id). */
export async function hostsAgent(
  client: Pick<RuntimeClient, 'agents' | 'shard'>,
  id: string,
): Promise<boolean> {
  return isHosted(client, await client.agents.get(id))
}

export type AgentLocation = {
  /** The agent's runtime id. */
  id: string
  shard: number
  /** True when this process serves it. */
  hosted: boolean
  /** Where the process holding its shard is reached (as it recorded when it took the shard). */
  url: string | null
}

/**
 * Where the agent `id` is served: here, or by the process at `url`.
 *
 * @example
 * const { hosted, url } = await locateAgent(client, 'agt_…')
 */
export async function locateAgent(
  client: Pick<RuntimeClient, 'agents' | 'shard' | 'db'>,
  id: string,
): Promise<AgentLocation> {
  const agent = await client.agents.get(id)
  if (isHosted(client, agent)) return { id: agent.id, shard: agent.shard, hosted: true, url: null }
  const holder = await getShardHolder(client.db, agent.shard)
  return { id: agent.id, shard: agent.shard, hosted: false, url: holder?.url ?? null }
}

/**
 * Refuses to act for an agent another process serves: only its shard's holder signs for it (its
 * Safe's nonces, budgets and handlers live there). The error's `meta.url` says where that process
 * is reached: the API forwards the request there, and answers the error (503) only when it cannot.
 *
 * @example
 * await requireHosted(client, agentId)
 */
export async function requireHosted(client: Pick<RuntimeClient, 'agents' | 'shard' | 'db'>, id: string) {
  const where = await locateAgent(client, id)
  if (where.hosted) return
  // The sentence reaches HTTP clients when no process answers for the shard: it names no address.
  throw new AgentElsewhereError(
    `Agent ${where.id} is served by another runtime process (shard ${where.shard}), which does not answer at the moment; retry shortly.`,
    { meta: { shard: where.shard, url: where.url } },
  )
}
