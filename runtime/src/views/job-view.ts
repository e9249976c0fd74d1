import { type Job, jobRecordStatuses } from '@agora/db'
import { z } from 'zod'
import type { RuntimeClient } from '../client.ts'
import { moneySchema } from './money.ts'
import { ownerOf, type Viewer, viewerIsAny } from './viewer.ts'

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
    input: z
      .unknown()
      .describe(
        "What the client sent; its hash is the on-chain spec hash. Null for anyone but the client's owner, the provider's owner and the evaluator.",
      ),
    specHash: z.string(),
    deliverable: z
      .unknown()
      .describe(
        "What the provider delivered; its hash is on chain. Null for anyone but the client's owner, the provider's owner and the evaluator.",
      ),
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
 * Whether `viewer` may read the job's private part (input and deliverable): the client (its Safe,
 * or its owner when the client is hosted here), the provider's owner and the evaluator may.
 *
 * @example
 * const full = await jobVisibleTo(client, job, session.address)
 */
export async function jobVisibleTo(
  client: Partial<Pick<RuntimeClient, 'agents'>>,
  job: Job,
  viewer: Viewer,
): Promise<boolean> {
  if (viewerIsAny(viewer, [job.clientAddress, job.evaluator])) return true
  if (!viewer || !client.agents) return false
  const { agents } = client
  const owners = await Promise.all([
    ownerOf({ agents }, { id: job.clientAgentId }),
    ownerOf({ agents }, { id: job.providerAgentId }),
  ])
  return viewerIsAny(viewer, owners)
}

/**
 * A job: both parties, the money, the state, what was delivered and the transactions that moved it.
 * With `viewer`, the input and the deliverable are null unless the viewer is one of the parties
 * (`jobVisibleTo`); without it (the operator's own code) they are there.
 *
 * @example
 * const view = await toJobView(client, job, { viewer: session.address })
 */
export async function toJobView(
  // `agents` is needed only to find owners for a viewer.
  client: Pick<RuntimeClient, 'tokens'> & Partial<Pick<RuntimeClient, 'agents'>>,
  job: Job,
  parameters: { viewer?: Viewer } = {},
): Promise<JobView> {
  const visible = await jobVisibleTo(client, job, parameters.viewer)
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
    input: visible ? (job.input ?? null) : null,
    specHash: job.specHash,
    deliverable: visible ? (job.deliverable ?? null) : null,
    deliverableHash: job.deliverableHash,
    rating: job.rating,
    transactions: { create: job.createTx, submit: job.submitTx, settle: job.settleTx },
    createdAt: job.createdAt.toISOString(),
    updatedAt: job.updatedAt.toISOString(),
  }
}
