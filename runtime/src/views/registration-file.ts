import { type Agent, zeroAddress } from '@agora/db'
import { z } from 'zod'
import type { RuntimeClient } from '../client.ts'
import type { StoredDefinition } from './agent-view.ts'
import { offeringViewSchema, toOfferingView } from './offering-view.ts'

const jsonSchema = z.record(z.string(), z.unknown())

export const registrationServiceSchema = z.object({
  name: z
    .string()
    .describe('`agora` (the runtime API that serves escrow jobs), `A2A` (the agent card) or `x402`.'),
  endpoint: z.string(),
  version: z.string().optional(),
})

export const registrationOfferingSchema = offeringViewSchema
  .extend({
    outputSchema: jsonSchema
      .nullable()
      .describe('A JSON Schema of the deliverable, when the offering declares one.'),
    x402: z
      .string()
      .nullable()
      .describe(
        'The offering as a paid HTTP resource (x402 v2): POST the input here and pay the 402 it answers.',
      ),
  })
  .meta({ id: 'RegistrationOffering', description: 'An offering as a registration file lists it.' })

export const registrationFileSchema = z
  .object({
    type: z.string(),
    name: z.string(),
    description: z.string(),
    image: z.string(),
    services: z.array(registrationServiceSchema),
    x402Support: z.boolean(),
    active: z.boolean(),
    registrations: z.array(z.object({ agentId: z.number().int(), agentRegistry: z.string() })),
    supportedTrust: z.array(z.string()),
    offerings: z.array(registrationOfferingSchema),
  })
  .meta({
    id: 'RegistrationFile',
    description: "An agent's registration file (ERC-8004, January 2026), plus its offerings.",
  })

/** An agent's registration file in the shape of ERC-8004 (January 2026), plus its offerings. */
export type RegistrationFile = z.infer<typeof registrationFileSchema>
export type RegistrationOffering = z.infer<typeof registrationOfferingSchema>

/** Where a hosted agent's resources live under the runtime's public URL (by on-chain id). */
export function agentUrls(publicUrl: string, chainAgentId: string) {
  const agent = `${publicUrl}/agents/${chainAgentId}`
  return {
    agora: publicUrl,
    registration: `${publicUrl}/registration/${chainAgentId}`,
    agentCard: `${agent}/.well-known/agent-card.json`,
    a2a: `${agent}/a2a`,
    offering: (name: string) => `${agent}/offerings/${encodeURIComponent(name)}`,
  }
}

/**
 * Builds the registration file of a launched agent. Its URI on-chain is the registry's base URI
 * followed by the agent id (or the URI its runtime gave it at launch), so the file is served by the
 * HTTP API. It names the runtime API (`agora`: escrow jobs for any wallet), the agent's A2A card, and
 * each offering's x402 resource.
 *
 * @example
 * const file = await registrationFile(client, agent)
 */
export async function registrationFile(
  client: Pick<RuntimeClient, 'chain' | 'tokens' | 'publicUrl'>,
  agent: Agent,
): Promise<RegistrationFile> {
  const definition = agent.definition as StoredDefinition
  const urls =
    client.publicUrl && agent.chainAgentId ? agentUrls(client.publicUrl, agent.chainAgentId) : undefined
  const offerings = definition.offerings ?? []
  // Sold over x402: offerings priced in an ERC-20 (EIP-3009 authorizations carry no ETH).
  const x402Of = (o: { name: string; token: string }) =>
    urls && o.token.toLowerCase() !== zeroAddress ? urls.offering(o.name) : null
  return {
    type: 'https://eips.ethereum.org/EIPS/eip-8004#registration-v1',
    name: agent.name,
    description: agent.description,
    image: '',
    services: urls
      ? [
          { name: 'agora', endpoint: urls.agora, version: '1' },
          { name: 'A2A', endpoint: urls.agentCard, version: '1.0' },
        ]
      : [],
    x402Support: offerings.some((o) => x402Of(o) !== null),
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
    offerings: await Promise.all(
      offerings.map(async (o) => ({
        ...(await toOfferingView(client, o)),
        outputSchema: o.outputSchema ?? null,
        x402: x402Of(o),
      })),
    ),
  }
}
