import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { type Agent, BaseError, getJob, type Job } from '@agora/db'
import { keccak256, toBytes } from 'viem'
import type { RuntimeClient } from '../../client.ts'
import type { Offering } from '../../define-agent.ts'
import { isDevelopmentChain, type WebhookScope, webhookLookup, webhookUrlProblem } from './webhook-url.ts'

/** How the runtime calls owners' services; tests shorten the waits. */
export type WebhookTiming = {
  /** The longest one attempt may take (default 10 s). */
  attemptTimeoutMs: number
  /** The first wait between attempts, doubled after each failure (default 1 s). */
  firstBackoffMs: number
  /** The longest wait between attempts (default 30 s). */
  maxBackoffMs: number
  /**
   * Attempts stop this long before the job's deadline (default 30 s, at most a quarter of the time
   * left), so an answer can still be submitted on chain in time.
   */
  deadlineMarginMs: number
}

export const defaultWebhookTiming: WebhookTiming = {
  attemptTimeoutMs: 10_000,
  firstBackoffMs: 1_000,
  maxBackoffMs: 30_000,
  deadlineMarginMs: 30_000,
}

/** The largest answer read from a service, in bytes; a bigger one is refused. */
export const maxWebhookAnswerBytes = 256 * 1024

/** The header names of the protocol (lower case, as node hands them to a receiver). */
export const webhookHeaders = {
  timestamp: 'agora-timestamp',
  signature: 'agora-signature',
  agent: 'agora-agent',
} as const

/**
 * What is signed: `agora-webhook:<unix seconds>:<keccak256 of the raw body>`, as an EIP-191
 * personal message, by the agent's own key (`agora-agent`, the `signer` of its public view).
 *
 * @example
 * const message = webhookMessage(1767225600, body)
 * const ok = await verifyMessage({ address: signer, message, signature })
 */
export function webhookMessage(timestamp: number | string, body: string | Uint8Array): string {
  return `agora-webhook:${timestamp}:${keccak256(typeof body === 'string' ? toBytes(body) : body)}`
}

/**
 * Why a service's answer cannot be a deliverable, and whether trying again may help. It never
 * reaches a caller of the API: the job is declined with its message as the reason.
 */
export class WebhookFailure extends BaseError<'WEBHOOK_FAILED'> {
  override name = 'WebhookFailure'
  readonly final: boolean
  readonly retryAfterMs: number | undefined
  constructor(message: string, options: { final: boolean; retryAfterMs?: number }) {
    super(message, { code: 'WEBHOOK_FAILED' })
    this.final = options.final
    this.retryAfterMs = options.retryAfterMs
  }
}

export type ServeWebhookParameters = {
  provider: Agent
  offering: Offering & { webhook: string }
  /** The client's input, already checked against the offering's schema. */
  input: unknown
  /** The work served: a funded job, or an x402 sale (with `stillWanted`). */
  job: WorkOrder
  timing?: Partial<WebhookTiming>
}

/**
 * What a service is asked to do: a job (`jobId` is its on-chain id) or an x402 sale (`jobId` is
 * `x402-<authorization nonce>`). `stillWanted` is asked between retries; a job is wanted while funded.
 */
export type WorkOrder = Pick<Job, 'jobId' | 'budget' | 'token' | 'clientAddress' | 'deadline'> & {
  stillWanted?: () => Promise<boolean>
}

/**
 * Serves a funded job through the owner's service: POSTs the job, signed by the agent's key, to
 * the offering's webhook, and answers the deliverable (checked against the offering's output
 * schema). A timeout, a network error, 408, 429 or 5xx is tried again with exponential backoff
 * until shortly before the job's deadline; a redirect, another 4xx, an answer that is not JSON or
 * too big, or one that breaks the output schema is final. Throws a `WebhookFailure` saying why
 * (the job is then declined and the client refunded), never leaves the job waiting.
 *
 * @example
 * const deliverable = await serveWebhook(client, { provider, offering, input, job })
 */
