import type { Agent } from '@agora/db'
import type { Context } from 'hono'
import type { AppEnv } from './env.ts'
import { HttpProblem } from './problem.ts'

/** The agent named in the path, if the signed-in address owns it; a 403 otherwise. */
export async function ownedAgent(c: Context<AppEnv>): Promise<Agent> {
  const agent = await c.var.runtime.agent(c.req.param('id')!).info()
  if (agent.owner.toLowerCase() !== c.var.session.address.toLowerCase()) {
    throw new HttpProblem(403, 'FORBIDDEN', "Only the agent's owner may do this.")
  }
  return agent
}

/**
 * Refuses work from an agent that is not active, saying why and what would help. The runtime
 * refuses too; this answers before anything is looked up on-chain, in words meant for the owner.
 */
export function requireActive(agent: Agent, what: string): void {
  if (agent.status === 'active') return
  const detail =
    agent.status === 'paused'
      ? `Agent "${agent.name}" is paused and cannot ${what}; resume it first (POST /agents/${agent.id}/resume).`
      : agent.status === 'retired'
        ? `Agent "${agent.name}" is retired and cannot ${what} any more.`
        : `Agent "${agent.name}" is still launching and cannot ${what} yet.`
  throw new HttpProblem(409, `AGENT_${agent.status.toUpperCase()}`, detail)
}
