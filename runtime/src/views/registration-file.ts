import type { Agent } from '@agora/db'
import { z } from 'zod'
import type { RuntimeClient } from '../client.ts'
import type { StoredDefinition } from './agent-view.ts'
import { offeringViewSchema, toOfferingView } from './offering-view.ts'

export const registrationFileSchema = z
  .object({
    type: z.string(),
    name: z.string(),
    description: z.string(),
    image: z.string(),
    services: z.array(z.object({ name: z.string(), endpoint: z.string() })),
    x402Support: z.boolean(),
    active: z.boolean(),
    registrations: z.array(z.object({ agentId: z.number().int(), agentRegistry: z.string() })),
    supportedTrust: z.array(z.string()),
    offerings: z.array(offeringViewSchema),
  })
  .meta({
    id: 'RegistrationFile',
    description: "An agent's registration file (ERC-8004, January 2026), plus its offerings.",
  })

/** An agent's registration file in the shape of ERC-8004 (January 2026), plus its offerings. */
export type RegistrationFile = z.infer<typeof registrationFileSchema>

/**
 * Builds the registration file of a launched agent. Its URI on-chain is the registry's base URI
 * followed by the agent id, so the file is served by whoever serves that base URI (the HTTP API).
 *
 * @example
 * const file = await registrationFile(client, agent)
 */
export async function registrationFile(
  client: Pick<RuntimeClient, 'chain' | 'tokens' | 'publicUrl'>,
  agent: Agent,
): Promise<RegistrationFile> {
  const definition = agent.definition as StoredDefinition
  return {
    type: 'https://eips.ethereum.org/EIPS/eip-8004#registration-v1',
    name: agent.name,
    description: agent.description,
    image: '',
    services: client.publicUrl ? [{ name: 'agora', endpoint: `${client.publicUrl}/agents/${agent.id}` }] : [],
    x402Support: false,
    active: agent.status === 'active',
    registrations: agent.chainAgentId
      ? [
          {
            agentId: Number(agent.chainAgentId),
            agentRegistry: `eip155:${client.chain.chainId}:${client.chain.contracts.identityRegistry}`,
          },
        ]
      : [],
    supportedTrust: ['reputation'],
    offerings: await Promise.all((definition.offerings ?? []).map((o) => toOfferingView(client, o))),
  }
}
