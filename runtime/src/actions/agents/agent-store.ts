import {
  type Agent,
  type Db,
  getAgent,
  getAgentByChainId,
  getAgentBySafe,
  NotFoundError,
  type UpdateAgentParameters,
  updateAgent,
} from '@agora/db'

/**
 * The runtime's agents, read once and then kept: the process serving an agent (its shard's) is the
 * only writer of its row, so a row read once stays true until it writes it again (every write goes
 * through `update`). The money paths then check an agent's status without a query. Agents another
 * process serves are read afresh each time (their rows change there).
 */
export type AgentStore = {
  /** The agent by runtime id (`agt_…`) or on-chain id (digits); a `NotFoundError` if there is none. */
  get(id: string): Promise<Agent>
  /** Writes the agent's row and keeps the in-memory copy in step. */
  update(id: string, patch: UpdateAgentParameters): Promise<Agent>
  /** Reads the row again, after a write inside a wider transaction (once it committed). */
  reload(id: string): Promise<Agent>
  /** The launched agent hosted here behind an on-chain id, if any. */
  byChainId(chainAgentId: string): Promise<Agent | undefined>
  /** The hosted agent whose Safe is `address` (Safes never change hands between agents). */
  bySafe(address: string): Promise<Agent | undefined>
}

/** @example const agents = createAgentStore(db); const agent = await agents.get('agt_…') */
export function createAgentStore(db: Db, parameters: { shard?: number } = {}): AgentStore {
  const shard = parameters.shard ?? 0
  const byId = new Map<string, Agent>()
  const idByChainId = new Map<string, string>()
  const idBySafe = new Map<string, string>()
  const loading = new Map<string, Promise<Agent | undefined>>()
  const keep = (agent: Agent) => {
    if (agent.shard !== shard) return agent
    byId.set(agent.id, agent)
    if (agent.chainAgentId) idByChainId.set(agent.chainAgentId, agent.id)
    if (agent.safeAddress) idBySafe.set(agent.safeAddress, agent.id)
    return agent
  }
  const store: AgentStore = {
    async get(id) {
      if (/^\d{1,78}$/.test(id)) {
        const agent = await store.byChainId(id)
        if (!agent) throw new NotFoundError(`No agent with on-chain id ${id} is hosted here.`)
        return agent
      }
      const known = byId.get(id)
      if (known) return known
      // Concurrent first reads of one agent share a query: they go on together, in the same tick.
      let pending = loading.get(id)
      if (!pending) {
        pending = getAgent(db, id).finally(() => loading.delete(id))
        loading.set(id, pending)
      }
      const agent = await pending
      if (!agent) throw new NotFoundError(`No agent with id "${id}".`)
      return byId.get(id) ?? keep(agent)
    },
    async update(id, patch) {
      byId.delete(id)
      return keep(await updateAgent(db, id, patch))
    },
    async reload(id) {
      byId.delete(id)
      return store.get(id)
    },
    async byChainId(chainAgentId) {
      const id = idByChainId.get(chainAgentId)
      if (id) return store.get(id)
      const agent = await getAgentByChainId(db, chainAgentId)
      return agent && keep(agent)
    },
    async bySafe(address) {
      const id = idBySafe.get(address.toLowerCase())
      if (id) return store.get(id)
      const agent = await getAgentBySafe(db, address)
      return agent && keep(agent)
    },
  }
  return store
}
