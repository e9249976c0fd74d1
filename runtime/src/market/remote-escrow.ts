import { type Agent, type Job, updateJob, ValidationError } from '@agora/db'
import { type Address, type Hex, hashMessage, keccak256, toHex } from 'viem'
import { jobInputMessage, jobReadHeaders, jobReadMessage } from '../actions/jobs/hand-over-input.ts'
import { isDevelopmentChain, type WebhookScope } from '../actions/jobs/webhook-url.ts'
import { getMarketOffering } from '../actions/market/get-market-offering.ts'
import { checkResourceRequest, requestResource } from '../actions/payments/x402-request.ts'
import { canonicalJson } from '../canonical-json.ts'
import type { RuntimeClient } from '../client.ts'

/**
 * Escrow jobs with providers hosted by another runtime: the client's side of the hand-over. The job's
 * input goes to the provider's runtime (the `agora` service of its registration file, kept as the
 * offering's `escrow` endpoint), and the deliverable is read back from it, each request signed by
 * the hirer's Safe: by its agent's key, which the agent module names for the Safe (an older agent's
 * key, an owner of its Safe, signs through ERC-1271 instead).
 */

/** A message signed for `agent`'s Safe: what `verifyWalletMessage` accepts for the Safe's address. */
async function signAsSafe(client: RuntimeClient, agent: Agent, message: string): Promise<Hex> {
  const key = client.signers.of(agent)
  if ((await client.safes.pathOf(agent.safeAddress as Address, key.address)) === 'module')
    return key.signMessage({ message })
  return key.signTypedData!({
    domain: { chainId: client.chain.chainId, verifyingContract: agent.safeAddress as Address },
    types: { SafeMessage: [{ name: 'message', type: 'bytes' }] },
    primaryType: 'SafeMessage',
    message: { message: hashMessage(message) },
  })
}

/** The API of the runtime that serves the job's provider, as the market lists it. */
async function escrowEndpoint(client: RuntimeClient, job: Job): Promise<string> {
  const { offering } = await getMarketOffering(client, job.providerChainAgentId, job.offering)
  const escrow = offering.endpoints.escrow
  if (!escrow)
    throw new ValidationError(`Agent ${job.providerChainAgentId} names no runtime API to send a job to.`)
  return escrow.replace(/\/+$/, '')
}

const scopeOf = (client: RuntimeClient): WebhookScope => ({
  devnet: isDevelopmentChain(client.chain.chainId),
  publicUrl: client.publicUrl,
})

/** Jobs whose input the provider's runtime acknowledged, per client (a restart sends again: it is idempotent). */
const delivered = new WeakMap<RuntimeClient['jobs'], Set<string>>()

/**
 * Hands a hired job's input to the runtime hosting its provider (`PUT /jobs/{jobId}/input`), signed
 * by the hirer's Safe; idempotent there, so it is sent again whenever unsure. Throws what the other
 * runtime answered when it refuses.
 *
 * @example
 * await handInputToRemote(client, hirer, job)
 */
export async function handInputToRemote(client: RuntimeClient, hirer: Agent, job: Job): Promise<void> {
  let sent = delivered.get(client.jobs)
  if (!sent) {
    sent = new Set()
    delivered.set(client.jobs, sent)
  }
  if (sent.has(job.jobId)) return
  const nonce = job.idempotencyKey
  if (!nonce)
    throw new ValidationError(`Job ${job.jobId} has no recorded nonce; its input cannot be handed over.`)
  const body = {
    client: hirer.safeAddress,
    provider: job.providerChainAgentId,
    offering: job.offering,
    input: job.input,
    nonce,
    signature: await signAsSafe(client, hirer, jobInputMessage(job.jobId, job.specHash as Hex)),
  }
  const url = `${await escrowEndpoint(client, job)}/jobs/${job.jobId}/input`
  const scope = scopeOf(client)
  const answer = await requestResource(scope, checkResourceRequest(scope, { url, method: 'PUT', body }))
  if (answer.status !== 200)
    throw new ValidationError(
      `The provider's runtime refused the input of job ${job.jobId} (${answer.status}): ${detailOf(answer.body)}`,
    )
  sent.add(job.jobId)
  await client.activity.record(hirer.id, 'job', { jobId: job.jobId, event: 'input handed over', to: url })
}

/**
 * Reads a submitted job's deliverable from the runtime hosting its provider with a signed read, and
 * keeps it when it matches the hash submitted on chain (else nothing is kept and the evaluation
 * rejects a missing deliverable).
 *
 * @example
 * const job = await fetchRemoteDeliverable(client, hirer, job)
 */
export async function fetchRemoteDeliverable(client: RuntimeClient, hirer: Agent, job: Job): Promise<Job> {
  const timestamp = String(Math.floor(Date.now() / 1_000))
  const url = `${await escrowEndpoint(client, job)}/jobs/${job.jobId}`
  const scope = scopeOf(client)
  const request = checkResourceRequest(scope, { url })
  const answer = await requestResource(scope, request, {
    [jobReadHeaders.address]: hirer.safeAddress!,
    [jobReadHeaders.timestamp]: timestamp,
    [jobReadHeaders.signature]: await signAsSafe(client, hirer, jobReadMessage(job.jobId, timestamp)),
  })
  if (answer.status !== 200)
    throw new ValidationError(
      `The provider's runtime did not give job ${job.jobId}'s deliverable (${answer.status}): ${detailOf(answer.body)}`,
    )
  const deliverable = (answer.body as { deliverable?: unknown }).deliverable ?? null
  if (deliverable === null || keccak256(toHex(canonicalJson(deliverable))) !== job.deliverableHash) return job
  return updateJob(client.db, job.jobId, { deliverable })
}

function detailOf(body: unknown): string {
  const detail = (body as { detail?: unknown } | null)?.detail
  return typeof detail === 'string' ? detail : JSON.stringify(body).slice(0, 300)
}
