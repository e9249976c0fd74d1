import { type Agent, getIntentByKey, getJob, type Job, recordUsage, updateJob } from '@agora/db'
import { keccak256, toHex } from 'viem'
import type { z } from 'zod'
import { canonicalJson } from '../../canonical-json.ts'
import type { RuntimeClient } from '../../client.ts'
import type { Offering } from '../../define-agent.ts'
import { createChatModel } from '../../inference/chat-model.ts'
import type { ModelConfigInput } from '../../inference/model-config.ts'
import { generateStructured } from '../../inference/structured.ts'
import { untrusted, untrustedDataRule } from '../../inference/untrusted.ts'
import { offeringForJob } from '../agents/former-offerings.ts'
import { checkClient } from './check-client.ts'
import { sendJobStep } from './send-job-step.ts'
import { serveWebhook } from './serve-webhook.ts'

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
  if (provider.status !== 'active') return // a paused provider serves nothing; the client is refunded at the deadline
  const definition = client.definitions.get(provider.name)
  if (!definition) return // served by another process that has the handlers
  const declineWith = (reason: string) => declineJob(client, provider, job, reason)
  if (job.input === null || job.input === undefined)
    return declineWith('The job specification is unavailable.')
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
    deliverable = await produce(client, provider, definition.model, offering, input.data, job)
  } catch (error) {
    const server = offering.webhook ? "The owner's service" : offering.prompt ? 'The model' : 'The handler'
    return declineWith(`${server} failed: ${error instanceof Error ? error.message : String(error)}`)
  }
  const deliverableHash = keccak256(toHex(canonicalJson(deliverable ?? null)))
  await updateJob(client.db, jobId, { deliverable: deliverable ?? null, deliverableHash })
  await sendJobStep(client, provider, 'submitJob', jobId, [BigInt(jobId), deliverableHash])
}

/** The deliverable: from the offering's code, the owner's service (a webhook), or the agent's model (a prompt). */
function produce(
  client: RuntimeClient,
  provider: Agent,
  model: Record<string, unknown> | undefined,
  offering: Offering,
  input: unknown,
  job: Job,
): Promise<unknown> {
  if (offering.handler) {
    return Promise.resolve(
      offering.handler(input, {
        jobId: job.jobId,
        client: job.clientAddress,
        agentId: provider.id,
        log: (message, data) =>
          client.activity.record(provider.id, 'job', { jobId: job.jobId, message, ...data }),
      }),
    )
  }
  if (offering.webhook)
    return serveWebhook(client, {
      provider,
      offering: { ...offering, webhook: offering.webhook },
      input,
      job,
    })
  return serveWithModel(client, provider, model!, offering.prompt!, offering.output!, input, job.jobId)
}

/**
 * A prompt-served offering: the template filled from the client's input (each value marked as
 * untrusted data), the agent's instructions as the system prompt, the answer held to the output
 * schema.
 */
async function serveWithModel(
  client: RuntimeClient,
  provider: Agent,
  model: Record<string, unknown>,
  prompt: string,
  output: z.ZodType,
  input: unknown,
  jobId: string,
) {
  const fields = (input ?? {}) as Record<string, unknown>
  const filled = prompt.replace(/\{\{(\w+)\}\}/g, (_, key: string) =>
    untrusted(`client input ${key}`, fields[key] ?? null),
  )
  return generateStructured({
    model: createChatModel(model as ModelConfigInput),
    messages: [
      { role: 'system', content: [provider.instructions, untrustedDataRule].filter(Boolean).join('\n') },
      { role: 'user', content: filled },
    ],
    schema: output,
    usage: {
      record: async (u) => {
        await recordUsage(client.db, { agentId: provider.id, jobId, ...u })
        await client.activity.record(provider.id, 'model', { jobId, model: u.model, usage: u })
      },
    },
  })
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
