import { type Agent, getIntentByKey, getJob, type Job, updateJob } from '@agora/db'
import { keccak256, toHex } from 'viem'
import { canonicalJson } from '../../canonical-json.ts'
import type { RuntimeClient } from '../../client.ts'
import { isHosted } from '../../cluster/hosted.ts'
import { offeringForJob } from '../agents/former-offerings.ts'
import { checkClient } from './check-client.ts'
import { produceDeliverable } from './produce-deliverable.ts'
import { sendJobStep } from './send-job-step.ts'

/**
 * Provider side of a funded job: check the client against the provider's policy (`checkClient`),
 * validate the input, run the offering's handler (or its model, or the owner's service), store the
 * deliverable and submit its hash; decline (a full refund to the client) when the client is
 * refused, the input is invalid or the work fails. Does nothing for jobs of agents served by
 * another process, nor for a job being served or served already. Jobs are locked one by one, so a
 * slow service holds up only its own job.
 *
 * @example
 * await serveJob(client, jobId)
 */
export async function serveJob(client: RuntimeClient, jobId: string): Promise<void> {
  // Already being served (a slow webhook, a model): a resumed attempt waits for nothing.
  const serving = servingOf(client)
  if (serving.has(jobId)) return
  serving.add(jobId)
  try {
    await client.jobs.work.run(jobId, () => serveFunded(client, jobId))
  } finally {
    serving.delete(jobId)
  }
}

/** Jobs being served, per client (each job is served by one call at a time). */
const servingJobs = new WeakMap<RuntimeClient['jobs'], Set<string>>()
function servingOf(client: RuntimeClient): Set<string> {
  let serving = servingJobs.get(client.jobs)
  if (!serving) {
    serving = new Set()
    servingJobs.set(client.jobs, serving)
  }
  return serving
}

async function serveFunded(client: RuntimeClient, jobId: string): Promise<void> {
  const job = await getJob(client.db, jobId)
  if (job?.status !== 'funded' || !job.providerAgentId) return
  // Served already: its submission or decline is recorded, and the outbox sends it.
  const steps = await Promise.all(
    ['submitJob', 'declineJob'].map((step) => getIntentByKey(client.db, `${step}:${jobId}`)),
  )
  if (steps.some((intent) => intent !== undefined)) return
  const provider = await client.agents.get(job.providerAgentId)
  if (!isHosted(client, provider)) return // its shard's process serves it
  if (provider.status !== 'active') return // a paused provider serves nothing; the client is refunded at the deadline
  const definition = client.definitions.get(provider.name)
  if (!definition) return // served by another process that has the handlers
  const declineWith = (reason: string) => declineJob(client, provider, job, reason)
  if (job.input === null || job.input === undefined) {
    // A client elsewhere hands its input over by API (`handOverInput`), perhaps after funding: it has a while.
    if (!job.clientAgentId && Date.now() - job.createdAt.getTime() < client.jobInputGraceMs) return
    return declineWith('The job specification is unavailable: no input was handed over for it.')
  }
  // The offering as it was when the job was hired: a later PATCH does not change a funded job's terms.
  const offering = offeringForJob(definition, job)
  if (!offering) return declineWith(`There is no offering "${job.offering}".`)
  const refused = await checkClient(client, job, definition.providerPolicy)
  if (refused) return declineWith(refused)
  const input = offering.input.safeParse(job.input)
  if (!input.success)
    return declineWith(
      `Invalid input: ${input.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ')}`,
    )
  await client.activity.record(provider.id, 'job', { jobId, event: 'working', offering: job.offering })
  let deliverable: unknown
  try {
    deliverable = await produceDeliverable(client, provider, definition.model, offering, input.data, job)
  } catch (error) {
    const server = offering.webhook ? "The owner's service" : offering.prompt ? 'The model' : 'The handler'
    return declineWith(`${server} failed: ${error instanceof Error ? error.message : String(error)}`)
  }
  const deliverableHash = keccak256(toHex(canonicalJson(deliverable ?? null)))
  await updateJob(client.db, jobId, { deliverable: deliverable ?? null, deliverableHash })
  await sendJobStep(client, provider, 'submitJob', jobId, [BigInt(jobId), deliverableHash])
}

/** Declines a funded job on chain (the client is refunded in full), saying why. */
export async function declineJob(client: RuntimeClient, provider: Agent, job: Job, reason: string) {
  await client.activity.record(provider.id, 'job', { jobId: job.jobId, event: 'declining', reason })
  await sendJobStep(
    client,
    provider,
    'declineJob',
    job.jobId,
    [BigInt(job.jobId), keccak256(toHex(reason))],
    {
      reason,
    },
  )
}
