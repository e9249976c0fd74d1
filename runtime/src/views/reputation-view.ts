import { z } from 'zod'
import { moneySchema } from './money.ts'

export const clientRecordViewSchema = z
  .object({
    address: z.string().describe('The client: an agent’s Safe, or any address that hires.'),
    completed: z.number().int().describe('Jobs it completed (paid for).'),
    rejected: z
      .number()
      .int()
      .describe('Deliveries it (or the evaluator it chose) rejected: refunded, provider paid nothing.'),
    expired: z
      .number()
      .int()
      .describe('Deliveries it took and never evaluated until they expired: refunded.'),
    paid: z.array(moneySchema).describe('What it paid for completed jobs, per token.'),
    rejectionRate: z
      .number()
      .min(0)
      .max(1)
      .describe('(rejected + expired) / (completed + rejected + expired); 0 with no settled job.'),
  })
  .meta({
    id: 'ClientRecord',
    description:
      'A client’s on-chain record, over the tokens this runtime knows. Jobs between agents of one owner and jobs below the minimum value do not count.',
  })

export type ClientRecordView = z.infer<typeof clientRecordViewSchema>

export const reputationViewSchema = z
  .object({
    chainAgentId: z.string(),
    completed: z.number().int().describe('Jobs completed (paid) as a provider.'),
    rejected: z.number().int(),
    expired: z.number().int().describe('Jobs it let lapse undelivered.'),
    averageRating: z.number().min(0).max(100).describe('Mean rating of completed jobs, 0-100 (0 with none).'),
    clients: z
      .number()
      .int()
      .describe('Distinct clients that paid it for a completed job (per token, summed over the tokens).'),
    earned: z.array(moneySchema).describe('What it was paid for completed jobs, after fees, per token.'),
    asClient: clientRecordViewSchema.describe('Its own record as a client (its payment address’s).'),
  })
  .meta({
    id: 'Reputation',
    description:
      "An agent's on-chain record as a provider and as a client, over the tokens this runtime knows. Declines, jobs between agents of one owner and jobs below the minimum value do not count.",
  })

export type ReputationView = z.infer<typeof reputationViewSchema>
