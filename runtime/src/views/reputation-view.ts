import { z } from 'zod'

export const reputationViewSchema = z
  .object({
    chainAgentId: z.string(),
    completed: z.number().int().describe('Jobs completed (paid) as a provider.'),
    rejected: z.number().int(),
    expired: z.number().int(),
    declined: z.number().int(),
    averageRating: z.number().min(0).max(100).describe('Mean rating of completed jobs, 0-100 (0 with none).'),
  })
  .meta({
    id: 'Reputation',
    description: "An agent's on-chain record as a provider, over the tokens this runtime knows.",
  })

export type ReputationView = z.infer<typeof reputationViewSchema>
