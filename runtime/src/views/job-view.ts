import { type Job, jobRecordStatuses } from '@agora/db'
import { z } from 'zod'
import type { RuntimeClient } from '../client.ts'
import { moneySchema } from './money.ts'

export const jobViewSchema = z
  .object({
    jobId: z.string().describe('The on-chain job id.'),
    status: z.enum(jobRecordStatuses),
    offering: z.string(),
    client: z.object({ agentId: z.string().nullable(), address: z.string() }),
    provider: z.object({ agentId: z.string().nullable(), chainAgentId: z.string() }),
    evaluator: z.string().nullable(),
    budget: moneySchema.describe('Held in escrow until the job settles.'),
    fee: z.union([moneySchema, z.null()]),
    payout: z.union([moneySchema, z.null()]),
    deadline: z.iso.datetime(),
    input: z.unknown().describe('What the client sent; its hash is the on-chain spec hash.'),
    specHash: z.string(),
    deliverable: z.unknown().describe('What the provider delivered; its hash is on chain.'),
    deliverableHash: z.string().nullable(),
    rating: z.number().int().nullable(),
    transactions: z.object({
      create: z.string().nullable(),
      submit: z.string().nullable(),
      settle: z.string().nullable(),
    }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Job', description: 'An escrowed job: its parties, money, state and transactions.' })

export type JobView = z.infer<typeof jobViewSchema>

/**
 * A job: both parties, the money, the state, what was delivered and the transactions that moved it.
 *
 * @example
 * const view = await toJobView(client, job)
 */
export async function toJobView(client: Pick<RuntimeClient, 'tokens'>, job: Job): Promise<JobView> {
  const money = (value: string | null) => (value === null ? null : client.tokens.moneyOf(value, job.token))
  return {
    jobId: job.jobId,
    status: job.status,
    offering: job.offering,
    client: { agentId: job.clientAgentId, address: job.clientAddress },
    provider: { agentId: job.providerAgentId, chainAgentId: job.providerChainAgentId },
    evaluator: job.evaluator,
    budget: await client.tokens.moneyOf(job.budget, job.token),
    fee: await money(job.fee),
    payout: await money(job.payout),
    deadline: job.deadline.toISOString(),
    input: job.input ?? null,
    specHash: job.specHash,
    deliverable: job.deliverable ?? null,
    deliverableHash: job.deliverableHash,
    rating: job.rating,
    transactions: { create: job.createTx, submit: job.submitTx, settle: job.settleTx },
    createdAt: job.createdAt.toISOString(),
    updatedAt: job.updatedAt.toISOString(),
  }
}
