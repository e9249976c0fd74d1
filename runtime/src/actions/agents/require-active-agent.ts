import type { Agent } from '@agora/db'
import { ConflictError } from '@agora/db'

/** An agent that may move money: launched (it has an identity and a Safe) and active. */
export type ActiveAgent = Agent & { safeAddress: string; chainAgentId: string; status: 'active' }

/**
 * Refuses work from an agent that is not active, saying why and what would help: code
 * `AGENT_PAUSED`, `AGENT_RETIRED` or `AGENT_LAUNCHING`. `what` completes "cannot …" ("pay").
 *
 * @example
 * requireActiveAgent(agent, 'pay') // throws ConflictError when the agent is paused
 */
export function requireActiveAgent(agent: Agent, what: string): asserts agent is ActiveAgent {
  if (agent.status === 'active' && agent.safeAddress && agent.chainAgentId) return
  const [code, detail] =
    agent.status === 'paused'
      ? (['AGENT_PAUSED', `is paused and cannot ${what}; resume it first`] as const)
      : agent.status === 'retired'
        ? (['AGENT_RETIRED', `is retired and cannot ${what} any more`] as const)
        : (['AGENT_LAUNCHING', `is still launching and cannot ${what} yet`] as const)
  throw new ConflictError(`Agent "${agent.name}" ${detail}.`, { code })
}
