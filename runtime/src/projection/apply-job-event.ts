import { advanceJob, getJob, getJobInput, type Job, upsertJob } from '@agora/db'
import { type Address, type Hex, zeroAddress } from 'viem'
import { evaluateJob } from '../actions/jobs/evaluate-job.ts'
import { serveJob } from '../actions/jobs/serve-job.ts'
import type { RuntimeClient } from '../client.ts'
import { isHosted } from '../cluster/hosted.ts'
import { announceJob } from '../cluster/job-notices.ts'
import { handInputToRemote } from '../market/remote-escrow.ts'
import { jobMoved } from './job-watch.ts'

/** A decoded economy event (from the indexer or from one of our own receipts). */
export type JobEvent = { eventName: string; args: unknown; transactionHash: Hex | null }

const finalStatusOf = { JobRejected: 'rejected', JobDeclined: 'declined', JobExpired: 'expired' } as const

/**
 * Applies a job's state from the economy's events; idempotent (a reorg or a receipt and the indexer
 * may bring the same event twice), and a job's status only moves forward. A funded job of a
 * provider hosted here is served; a submitted job of a client hosted here is evaluated. When a side
 * is served by another process sharing the database, that process is told (`announceJob`).
 *
 * @example
 * for (const event of parseEventLogs({ abi: agentEconomyAbi, logs })) await applyJobEvent(client, event)
 */
export function applyJobEvent(client: RuntimeClient, event: JobEvent): Promise<void> {
  const args = event.args as Record<string, unknown>
  if (!args || typeof args !== 'object' || !('jobId' in args)) return Promise.resolve()
  const jobId = String(args.jobId)
  return client.jobs.apply.run(jobId, () => apply(client, jobId, { ...event, args }))
}

type DecodedJobEvent = Omit<JobEvent, 'args'> & { args: Record<string, unknown> }

async function apply(client: RuntimeClient, jobId: string, event: DecodedJobEvent) {
  const tx = event.transactionHash
  switch (event.eventName) {
    case 'JobCreated':
      return created(client, jobId, event)
    case 'JobSubmitted': {
      const patch = {
        status: 'submitted' as const,
        deliverableHash: event.args.deliverableHash as string,
        submitTx: tx,
      }
      const job = await advanceJob(client.db, jobId, patch)
      if (job) await submitted(client, job)
      return
    }
    case 'JobCompleted': {
      const job = await advanceJob(client.db, jobId, {
        status: 'completed',
        rating: Number(event.args.rating),
        fee: String(event.args.fee),
        payout: String(event.args.payout),
        settleTx: tx,
      })
      if (job)
        await final(client, job, {
          rating: job.rating,
          payout: await client.tokens.moneyOf(job.payout!, job.token),
        })
      return
    }
    case 'JobRejected':
    case 'JobDeclined':
    case 'JobExpired': {
      const status = finalStatusOf[event.eventName]
      const job = await advanceJob(client.db, jobId, { status, settleTx: tx })
      if (job) await final(client, job, {})
      return
    }
  }
}

/** A job funded on chain: ours if either side is hosted here (also when created by someone else). */
async function created(client: RuntimeClient, jobId: string, event: DecodedJobEvent) {
  const known = await getJob(client.db, jobId)
  if (known && known.status !== 'pending') return
  const provider = await client.agents.byChainId(String(event.args.providerId))
  const hirer = await client.agents.bySafe(event.args.client as Address)
  if (!known && !provider && !hirer) return // neither side is ours
  // A client elsewhere (any wallet) may have handed its input over before funding (`handOverInput`).
  const handed = known ? undefined : await handedInput(client, jobId, event)
  const job = await upsertJob(client.db, {
    jobId,
    clientAddress: event.args.client as string,
    clientAgentId: hirer?.id ?? null,
    providerChainAgentId: String(event.args.providerId),
    providerAgentId: provider?.id ?? null,
    offering: known?.offering ?? handed?.offering ?? 'unknown',
    ...(handed ? { input: handed.input } : {}),
    specHash: event.args.specHash as string,
    token: event.args.token as string,
    budget: String(event.args.budget),
    deadline: new Date(Number(event.args.deadline) * 1_000),
    evaluator: event.args.evaluator === zeroAddress ? null : (event.args.evaluator as string),
    status: 'funded',
    createTx: event.transactionHash,
  })
  await Promise.all([
    job.clientAgentId &&
      client.activity.record(job.clientAgentId, 'job', { jobId, event: 'funded', txHash: job.createTx }),
    job.providerAgentId &&
      client.activity.record(job.providerAgentId, 'job', { jobId, event: 'hired', offering: job.offering }),
  ])
  jobMoved(client, job)
  await announceJob(client, job)
  if (provider) {
    if (isHosted(client, provider))
      void serveJob(client, jobId).catch((e: unknown) => client.log(`jobs: serving ${jobId}: ${String(e)}`))
  } else if (hirer && isHosted(client, hirer))
    void handInputToRemote(client, hirer, job).catch((e: unknown) =>
      client.log(`jobs: handing job ${jobId}'s input over: ${String(e)}`),
    )
}

/** The input handed over for this job, if it matches what was funded (the same client and spec hash). */
async function handedInput(client: RuntimeClient, jobId: string, event: DecodedJobEvent) {
  const handed = await getJobInput(client.db, jobId)
  if (!handed) return undefined
  const same =
    handed.specHash.toLowerCase() === String(event.args.specHash).toLowerCase() &&
    handed.clientAddress === String(event.args.client).toLowerCase()
  return same ? handed : undefined
}

async function submitted(client: RuntimeClient, job: Job) {
  await Promise.all(
    [job.clientAgentId, job.providerAgentId].map(
      (id) =>
        id &&
        client.activity.record(id, 'job', { jobId: job.jobId, event: 'submitted', txHash: job.submitTx }),
    ),
  )
  jobMoved(client, job)
  await announceJob(client, job)
  if (job.clientAgentId && isHosted(client, await client.agents.get(job.clientAgentId)))
    void evaluateJob(client, job.jobId).catch((e: unknown) =>
      client.log(`jobs: evaluating ${job.jobId}: ${String(e)}`),
    )
}

async function final(client: RuntimeClient, job: Job, data: Record<string, unknown>) {
  await Promise.all(
    [job.clientAgentId, job.providerAgentId].map(
      (id) =>
        id &&
        client.activity.record(id, 'job', {
          jobId: job.jobId,
          event: job.status,
          txHash: job.settleTx,
          ...data,
        }),
    ),
  )
  jobMoved(client, job)
  await announceJob(client, job)
}
