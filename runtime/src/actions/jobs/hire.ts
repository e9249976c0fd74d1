import { agentEconomyAbi, jobIdOf } from '@agora/contracts'
import {
  ConflictError,
  getIntentByKey,
  getJob,
  getJobByKey,
  type Job,
  listOfferings,
  NotFoundError,
  type Offering,
  transaction,
  upsertJob,
  ValidationError,
} from '@agora/db'
import { type Address, encodeFunctionData, type Hex, keccak256, toHex, zeroAddress } from 'viem'
import type { z } from 'zod'
import { canonicalJson } from '../../canonical-json.ts'
import type { RuntimeClient } from '../../client.ts'
import { type ChainUnavailableError, type ContractRevertedError, PolicyError } from '../../errors.ts'
import type { QuotaError } from '../../guard/quotas.ts'
import { compileJsonSchema, type JsonSchemaIssue } from '../../json-schema.ts'
import { handInputToRemote } from '../../market/remote-escrow.ts'
import { recordIntent } from '../../outbox/record-intent.ts'
import type { Token } from '../../wallet/tokens.ts'
import { type ActiveAgent, requireActiveAgent } from '../agents/require-active-agent.ts'
import { getMarketOffering } from '../market/get-market-offering.ts'
import { ensureAllowance } from '../payments/ensure-allowance.ts'
import { sendRecorded } from '../payments/send-recorded.ts'

export type HireParameters = {
  /** The provider: an on-chain agent id. */
  provider: string | bigint
  /** The provider's offering name. */
  offering: string
  /** The offering's input; checked against the offering's schema before any money moves. */
  input: unknown
  /** Refuse to hire if the offering costs more than this, in its token's units. */
  maxPrice?: string
  /** Seconds the provider has to deliver (default 3600). */
  deadlineSeconds?: number
  /** Who may judge the delivery besides the client (an address), if anyone. */
  evaluator?: Address
  /**
   * Retrying with the same key never hires twice; the same key with another provider, offering,
   * input or evaluator is a `ConflictError` (`IDEMPOTENCY_CONFLICT`).
   */
  idempotencyKey?: string
}
export type HireReturnType = Job
export type HireErrorType =
  | ValidationError
  | NotFoundError
  | PolicyError
  | ConflictError
  | ContractRevertedError
  | ChainUnavailableError
  | QuotaError

/**
 * Hires a provider hosted here for one of its offerings: checks the price cap, the input against
 * the offering's schema and the client's spending policy, then records the job with its createJob
 * intent in one database transaction and sends it (create and fund in one call). Idempotent by key.
 * Once recorded, a hire is not reported as failed while it may still happen: when the chain does not
 * answer, the job comes back `pending` and the outbox sends it later.
 *
 * @example
 * const job = await hire(client, clientId, { provider: '7', offering: 'summarize', input: { text } })
 */
