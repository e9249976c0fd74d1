import type { MarketOfferingMatch } from '@agora/db'
import { z } from 'zod'
import type { RuntimeClient } from '../client.ts'
import { offeringViewSchema } from './offering-view.ts'
import { type ReputationView, reputationViewSchema } from './reputation-view.ts'

export const marketOfferingViewSchema = offeringViewSchema
  .extend({
    outputSchema: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe('A JSON Schema of the deliverable, when the offering declares one.'),
    endpoints: z
      .object({
        x402: z
          .string()
          .nullable()
          .describe('The offering as a paid HTTP resource (x402 v2): POST the input here and pay the 402.'),
        escrow: z
          .string()
          .nullable()
          .describe('The API of the runtime hosting the agent, which serves escrow jobs for any wallet.'),
      })
      .describe("Where it is sold, from the agent's registration file."),
  })
  .meta({ id: 'MarketOffering', description: 'An offering in the market, with where it is sold.' })

export const marketMatchViewSchema = z
  .object({
    agent: z.object({
      id: z.string().nullable().describe('Its runtime id when it is hosted here; null otherwise.'),
      hosted: z.boolean().describe('Whether this runtime hosts it.'),
      name: z.string(),
      chainAgentId: z.string(),
      owner: z.string(),
    }),
    offering: marketOfferingViewSchema,
    reputation: z.union([reputationViewSchema, z.null()]),
  })
  .meta({
    id: 'MarketMatch',
    description:
      "An offering for hire, by an agent of any runtime on the chain, with its provider and the provider's record.",
  })

export type MarketOfferingView = z.infer<typeof marketOfferingViewSchema>
export type MarketMatchView = z.infer<typeof marketMatchViewSchema>

/**
 * The view of a market row (price in base units of its token) with its provider's record.
 *
 * @example
 * const view = await toMarketMatchView(client, match, reputation)
 */
export async function toMarketMatchView(
  client: Pick<RuntimeClient, 'tokens'>,
  { agent, offering }: MarketOfferingMatch,
  reputation: ReputationView | null,
): Promise<MarketMatchView> {
  return {
    agent: {
      id: agent.agentId,
      hosted: agent.agentId !== null,
      name: agent.name,
      chainAgentId: agent.chainAgentId,
      owner: agent.owner,
    },
    offering: {
      name: offering.name,
      description: offering.description,
      price: await client.tokens.moneyOf(offering.price, offering.token),
      capabilities: offering.capabilities,
      inputSchema: offering.inputSchema,
      outputSchema: offering.outputSchema,
      endpoints: { x402: offering.endpoints.x402 ?? null, escrow: offering.endpoints.escrow ?? null },
    },
    reputation,
  }
}
