import { type AgentView, AuthError } from '@agora/runtime'
import type { Context } from 'hono'
import type { AppEnv } from './env.ts'

/** The agent named in the path, if the signed-in address owns it; a 403 otherwise. */
export async function requireOwner(c: Context<AppEnv>, id: string): Promise<AgentView> {
  const agent = await c.var.runtime.getAgent(id)
  if (agent.owner.toLowerCase() !== c.var.session.address.toLowerCase())
    throw new AuthError("Only the agent's owner may do this.", { code: 'FORBIDDEN' })
  return agent
}
