import type { Agent } from '@agora/db'
import type { RuntimeContext } from './context.ts'

/** An agent's registration file in the shape of ERC-8004 (January 2026), plus its offerings. */
export type RegistrationFile = {
  type: string
  name: string
  description: string
  image: string
  services: { name: string; endpoint: string }[]
  x402Support: boolean
  active: boolean
  registrations: { agentId: number; agentRegistry: string }[]
  supportedTrust: string[]
  offerings: { name: string; description: string; price: string; token: string }[]
}

/**
 * Builds the registration file of a launched agent. Its URI on-chain is the registry's base URI
 * followed by the agent id, so the file is served by whoever serves that base URI (the HTTP API).
 *
 * @example
 * const file = registrationFile(ctx, agent, 'https://agora.example')
 */
export function registrationFile(ctx: RuntimeContext, agent: Agent, publicUrl?: string): RegistrationFile {
  const definition = agent.definition as { offerings?: RegistrationFile['offerings'] }
  return {
    type: 'https://eips.ethereum.org/EIPS/eip-8004#registration-v1',
    name: agent.name,
    description: agent.description,
    image: '',
    services: publicUrl ? [{ name: 'agora', endpoint: `${publicUrl}/agents/${agent.id}` }] : [],
    x402Support: false,
    active: agent.status === 'active',
    registrations: agent.chainAgentId
      ? [
          {
            agentId: Number(agent.chainAgentId),
            agentRegistry: `eip155:${ctx.chainId}:${ctx.contracts.identityRegistry}`,
          },
        ]
      : [],
    supportedTrust: ['reputation'],
    offerings: (definition.offerings ?? []).map(({ name, description, price, token }) => ({
      name,
      description,
      price,
      token,
    })),
  }
}