export async function serveWebhook(
  client: RuntimeClient,
  parameters: ServeWebhookParameters,
): Promise<unknown> {
  const { provider, offering, job } = parameters
  const timing = { ...defaultWebhookTiming, ...parameters.timing }
  const scope: WebhookScope = {
    devnet: isDevelopmentChain(client.chain.chainId),
    publicUrl: client.publicUrl,
  }
  const refused = webhookUrlProblem(offering.webhook, scope)
  if (refused) throw new WebhookFailure(`The webhook URL ${refused}.`, { final: true })
  const body = JSON.stringify({
    jobId: job.jobId,
    agentId: provider.chainAgentId,
    offering: offering.name,
    input: parameters.input,
    price: await client.tokens.moneyOf(job.budget, job.token),
    client: job.clientAddress,
    deadline: job.deadline.toISOString(),
  })
  const stopAt = await stopTime(client, job, timing)
  const signer = client.signers.of(provider)
  let backoff = timing.firstBackoffMs
  let last: WebhookFailure | undefined
  for (let attempt = 1; ; attempt++) {
    const timeoutMs = Math.floor(Math.min(timing.attemptTimeoutMs, stopAt - Date.now()))
    if (timeoutMs <= 0) throw tooLate(attempt - 1, last)
    const timestamp = Math.floor(Date.now() / 1_000)
    const signature = await signer.signMessage({ message: webhookMessage(timestamp, body) })
    try {
      const answer = await post(offering.webhook, body, scope, timeoutMs, {
        'content-type': 'application/json',
        accept: 'application/json',
        [webhookHeaders.timestamp]: String(timestamp),
        [webhookHeaders.signature]: signature,
        // As the agent's public view shows it (`signer`).
        [webhookHeaders.agent]: provider.signerAddress,
      })
      return checkOutput(offering, answer)
    } catch (error) {
      last =
        error instanceof WebhookFailure ? error : new WebhookFailure(networkReason(error), { final: false })
    }
    const wait = Math.min(last.retryAfterMs ?? backoff, timing.maxBackoffMs)
    const giveUp = last.final || Date.now() + wait >= stopAt
    await client.activity.record(provider.id, 'job', {
      jobId: job.jobId,
      event: 'webhook failed',
      attempt,
      reason: last.message,
      ...(giveUp ? {} : { retryInMs: wait }),
    })
    if (last.final) throw last
    if (giveUp) throw tooLate(attempt, last)
    await sleep(wait)
    backoff = Math.min(backoff * 2, timing.maxBackoffMs)
    // Settled meanwhile (refunded after its deadline, or declined by another process): stop.
    const wanted = job.stillWanted
      ? await job.stillWanted()
      : (await getJob(client.db, job.jobId))?.status === 'funded'
    if (!wanted)
      throw new WebhookFailure('the job was settled while the service was retried', { final: true })
  }
}

/** The failure of a service that never answered in time. */
function tooLate(attempts: number, last: WebhookFailure | undefined): WebhookFailure {
  return new WebhookFailure(
    attempts === 0 || !last
      ? 'no time was left before the deadline'
      : `it did not answer before the deadline (${attempts} attempt(s); last: ${last.message})`,
    { final: true },
  )
}

/** When attempts stop: the deadline (on the chain's clock) less the margin. */
async function stopTime(client: RuntimeClient, job: WorkOrder, timing: WebhookTiming): Promise<number> {
  // The devnet's clock may run ahead of this machine's (tests move it forward): the later one counts.
  const block = await client.chain.publicClient.getBlock().catch(() => undefined)
  const chainNowMs = Math.max(Date.now(), Number(block?.timestamp ?? 0n) * 1_000)
  const leftMs = job.deadline.getTime() - chainNowMs
  return Math.floor(Date.now() + leftMs - Math.min(timing.deadlineMarginMs, Math.max(0, leftMs / 4)))
}

/** The answer held to the offering's output schema, when it has one. */
function checkOutput(offering: Offering, answer: unknown): unknown {
  if (!offering.output) return answer
  const parsed = offering.output.safeParse(answer)
  if (parsed.success) return parsed.data
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(answer)'}: ${i.message}`)
  throw new WebhookFailure(`its answer does not match the output schema: ${issues.join('; ')}`, {
    final: true,
  })
}

function networkReason(error: unknown): string {
  const e = error as NodeJS.ErrnoException
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'it did not answer in time'
  return `it could not be reached (${e?.code ?? e?.message ?? String(error)})`
}

/** One POST: the parsed JSON of a 2xx answer, or a `WebhookFailure`. */
function post(
  url: string,
  body: string,
  scope: WebhookScope,
  timeoutMs: number,
  headers: Record<string, string>,
): Promise<unknown> {
  const target = new URL(url)
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const request = send(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: webhookLookup(scope) as never,
        signal: AbortSignal.timeout(timeoutMs),
        // Each attempt on a fresh connection: a service that restarted is not reached through a dead one.
        agent: false,
      },
      (response) => read(response).then(resolve, reject),
    )
    request.on('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EWEBHOOKADDRESS' ? new WebhookFailure(error.message, { final: true }) : error),
    )
    request.end(body)
  })
}

async function read(response: IncomingMessage): Promise<unknown> {
  const status = response.statusCode ?? 0
  if (status < 200 || status >= 300) {
    response.resume()
    const retryAfter = Number(response.headers['retry-after'])
    const retryAfterMs = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1_000 : undefined
    if (status >= 300 && status < 400)
      throw new WebhookFailure(`it answered ${status}; redirects are not followed`, { final: true })
    const transient = status === 408 || status === 429 || status >= 500
    throw new WebhookFailure(`it answered ${status}`, { final: !transient, retryAfterMs })
  }
  if (Number(response.headers['content-length'] ?? 0) > maxWebhookAnswerBytes) {
    response.destroy()
    throw new WebhookFailure(`its answer is larger than ${maxWebhookAnswerBytes} bytes`, { final: true })
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of response) {
    size += (chunk as Buffer).length
    if (size > maxWebhookAnswerBytes) {
      response.destroy()
      throw new WebhookFailure(`its answer is larger than ${maxWebhookAnswerBytes} bytes`, { final: true })
    }
    chunks.push(chunk as Buffer)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new WebhookFailure(`it answered ${status} with a body that is not JSON`, { final: true })
  }
}

/** A wait that does not keep a stopping process alive. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