export async function hire(
  client: RuntimeClient,
  clientId: string,
  parameters: HireParameters,
): Promise<HireReturnType> {
  const hirer = await client.agents.get(clientId)
  requireActiveAgent(hirer, 'hire')
  const providerId = String(parameters.provider)
  if (!/^\d+$/.test(providerId)) throw new ValidationError(`"${providerId}" is not an agent id.`)
  if (providerId === hirer.chainAgentId) throw new ValidationError('An agent cannot hire itself.')
  const provider = await client.agents.byChainId(providerId)
  // A provider hosted by another runtime: its offering as the market read it from its registration file.
  const offering = provider
    ? (await listOfferings(client.db, provider.id, { activeOnly: true })).find(
        (o) => o.name === parameters.offering,
      )
    : await remoteOffering(client, providerId, parameters.offering)
  if (!offering)
    throw new NotFoundError(`Agent ${providerId} has no active offering "${parameters.offering}".`)
  const token = await client.tokens.resolve(offering.token)
  const price = BigInt(offering.price)
  if (parameters.maxPrice !== undefined && price > client.tokens.parse(parameters.maxPrice, token)) {
    throw new PolicyError(
      `"${offering.name}" costs ${client.tokens.format(price, token)} ${token.symbol}, over the maximum of ${parameters.maxPrice}.`,
    )
  }
  checkInput(client, provider?.name ?? '', offering, parameters.input)
  if (parameters.idempotencyKey !== undefined) {
    const earlier = await getJobByKey(client.db, {
      clientAgentId: hirer.id,
      idempotencyKey: parameters.idempotencyKey,
    })
    if (earlier) return resumeHire(client, earlier, providerId, offering.name, parameters)
  }
  const key = parameters.idempotencyKey ?? crypto.randomUUID()
  const specHash = keccak256(
    toHex(
      canonicalJson({ offering: offering.name, input: parameters.input, provider: providerId, nonce: key }),
    ),
  )
  const jobId = jobIdOf(hirer.safeAddress as Address, BigInt(providerId), specHash).toString()
  const now = Number((await client.chain.publicClient.getBlock()).timestamp)
  const deadline = now + (parameters.deadlineSeconds ?? 3_600)
  await ensureAllowance(client, hirer, token, price)
  const terms = {
    jobId,
    providerId,
    providerAgentId: provider?.id ?? null,
    offering,
    nonce: key,
    token,
    price,
    deadline,
    specHash,
  }
  const { job, intent } = await client.quotas.charge(
    hirer.owner,
    { kind: 'createJob', key: `createJob:${jobId}` },
    () =>
      client.guard.spend(
        hirer,
        { amount: price, token, counterparty: providerId, action: 'hire', key: jobId },
        () => recordJob(client, hirer, terms, parameters),
      ),
  )
  await client.activity.record(hirer.id, 'job', {
    jobId,
    event: 'hiring',
    provider: providerId,
    offering: offering.name,
    budget: client.tokens.money(price, token),
  })
  await sendRecorded(client, intent)
  // The provider's runtime needs the input: handed over now (and again until it is acknowledged).
  if (!provider)
    void handInputToRemote(client, hirer, job).catch((e: unknown) =>
      client.log(`jobs: handing job ${jobId}'s input over: ${String(e)}`),
    )
  return job
}

/** An offering of an agent another runtime hosts, from the market (shaped as a hosted one for the checks). */
async function remoteOffering(
  client: RuntimeClient,
  providerId: string,
  name: string,
): Promise<Offering | undefined> {
  const found = await getMarketOffering(client, providerId, name).catch(() => undefined)
  if (!found)
    throw new NotFoundError(`Agent ${providerId} is not in the market, or has no offering "${name}".`)
  if (!found.agent.active)
    throw new ConflictError(`Agent ${providerId} is not active.`, { code: 'AGENT_PAUSED' })
  if (!found.offering.endpoints.escrow)
    throw new NotFoundError(`Agent ${providerId} names no runtime that serves its escrow jobs.`)
  const { offering } = found
  return {
    id: 0,
    agentId: '',
    name: offering.name,
    description: offering.description,
    price: offering.price,
    token: offering.token,
    inputSchema: offering.inputSchema,
    capabilities: offering.capabilities,
    active: true,
    createdAt: offering.createdAt,
    updatedAt: offering.updatedAt,
  }
}

/** A hire retried with its key: the same terms answer with the job recorded first, other terms are refused. */
async function resumeHire(
  client: RuntimeClient,
  job: Job,
  providerId: string,
  offering: string,
  parameters: HireParameters,
): Promise<Job> {
  const same =
    job.providerChainAgentId === BigInt(providerId).toString() &&
    job.offering === offering &&
    canonicalJson(job.input ?? null) === canonicalJson(parameters.input ?? null) &&
    (job.evaluator ?? null) === (parameters.evaluator?.toLowerCase() ?? null)
  if (!same)
    throw new ConflictError(
      `The idempotency key "${parameters.idempotencyKey}" was used for another hire (job ${job.jobId}); use a new key for a new hire.`,
      { code: 'IDEMPOTENCY_CONFLICT', meta: { jobId: job.jobId } },
    )
  // Unfinished: sent now (or left pending); failed: refused as before ("already failed").
  const intent = await getIntentByKey(client.db, `createJob:${job.jobId}`)
  if (intent && intent.status !== 'confirmed') await sendRecorded(client, intent)
  return job
}

/**
 * The input is checked before money moves: against the provider's schema when it is hosted here,
 * else against the JSON Schema its offering publishes in the market. Every problem is listed, each
 * with its path (`input.topic`).
 */
