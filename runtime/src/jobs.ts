import { agentEconomyAbi, jobIdOf } from '@agora/contracts'
import {
  type Agent,
  advanceJob,
  getJob,
  type Job,
  listJobs,
  listOfferings,
  recordUsage,
  tables,
  transaction,
  updateJob,
  upsertJob,
} from '@agora/db'
import { eq } from 'drizzle-orm'
import {
  type Address,
  type ContractFunctionArgs,
  encodeFunctionData,
  type Hex,
  keccak256,
  parseEventLogs,
  toHex,
  zeroAddress,
} from 'viem'
import { z } from 'zod'
import { canonicalJson, type RuntimeContext } from './context.ts'
import type { Verdict } from './define-agent.ts'
import { BaseError } from './errors.ts'
import { createChatModel } from './inference/chat-model.ts'
import type { ModelConfigInput } from './inference/model-config.ts'
import { generateStructured } from './inference/structured.ts'
import { createKeyedMutex } from './mutex.ts'
import { ensureAllowance, requireActive } from './pay.ts'
import type { PolicyGuard } from './policy.ts'
import { safeCallKind } from './safe-call-kind.ts'
import type { IntentKind } from './transactions.ts'

export type HireParameters = {
  /** The provider: an on-chain agent id. */
  provider: string | bigint
  /** The provider's offering name. */
  offering: string
  /** The offering's input; the provider validates it against its schema. */
  input: unknown
  /** Refuse to hire if the offering costs more than this, in its token's units. */
  maxPrice?: string
  /** Seconds the provider has to deliver (default 3600). */
  deadlineSeconds?: number
  /** Who may judge the delivery besides the client (an address), if anyone. */
  evaluator?: Address
  /** Retrying with the same key never hires twice. */
  idempotencyKey?: string
}

const verdictSchema = z.object({
  accept: z.boolean(),
  rating: z.number().int().min(0).max(100),
  reason: z.string().max(2_000),
})

const finalStatuses = new Set(['completed', 'rejected', 'declined', 'expired', 'failed'])

/**
 * The job engine: clients hire (create and fund in one call), providers serve (validate, run the
 * handler, store the deliverable, submit its hash), clients evaluate (schema, evaluator) and complete
 * with a rating or reject; expired jobs are refunded. Every step is an idempotent intent keyed by the
 * job id, so the in-process path and the indexer can both trigger it safely.
 */
