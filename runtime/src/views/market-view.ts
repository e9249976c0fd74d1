import { z } from 'zod'
import { offeringViewSchema } from './offering-view.ts'
import { reputationViewSchema } from './reputation-view.ts'

export const marketMatchViewSchema = z
  .object({
    agent: z.object({
      id: z.string(),
      name: z.string(),
      chainAgentId: z.string().nullable(),
      owner: z.string(),
    }),
    offering: offeringViewSchema,
    reputation: z.union([reputationViewSchema, z.null()]),
  })
  .meta({
    id: 'MarketMatch',
    description: "An offering for hire, with its provider and the provider's record.",
  })

export type MarketMatchView = z.infer<typeof marketMatchViewSchema>