function checkInput(client: RuntimeClient, providerName: string, offering: Offering, input: unknown) {
  const hosted = client.definitions.get(providerName)?.offerings.find((o) => o.name === offering.name)?.input
  const issues = hosted ? zodIssues(hosted, input) : publishedIssues(offering, input)
  if (issues.length === 0) return
  const problems = issues.map((i) => ({ path: ['input', ...i.path.map(String)], message: i.message }))
  throw new ValidationError(
    `The input does not fit "${offering.name}": ${problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; ')}`,
    { meta: { issues: problems } },
  )
}

function zodIssues(schema: z.ZodType, input: unknown): JsonSchemaIssue[] {
  const parsed = schema.safeParse(input)
  return parsed.success
    ? []
    : parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message }))
}

function publishedIssues(offering: Offering, input: unknown): JsonSchemaIssue[] {
  if (!offering.inputSchema) return []
  try {
    return compileJsonSchema(offering.inputSchema).validate(input)
  } catch {
    return [] // a schema this runtime cannot compile (written by code elsewhere): the provider checks it
  }
}

type Terms = {
  jobId: string
  providerId: string
  providerAgentId: string | null
  /** The spec hash's nonce: kept with a job whose provider is elsewhere, which is handed it with the input. */
  nonce: string
  offering: Offering
  token: Token
  price: bigint
  deadline: number
  specHash: Hex
}

/** The job and its createJob intent, in one database transaction; the existing ones on a retry. */
async function recordJob(
  client: RuntimeClient,
  hirer: ActiveAgent,
  terms: Terms,
  parameters: HireParameters,
) {
  try {
    return await recordJobRows(client, hirer, terms, parameters)
  } catch (error) {
    // Two hires raced with one key and different terms: the second is refused by the key's index.
    if (
      parameters.idempotencyKey !== undefined &&
      isUniqueViolation(error, 'jobs_client_idempotency_key_idx')
    )
      throw new ConflictError(
        `The idempotency key "${parameters.idempotencyKey}" was used for another hire; use a new key for a new hire.`,
        { code: 'IDEMPOTENCY_CONFLICT', cause: error },
      )
    throw error
  }
}

/** A Postgres unique violation of `index`, wherever it sits in the chain of causes (drizzle wraps it). */
function isUniqueViolation(error: unknown, index: string): boolean {
  let e = error
  for (let depth = 0; e && depth < 10; depth++) {
    const pg = e as { code?: unknown; constraint?: unknown; constraint_name?: unknown; message?: unknown }
    if (pg.code === '23505' && [pg.constraint, pg.constraint_name].includes(index)) return true
    if (pg.code === '23505' && String(pg.message).includes(index)) return true
    e = (e as { cause?: unknown }).cause
  }
  return false
}

function recordJobRows(client: RuntimeClient, hirer: ActiveAgent, terms: Terms, parameters: HireParameters) {
  return transaction(client.db, async (tx) => {
    const job =
      (await getJob(tx, terms.jobId)) ??
      (await upsertJob(tx, {
        jobId: terms.jobId,
        clientAddress: hirer.safeAddress,
        clientAgentId: hirer.id,
        providerChainAgentId: terms.providerId,
        providerAgentId: terms.providerAgentId,
        offering: terms.offering.name,
        input: parameters.input,
        specHash: terms.specHash,
        token: terms.token.address,
        budget: terms.price.toString(),
        deadline: new Date(terms.deadline * 1_000),
        evaluator: parameters.evaluator ?? null,
        status: 'pending',
        idempotencyKey: parameters.idempotencyKey ?? (terms.providerAgentId ? null : terms.nonce),
      }))
    const { intent } = await recordIntent(client, tx, createJobIntent(client, hirer, terms, parameters))
    return { job, intent }
  })
}

function createJobIntent(
  client: RuntimeClient,
  hirer: ActiveAgent,
  terms: Terms,
  parameters: HireParameters,
) {
  return {
    idempotencyKey: `createJob:${terms.jobId}`,
    kind: 'createJob' as const,
    agentId: hirer.id,
    payload: {
      safe: hirer.safeAddress,
      to: client.chain.contracts.economy,
      data: encodeFunctionData({
        abi: agentEconomyAbi,
        functionName: 'createJob',
        args: [
          BigInt(terms.providerId),
          parameters.evaluator ?? zeroAddress,
          terms.token.address,
          terms.price,
          BigInt(terms.deadline),
          terms.specHash,
        ],
      }),
      value: terms.token.address === zeroAddress ? terms.price.toString() : '0',
      jobId: terms.jobId,
    },
  }
}