export function createJobEngine(ctx: RuntimeContext, guard: PolicyGuard) {
  const jobLocks = createKeyedMutex()
  const applyLocks = createKeyedMutex()
  const waiters = new Map<string, Set<(job: Job) => void>>()
  const settled = (job: Job) => {
    ctx.events.emit('job', job.jobId)
    if (!finalStatuses.has(job.status)) return
    // A job that ends without paying its provider gives its budget back to the client.
    if (job.status !== 'completed' && job.clientAgentId) guard.release(job.clientAgentId, job.jobId)
    for (const resolve of waiters.get(job.jobId) ?? []) resolve(job)
    waiters.delete(job.jobId)
    jobLocks.forget(job.jobId)
    applyLocks.forget(job.jobId)
  }

  async function hire(clientId: string, parameters: HireParameters) {
    const client = await ctx.requireAgent(clientId)
    requireActive(client)
    const providerId = String(parameters.provider)
    if (!/^\d+$/.test(providerId))
      throw new BaseError(`"${providerId}" is not an agent id.`, { code: 'INVALID_ARGUMENT' })
    if (providerId === client.chainAgentId)
      throw new BaseError('An agent cannot hire itself.', { code: 'INVALID_ARGUMENT' })
    const provider = await ctx.localAgent(providerId)
    if (!provider) {
      throw new BaseError(`Agent ${providerId} is not in this runtime's market; its offerings are unknown.`, {
        code: 'NOT_FOUND',
      })
    }
    const offering = (await listOfferings(ctx.db, provider.id, { activeOnly: true })).find(
      (o) => o.name === parameters.offering,
    )
    if (!offering) {
      throw new BaseError(`Agent ${providerId} has no active offering "${parameters.offering}".`, {
        code: 'NOT_FOUND',
      })
    }
    const token = await ctx.tokens.resolve(offering.token)
    const price = BigInt(offering.price)
    if (parameters.maxPrice !== undefined && price > ctx.tokens.parse(parameters.maxPrice, token)) {
      throw new BaseError(
        `"${offering.name}" costs ${ctx.tokens.format(price, token)} ${token.symbol}, over the maximum of ${parameters.maxPrice}.`,
        { code: 'POLICY_REFUSED' },
      )
    }
    const schema = ctx.definitions.get(provider.name)?.offerings.find((o) => o.name === offering.name)?.input
    if (schema) {
      const parsed = schema.safeParse(parameters.input)
      if (!parsed.success) {
        throw new BaseError(
          `The input does not fit "${offering.name}": ${parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ')}`,
          { code: 'INVALID_ARGUMENT' },
        )
      }
    }
    const key = parameters.idempotencyKey ?? crypto.randomUUID()
    const specHash = keccak256(
      toHex(
        canonicalJson({ offering: offering.name, input: parameters.input, provider: providerId, nonce: key }),
      ),
    )
    const safe = client.safeAddress as Address
    const jobId = jobIdOf(safe, BigInt(providerId), specHash).toString()
    const now = Number((await ctx.publicClient.getBlock()).timestamp)
    const deadline = now + (parameters.deadlineSeconds ?? 3_600)
    await ensureAllowance(ctx, client, token, price)
    const job = await guard.spend(
      client,
      { amount: price, token, counterparty: providerId, action: 'hire', key: jobId },
      () =>
        transaction(ctx.db, async (tx) => {
          const existing = await getJob(tx, jobId)
          if (existing) return existing
          const row = await upsertJob(tx, {
            jobId,
            clientAddress: safe,
            clientAgentId: client.id,
            providerChainAgentId: providerId,
            providerAgentId: provider.id,
            offering: offering.name,
            input: parameters.input,
            specHash,
            token: token.address,
            budget: price.toString(),
            deadline: new Date(deadline * 1_000),
            evaluator: parameters.evaluator ?? null,
            status: 'pending',
          })
          await ctx.tx.record(tx, {
            idempotencyKey: `createJob:${jobId}`,
            kind: 'createJob',
            agentId: client.id,
            payload: {
              safe,
              to: ctx.contracts.economy,
              data: encodeFunctionData({
                abi: agentEconomyAbi,
                functionName: 'createJob',
                args: [
                  BigInt(providerId),
                  parameters.evaluator ?? zeroAddress,
                  token.address,
                  price,
                  BigInt(deadline),
                  specHash,
                ],
              }),
              value: token.address === zeroAddress ? price.toString() : '0',
              jobId,
            },
          })
          return row
        }),
    )
    await ctx.record(client.id, 'job', {
      jobId,
      event: 'hiring',
      provider: providerId,
      offering: offering.name,
      budget: ctx.tokens.format(price, token),
      token: token.symbol,
    })
    await ctx.tx.execute({
      idempotencyKey: `createJob:${jobId}`,
      kind: 'createJob',
      agentId: client.id,
      payload: {},
    })
    return handle(job.jobId)
  }

  function handle(jobId: string) {
    return {
      jobId,
      get: () => getJob(ctx.db, jobId),
      /** Resolves once the job is final (completed, rejected, declined, expired or failed). */
      async done(timeoutMs = 120_000): Promise<Job> {
        const current = await getJob(ctx.db, jobId)
        if (current && finalStatuses.has(current.status)) return current
        return new Promise<Job>((resolve, reject) => {
          const timer = setTimeout(
            () =>
              reject(
                new BaseError(`Job ${jobId} did not finish within ${timeoutMs} ms.`, { code: 'CONFLICT' }),
              ),
            timeoutMs,
          )
          const set = waiters.get(jobId) ?? new Set()
          waiters.set(jobId, set)
          set.add((job) => {
            clearTimeout(timer)
            resolve(job)
          })
        })
      },
    }
  }

  /** Provider side: validate the input, run the handler, store the deliverable, submit its hash. */
  function serve(jobId: string) {
    return jobLocks.run(jobId, async () => {
      const job = await getJob(ctx.db, jobId)
      if (job?.status !== 'funded' || !job.providerAgentId) return
      const provider = await ctx.requireAgent(job.providerAgentId)
      if (provider.status !== 'active') return
      const definition = ctx.definitions.get(provider.name)
      if (!definition) return // served by another process that has the handlers
      const declineWith = (reason: string) => declineJob(provider, job, reason)
      if (job.input === null || job.input === undefined)
        return declineWith('The job specification is unavailable.')
      const offering = definition.offerings.find((o) => o.name === job.offering)
      if (!offering) return declineWith(`There is no offering "${job.offering}".`)
      const input = offering.input.safeParse(job.input)
      if (!input.success)
        return declineWith(`Invalid input: ${input.error.issues.map((i) => i.message).join('; ')}`)
      await ctx.record(provider.id, 'job', { jobId, event: 'working', offering: job.offering })
      let deliverable: unknown
      try {
        deliverable = offering.handler
          ? await offering.handler(input.data, {
              jobId,
              client: job.clientAddress,
              agentId: provider.id,
              log: (message, data) => ctx.record(provider.id, 'job', { jobId, message, ...data }),
            })
          : await serveWithModel(
              provider,
              definition.model!,
              offering.prompt!,
              offering.output!,
              input.data,
              jobId,
            )
      } catch (error) {
        return declineWith(`The handler failed: ${error instanceof Error ? error.message : String(error)}`)
      }
      const deliverableHash = keccak256(toHex(canonicalJson(deliverable ?? null)))
      await updateJob(ctx.db, jobId, { deliverable: deliverable ?? null, deliverableHash })
      await jobCall(provider, 'submitJob', jobId, [BigInt(jobId), deliverableHash])
    })
  }

  /** A prompt-served offering: the template filled from the input, the answer held to the output schema. */
  async function serveWithModel(
    provider: Agent,
    model: Record<string, unknown>,
    prompt: string,
    output: z.ZodType,
    input: unknown,
    jobId: string,
  ) {
    const fields = (input ?? {}) as Record<string, unknown>
    const filled = prompt.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
      const value = fields[key]
      return typeof value === 'string' ? value : JSON.stringify(value ?? null)
    })
    const answer = await generateStructured({
      model: createChatModel(model as ModelConfigInput),
      prompt: filled,
      schema: output,
      usage: {
        record: async (u) => {
          await recordUsage(ctx.db, { agentId: provider.id, jobId, ...u })
          await ctx.record(provider.id, 'model', { jobId, model: u.model, usage: u })
        },
      },
    })
    return answer
  }

  /** A client with a model and no evaluator of its own has its model judge the delivery. */
  async function judgeWithModel(
    client: Agent,
    model: Record<string, unknown>,
    submission: { jobId: string; offering: string; input: unknown; deliverable: unknown },
  ): Promise<Verdict> {
    const verdict = await generateStructured({
      model: createChatModel(model as ModelConfigInput),
      name: 'verdict',
      prompt: [
        `You hired an agent for "${submission.offering}" with this input:`,
        JSON.stringify(submission.input),
        'It delivered:',
        JSON.stringify(submission.deliverable),
        'Accept it with a rating from 0 to 100, or reject it with a reason.',
      ].join('\n'),
      schema: verdictSchema,
      usage: {
        record: async (u) => {
          await recordUsage(ctx.db, { agentId: client.id, jobId: submission.jobId, ...u })
          await ctx.record(client.id, 'model', { jobId: submission.jobId, model: u.model, usage: u })
        },
      },
    })
    return verdict.accept
      ? { accept: true, rating: verdict.rating, feedback: verdict.reason }
      : { accept: false, reason: verdict.reason || 'rejected by the client model' }
  }

  async function declineJob(provider: Agent, job: Job, reason: string) {
    await ctx.record(provider.id, 'job', { jobId: job.jobId, event: 'declining', reason })
    await jobCall(provider, 'declineJob', job.jobId, [BigInt(job.jobId), keccak256(toHex(reason))], {
      reason,
    })
  }

  /** One step of a job, made by the agent's Safe on the economy: an intent keyed by step and job. */
  function jobCall<F extends 'submitJob' | 'declineJob' | 'completeJob' | 'rejectJob'>(
    agent: Agent,
    functionName: F,
    jobId: string,
    args: ContractFunctionArgs<typeof agentEconomyAbi, 'nonpayable', F>,
    extra: Record<string, unknown> = {},
  ) {
    return ctx.tx.execute({
      idempotencyKey: `${functionName}:${jobId}`,
      kind: functionName,
      agentId: agent.id,
      payload: {
        safe: agent.safeAddress,
        to: ctx.contracts.economy,
        data: encodeFunctionData({ abi: agentEconomyAbi, functionName, args } as never),
        value: '0',
        jobId,
        ...extra,
      },
    })
  }

  /** Client side: check the deliverable against its hash and schema, judge it, then pay or reject. */
  function evaluate(jobId: string) {
    return jobLocks.run(jobId, async () => {
      const job = await getJob(ctx.db, jobId)
      if (job?.status !== 'submitted' || !job.clientAgentId) return
      const client = await ctx.requireAgent(job.clientAgentId)
      const definition = ctx.definitions.get(client.name)
      const provider = job.providerAgentId ? await ctx.requireAgent(job.providerAgentId) : undefined
      const output = provider
        ? ctx.definitions.get(provider.name)?.offerings.find((o) => o.name === job.offering)?.output
        : undefined
      let verdict: Verdict
      if (job.deliverable === null || job.deliverable === undefined) {
        verdict = { accept: false, reason: 'No deliverable content was provided.' }
      } else if (keccak256(toHex(canonicalJson(job.deliverable))) !== job.deliverableHash) {
        verdict = { accept: false, reason: 'The deliverable does not match the hash submitted on-chain.' }
      } else if (output && !output.safeParse(job.deliverable).success) {
        verdict = { accept: false, reason: 'The deliverable does not match the offering output schema.' }
      } else if (definition?.evaluate || definition?.model) {
        try {
          const submission = { jobId, offering: job.offering, input: job.input, deliverable: job.deliverable }
          verdict = definition.evaluate
            ? await definition.evaluate(submission)
            : await judgeWithModel(client, definition.model!, submission)
        } catch (error) {
          await ctx.record(client.id, 'job', { jobId, event: 'evaluator failed', error: String(error) })
          return // left submitted: retried on the next wake-up, refunded after the grace period at worst
        }
      } else {
        verdict = { accept: true, rating: 100 }
      }
      await ctx.record(client.id, 'job', { jobId, event: 'evaluated', verdict })
      if (verdict.accept) {
        const rating = Math.max(0, Math.min(100, Math.round(verdict.rating)))
        await jobCall(client, 'completeJob', jobId, [
          BigInt(jobId),
          rating,
          keccak256(toHex(verdict.feedback ?? '')),
        ])
      } else {
        await jobCall(client, 'rejectJob', jobId, [BigInt(jobId), keccak256(toHex(verdict.reason))], {
          reason: verdict.reason,
        })
      }
    })
  }

  /** Refunds this runtime's clients' jobs whose time is up. Anyone may call the refund: a relayer does. */
  async function refundExpired(now: number) {
    const open = [
      ...(await listJobs(ctx.db, { status: 'funded' })),
      ...(await listJobs(ctx.db, { status: 'submitted' })),
    ]
    const grace = ctx.submissionGraceSeconds
    for (const job of open) {
      if (!job.clientAgentId) continue
      const deadline = Math.floor(job.deadline.getTime() / 1_000)
      const refundableAfter = job.status === 'funded' ? deadline : deadline + grace
      if (now <= refundableAfter) continue
      await ctx.tx
        .execute({
          idempotencyKey: `refundExpired:${job.jobId}`,
          kind: 'refundExpired',
          agentId: job.clientAgentId,
          payload: { jobId: job.jobId },
        })
        .catch((error: unknown) =>
          ctx.log(`jobs: refund of ${job.jobId} failed: ${(error as Error).message}`),
        )
    }
  }

  /** Applies a job's state from the economy's events; idempotent, status only moves forward. */
  function applyEvent(event: { eventName: string; args: Record<string, unknown>; transactionHash: Hex }) {
    if (!('jobId' in event.args)) return Promise.resolve()
    const jobId = String(event.args.jobId)
    return applyLocks.run(jobId, () => applyJobEvent(jobId, event))
  }

  async function applyJobEvent(
    jobId: string,
    event: { eventName: string; args: Record<string, unknown>; transactionHash: Hex },
  ) {
    switch (event.eventName) {
      case 'JobCreated': {
        const known = await getJob(ctx.db, jobId)
        if (known && known.status !== 'pending') return
        const provider = await ctx.localAgent(String(event.args.providerId))
        const client = await clientAgent(event.args.client as Address)
        if (!known && !provider && !client) return // neither side is ours
        const row = await upsertJob(ctx.db, {
          jobId,
          clientAddress: event.args.client as string,
          clientAgentId: client?.id ?? null,
          providerChainAgentId: String(event.args.providerId),
          providerAgentId: provider?.id ?? null,
          offering: known?.offering ?? 'unknown',
          specHash: event.args.specHash as string,
          token: event.args.token as string,
          budget: String(event.args.budget),
          deadline: new Date(Number(event.args.deadline) * 1_000),
          evaluator: event.args.evaluator === zeroAddress ? null : (event.args.evaluator as string),
          status: 'funded',
          createTx: event.transactionHash,
        })
        await onFunded(row)
        return
      }
      case 'JobSubmitted': {
        const job = await updateKnown(jobId, {
          status: 'submitted',
          deliverableHash: event.args.deliverableHash as string,
          submitTx: event.transactionHash,
        })
        if (job) await onSubmitted(job)
        return
      }
      case 'JobCompleted': {
        const job = await updateKnown(jobId, {
          status: 'completed',
          rating: Number(event.args.rating),
          fee: String(event.args.fee),
          payout: String(event.args.payout),
          settleTx: event.transactionHash,
        })
        if (job) await onFinal(job, { rating: job.rating, payout: job.payout })
        return
      }
      case 'JobRejected':
      case 'JobDeclined':
      case 'JobExpired': {
        const status = ({ JobRejected: 'rejected', JobDeclined: 'declined', JobExpired: 'expired' } as const)[
          event.eventName
        ]
        const job = await updateKnown(jobId, { status, settleTx: event.transactionHash })
        if (job) await onFinal(job, {})
        return
      }
    }
  }

  /** The job moved on by an event; undefined when it is not ours or another path moved it first. */
  function updateKnown(jobId: string, patch: Parameters<typeof advanceJob>[2]) {
    return advanceJob(ctx.db, jobId, patch)
  }

  /** The hosted agent whose Safe is `address` (Safes never change hands between agents). */
  const bySafe = new Map<string, string>()
  async function clientAgent(address: Address): Promise<{ id: string } | undefined> {
    const safe = address.toLowerCase()
    const known = bySafe.get(safe)
    if (known) return { id: known }
    const [agent] = await ctx.db
      .select({ id: tables.agents.id })
      .from(tables.agents)
      .where(eq(tables.agents.safeAddress, safe))
    if (agent) bySafe.set(safe, agent.id)
    return agent
  }

  async function onFunded(job: Job) {
    await Promise.all([
      job.clientAgentId &&
        ctx.record(job.clientAgentId, 'job', { jobId: job.jobId, event: 'funded', txHash: job.createTx }),
      job.providerAgentId &&
        ctx.record(job.providerAgentId, 'job', { jobId: job.jobId, event: 'hired', offering: job.offering }),
    ])
    settled(job)
    if (job.providerAgentId)
      void serve(job.jobId).catch((e: unknown) => ctx.log(`jobs: serving ${job.jobId}: ${String(e)}`))
  }

  async function onSubmitted(job: Job) {
    await Promise.all(
      [job.clientAgentId, job.providerAgentId].map(
        (id) => id && ctx.record(id, 'job', { jobId: job.jobId, event: 'submitted', txHash: job.submitTx }),
      ),
    )
    settled(job)
    if (job.clientAgentId)
      void evaluate(job.jobId).catch((e: unknown) => ctx.log(`jobs: evaluating ${job.jobId}: ${String(e)}`))
  }

  async function onFinal(job: Job, data: Record<string, unknown>) {
    await Promise.all(
      [job.clientAgentId, job.providerAgentId].map(
        (id) =>
          id && ctx.record(id, 'job', { jobId: job.jobId, event: job.status, txHash: job.settleTx, ...data }),
      ),
    )
    settled(job)
  }

  /** Settles the DB from a receipt of one of our own job transactions (faster than waiting for the indexer). */
  function kind(): IntentKind {
    return safeCallKind(ctx, {
      async onSettled(_intent, receipt) {
        const events = parseEventLogs({ abi: agentEconomyAbi, logs: receipt.logs })
        for (const event of events) await applyEvent(event as never)
        return undefined
      },
      async onFailed(intent, error) {
        const jobId = String(intent.payload.jobId)
        const job = await getJob(ctx.db, jobId)
        if (job?.status === 'pending') {
          const failed = await updateJob(ctx.db, jobId, { status: 'failed' })
          settled(failed)
        }
        await ctx.record(intent.agentId, 'job', {
          jobId,
          event: `${intent.kind} failed`,
          error: error.shortMessage,
        })
      },
    })
  }

  function refundKind(): IntentKind {
    return {
      lane: (payload) => `refund:${String(payload.jobId)}`,
      async build(intent) {
        return {
          to: ctx.contracts.economy,
          data: encodeFunctionData({
            abi: agentEconomyAbi,
            functionName: 'refundExpired',
            args: [BigInt(String(intent.payload.jobId))],
          }),
        }
      },
      async onSettled(_intent, receipt) {
        for (const event of parseEventLogs({ abi: agentEconomyAbi, logs: receipt.logs }))
          await applyEvent(event as never)
        return undefined
      },
    }
  }

  return { hire, handle, serve, evaluate, refundExpired, applyEvent, kind, refundKind }
}

export type JobEngine = ReturnType<typeof createJobEngine>
