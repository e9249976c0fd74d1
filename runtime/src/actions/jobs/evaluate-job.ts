import { type Agent, getJob, type Job, recordUsage } from '@agora/db'
import { keccak256, toHex } from 'viem'
import { z } from 'zod'
import { canonicalJson } from '../../canonical-json.ts'
import type { RuntimeClient } from '../../client.ts'
import { isHosted } from '../../cluster/hosted.ts'
import type { Verdict } from '../../define-agent.ts'
import { createChatModel } from '../../inference/chat-model.ts'
import type { ModelConfigInput } from '../../inference/model-config.ts'
import { generateStructured } from '../../inference/structured.ts'
import { untrusted, untrustedDataRule } from '../../inference/untrusted.ts'
import { compileJsonSchema, type JsonSchemaIssue } from '../../json-schema.ts'
import { fetchRemoteDeliverable } from '../../market/remote-escrow.ts'
import { offeringForJob } from '../agents/former-offerings.ts'
import { getMarketOffering } from '../market/get-market-offering.ts'
import { sendJobStep } from './send-job-step.ts'

const verdictSchema = z.object({
  accept: z.boolean(),
  rating: z.number().int().min(0).max(100),
  reason: z.string().max(2_000),
})

/**
 * Client side of a submitted job: check the deliverable against its on-chain hash and the
 * offering's output schema, judge it (the client's evaluator, its model, or accept at 100), then
 * complete with a rating (the provider is paid) or reject (the client is refunded). An evaluator
 * that fails leaves the job submitted, to be judged again later (refunded after the grace period).
 *
 * @example
 * await evaluateJob(client, jobId)
 */
export function evaluateJob(client: RuntimeClient, jobId: string): Promise<void> {
  return client.jobs.work.run(jobId, async () => {
    let job = await getJob(client.db, jobId)
    if (job?.status !== 'submitted' || !job.clientAgentId) return
    const hirer = await client.agents.get(job.clientAgentId)
    if (!isHosted(client, hirer)) return // its shard's process evaluates it
    let verdict: Verdict
    try {
      // A provider another runtime hosts: its deliverable is read from there (a failure is tried again).
      if (!job.providerAgentId && (job.deliverable === null || job.deliverable === undefined))
        job = await fetchRemoteDeliverable(client, hirer, job)
      verdict = (await checkDeliverable(client, job)) ?? (await judge(client, hirer, job))
    } catch (error) {
      await client.activity.record(hirer.id, 'job', {
        jobId,
        event: 'evaluator failed',
        error: String(error),
      })
      return
    }
    await client.activity.record(hirer.id, 'job', { jobId, event: 'evaluated', verdict })
    if (verdict.accept) {
      const rating = Math.max(0, Math.min(100, Math.round(verdict.rating)))
      await sendJobStep(client, hirer, 'completeJob', jobId, [
        BigInt(jobId),
        rating,
        keccak256(toHex(verdict.feedback ?? '')),
      ])
    } else {
      await sendJobStep(
        client,
        hirer,
        'rejectJob',
        jobId,
        [BigInt(jobId), keccak256(toHex(verdict.reason))],
        {
          reason: verdict.reason,
        },
      )
    }
  })
}

/** A rejection when the deliverable is missing, does not match its hash, or breaks the output schema. */
async function checkDeliverable(client: RuntimeClient, job: Job): Promise<Verdict | undefined> {
  if (job.deliverable === null || job.deliverable === undefined)
    return { accept: false, reason: 'No deliverable content was provided.' }
  if (keccak256(toHex(canonicalJson(job.deliverable))) !== job.deliverableHash)
    return { accept: false, reason: 'The deliverable does not match the hash submitted on-chain.' }
  const issues = (await outputIssues(client, job))
    .slice(0, 10)
    .map((i) => `${i.path.join('.') || '(deliverable)'}: ${i.message}`)
  if (issues.length > 0) {
    return {
      accept: false,
      reason: `The deliverable does not match the offering output schema: ${issues.join('; ')}`.slice(
        0,
        1_000,
      ),
    }
  }
  return undefined
}

/** How the deliverable breaks the offering's output schema: the hosted provider's, or the one its market listing publishes. */
async function outputIssues(client: RuntimeClient, job: Job): Promise<JsonSchemaIssue[]> {
  const provider = job.providerAgentId ? await client.agents.get(job.providerAgentId) : undefined
  const hosted = provider && client.definitions.get(provider.name)
  if (hosted) {
    const parsed = offeringForJob(hosted, job)?.output?.safeParse(job.deliverable)
    return parsed && !parsed.success
      ? parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message }))
      : []
  }
  // A provider served elsewhere (another runtime, or another process of this one): its listing's schema.
  const listed = await getMarketOffering(client, job.providerChainAgentId, job.offering).catch(
    () => undefined,
  )
  if (!listed?.offering.outputSchema) return []
  try {
    return compileJsonSchema(listed.offering.outputSchema).validate(job.deliverable)
  } catch {
    return [] // a schema this runtime cannot compile: the evaluator judges
  }
}

/** The client's evaluator, else its model, else acceptance at 100. */
async function judge(client: RuntimeClient, hirer: Agent, job: Job): Promise<Verdict> {
  const definition = client.definitions.get(hirer.name)
  const submission = {
    jobId: job.jobId,
    offering: job.offering,
    input: job.input,
    deliverable: job.deliverable,
  }
  if (definition?.evaluate) return definition.evaluate(submission)
  if (definition?.model) return judgeWithModel(client, hirer, definition.model, submission)
  return { accept: true, rating: 100 }
}

/** A client with a model and no evaluator of its own has its model judge the delivery. */
async function judgeWithModel(
  client: RuntimeClient,
  hirer: Agent,
  model: Record<string, unknown>,
  submission: { jobId: string; offering: string; input: unknown; deliverable: unknown },
): Promise<Verdict> {
  const verdict = await generateStructured({
    model: createChatModel(model as ModelConfigInput),
    name: 'verdict',
    messages: [
      { role: 'system', content: [hirer.instructions, untrustedDataRule].filter(Boolean).join('\n') },
      {
        role: 'user',
        content: [
          `You hired an agent for "${submission.offering}" with this input:`,
          untrusted('your input', submission.input),
          'It delivered:',
          untrusted('the provider', submission.deliverable),
          'Judge it on its merits only. Accept it with a rating from 0 to 100, or reject it with a reason.',
        ].join('\n'),
      },
    ],
    schema: verdictSchema,
    usage: {
      record: async (u) => {
        await recordUsage(client.db, { agentId: hirer.id, jobId: submission.jobId, ...u })
        await client.activity.record(hirer.id, 'model', { jobId: submission.jobId, model: u.model, usage: u })
      },
    },
  })
  return verdict.accept
    ? { accept: true, rating: verdict.rating, feedback: verdict.reason }
    : { accept: false, reason: verdict.reason || 'rejected by the client model' }
}
