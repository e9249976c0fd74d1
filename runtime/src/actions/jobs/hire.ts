import { agentEconomyAbi, jobIdOf } from '@agora/contracts'
import {
  type ConflictError,
  getJob,
  type Job,
  listOfferings,
  NotFoundError,
  type Offering,
  transaction,
  upsertJob,
  ValidationError,
} from '@agora/db'
import { type Address, encodeFunctionData, type Hex, keccak256, toHex, zeroAddress } from 'viem'
import { canonicalJson } from '../../canonical-json.ts'
import type { RuntimeClient } from '../../client.ts'
import { type ChainUnavailableError, type ContractRevertedError, PolicyError } from '../../errors.ts'
import { recordIntent } from '../../outbox/record-intent.ts'
import { sendIntent } from '../../outbox/send-intent.ts'
import type { Token } from '../../wallet/tokens.ts'
import { type ActiveAgent, requireActiveAgent } from '../agents/require-active-agent.ts'
import { ensureAllowance } from '../payments/ensure-allowance.ts'

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
export type HireReturnType = Job
export type HireErrorType =
  | ValidationError
  | NotFoundError
  | PolicyError
  | ConflictError
  | ContractRevertedError
  | ChainUnavailableError

/**
 * Hires a provider hosted here for one of its offerings: checks the price cap, the input against
 * the offering's schema and the client's spending policy, then records the job with its createJob
 * intent in one database transaction and sends it (create and fund in one call). Idempotent by key.
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
  if (!provider)
    throw new NotFoundError(`Agent ${providerId} is not in this runtime's market; its offerings are unknown.`)
  const offering = (await listOfferings(client.db, provider.id, { activeOnly: true })).find(
    (o) => o.name === parameters.offering,
  )
  if (!offering)
    throw new NotFoundError(`Agent ${providerId} has no active offering "${parameters.offering}".`)
  const token = await client.tokens.resolve(offering.token)
  const price = BigInt(offering.price)
  if (parameters.maxPrice !== undefined && price > client.tokens.parse(parameters.maxPrice, token)) {
    throw new PolicyError(
      `"${offering.name}" costs ${client.tokens.format(price, token)} ${token.symbol}, over the maximum of ${parameters.maxPrice}.`,
    )
  }
  checkInput(client, provider.name, offering.name, parameters.input)
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
    providerAgentId: provider.id,
    offering,
    token,
    price,
    deadline,
    specHash,
  }
  const { job, intent } = await client.guard.spend(
    hirer,
    { amount: price, token, counterparty: providerId, action: 'hire', key: jobId },
    () => recordJob(client, hirer, terms, parameters),
  )
  await client.activity.record(hirer.id, 'job', {
    jobId,
    event: 'hiring',
    provider: providerId,
    offering: offering.name,
    budget: client.tokens.money(price, token),
  })
  await sendIntent(client, intent)
  return job
}

/** The provider's input schema, when it is defined in this process, is checked before money moves. */
function checkInput(client: RuntimeClient, providerName: string, offering: string, input: unknown) {
  const schema = client.definitions.get(providerName)?.offerings.find((o) => o.name === offering)?.input
  const parsed = schema?.safeParse(input)
  if (!parsed || parsed.success) return
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`)
  throw new ValidationError(`The input does not fit "${offering}": ${issues.join('; ')}`)
}

type Terms = {
  jobId: string
  providerId: string
  providerAgentId: string
  offering: Offering
  token: Token
  price: bigint
  deadline: number
  specHash: Hex
}

/** The job and its createJob intent, in one database transaction; the existing ones on a retry. */
function recordJob(client: RuntimeClient, hirer: ActiveAgent, terms: Terms, parameters: HireParameters) {
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
