import { jobIdOf } from '@agora/contracts'
import {
  AuthError,
  ConflictError,
  getJob,
  NotFoundError,
  saveJobInput,
  updateJob,
  ValidationError,
} from '@agora/db'
import { type Address, type Hex, isAddress, keccak256, toHex } from 'viem'
import { canonicalJson } from '../../canonical-json.ts'
import type { RuntimeClient } from '../../client.ts'
import { verifyWalletMessage } from '../../wallet/verify-wallet-message.ts'
import { serveJob } from './serve-job.ts'

export type HandOverInputParameters = {
  /** The on-chain job id: `jobIdOf(client, provider, specHash)`. */
  jobId: string
  /** Who creates and funds the job (an account or a smart wallet such as a Safe). */
  client: Address
  /** The provider's on-chain agent id. */
  provider: string
  offering: string
  input: unknown
  /** Any string the client picks (at most 128 characters) so two jobs with the same input differ. */
  nonce: string
  /** The client's signature (EIP-191, or ERC-1271 for a contract wallet) of `jobInputMessage(jobId, specHash)`. */
  signature: Hex
}

export type HandOverInputReturnType = {
  jobId: string
  specHash: Hex
  /** `funded`: the job was on chain, and its provider now works on it; `awaiting funding`: kept until it is. */
  status: 'funded' | 'awaiting funding'
}

/**
 * The spec hash of a job: it commits to the offering, the input, the provider and a nonce, so the
 * escrow's job id (`jobIdOf(client, provider, specHash)`) names exactly one input. Anyone can compute
 * it: keccak256 of the UTF-8 JSON of `{ input, nonce, offering, provider }` with keys sorted at every level.
 *
 * @example
 * const specHash = specHashOf({ offering: 'upper', input: { text: 'hi' }, provider: '7', nonce: 'a1' })
 */
export function specHashOf(spec: { offering: string; input: unknown; provider: string; nonce: string }): Hex {
  return keccak256(toHex(canonicalJson(spec)))
}

/** What a client signs to hand a job's input over. */
export const jobInputMessage = (jobId: string, specHash: Hex) => `agora-job-input:${jobId}:${specHash}`

/** What a job's party signs to read its input and deliverable without a session (a signed read). */
export const jobReadMessage = (jobId: string, timestamp: string) => `agora-read-job:${jobId}:${timestamp}`

/** The headers of a signed read: the reader, unix seconds, and its signature of `jobReadMessage`. */
export const jobReadHeaders = {
  address: 'agora-address',
  timestamp: 'agora-timestamp',
  signature: 'agora-signature',
} as const

/**
 * A client that is not hosted here (any wallet) hands over the input of an escrow job with a
 * provider hosted here, before or after funding it. The input must hash to the job (`specHashOf`),
 * the client must have signed it, and it must fit the offering. A job already funded is served at
 * once; otherwise the input waits for the job's `JobCreated` event.
 *
 * @example
 * await handOverInput(client, { jobId, client: wallet, provider: '7', offering: 'upper', input, nonce, signature })
 */
export async function handOverInput(
  client: RuntimeClient,
  parameters: HandOverInputParameters,
): Promise<HandOverInputReturnType> {
  const { jobId, provider, offering, input, nonce } = parameters
  if (!isAddress(parameters.client)) throw new ValidationError(`"${parameters.client}" is not an address.`)
  if (!/^\d{1,78}$/.test(provider)) throw new ValidationError(`"${provider}" is not an agent id.`)
  if (nonce.length === 0 || nonce.length > 128)
    throw new ValidationError('The nonce must be 1 to 128 characters.')
  const specHash = specHashOf({ offering, input, provider, nonce })
  const expected = jobIdOf(parameters.client, BigInt(provider), specHash).toString()
  if (expected !== jobId)
    throw new ValidationError(
      `This input is not job ${jobId}'s: with this client, provider, offering and nonce it is job ${expected} (spec hash ${specHash}).`,
    )
  const signed = await verifyWalletMessage(client.chain, {
    address: parameters.client,
    message: jobInputMessage(jobId, specHash),
    signature: parameters.signature,
  })
  if (!signed)
    throw new AuthError(
      `The signature is not ${parameters.client}'s over "${jobInputMessage(jobId, specHash)}".`,
      {
        code: 'FORBIDDEN',
      },
    )
  const agent = await client.agents.byChainId(provider)
  const definition = agent && client.definitions.get(agent.name)
  if (!agent || !definition)
    throw new NotFoundError(
      `Agent ${provider} is not served here; hand the input to the runtime its registration file names.`,
    )
  const sold = definition.offerings.find((o) => o.name === offering)
  if (!sold) throw new NotFoundError(`Agent ${provider} has no offering "${offering}".`)
  const parsed = sold.input.safeParse(input)
  if (!parsed.success)
    throw new ValidationError(
      `The input does not fit "${offering}": ${parsed.error.issues.map((i) => `${['input', ...i.path].join('.')}: ${i.message}`).join('; ')}`,
    )
  const job = await getJob(client.db, jobId)
  if (!job) {
    await saveJobInput(client.db, {
      jobId,
      clientAddress: parameters.client,
      providerChainAgentId: provider,
      offering,
      input,
      nonce,
      specHash,
    })
    return { jobId, specHash, status: 'awaiting funding' }
  }
  if (job.specHash.toLowerCase() !== specHash.toLowerCase())
    throw new ConflictError(`Job ${jobId} was created with another spec hash (${job.specHash}).`)
  if (job.input === null || job.input === undefined) {
    await updateJob(client.db, jobId, { input, offering })
    void serveJob(client, jobId).catch((e: unknown) => client.log(`jobs: serving ${jobId}: ${String(e)}`))
  }
  return { jobId, specHash, status: 'funded' }
}
