/**
 * The receiving end of webhook offerings, for owners' services: Agora POSTs each funded job to the
 * offering's webhook, signed by the agent's key, and the JSON answer is the deliverable.
 * `verifyAgoraRequest` checks a request; `startWebhookReceiver` is a whole receiver. A standalone
 * version in a few lines is `examples/webhook-receiver.ts`; the protocol is in docs/webhooks.md.
 */
import { once } from 'node:events'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Address, type Hex, isAddress, isAddressEqual, keccak256, verifyMessage } from 'viem'

/** The job as the runtime sends it. */
export type AgoraJob = {
  jobId: string
  /** The provider agent's on-chain id. */
  agentId: string
  offering: string
  /** The client's input, already checked against the offering's input schema. */
  input: unknown
  price: { value: string; decimals: number; token: string; symbol: string; formatted: string }
  /** The client's address (its Safe). */
  client: string
  /** ISO 8601; answer well before it. */
  deadline: string
}

export type VerifyAgoraRequestParameters = {
  /** The raw body, exactly as received (the signature covers its bytes). */
  body: string | Uint8Array
  headers: IncomingHttpHeaders | Headers
  /** The agent's signer (its public view's `signer`), or a check of it; any signer when omitted. */
  signer?: Address | ((address: Address) => boolean | Promise<boolean>)
  /** How old (or early) a timestamp may be, in seconds (default 300). */
  maxAgeSeconds?: number
  /** Now, in unix seconds (for tests). */
  now?: number
}

export type VerifyAgoraRequestReturnType =
  | { ok: true; job: AgoraJob; signer: Address }
  | { ok: false; reason: string }

const header = (headers: IncomingHttpHeaders | Headers, name: string): string | undefined => {
  const value = headers instanceof Headers ? headers.get(name) : headers[name]
  return Array.isArray(value) ? value[0] : (value ?? undefined)
}

/**
 * Checks that a request comes from the agent: an EIP-191 signature by `agora-agent` over
 * `agora-webhook:<agora-timestamp>:<keccak256 of the raw body>`, a timestamp within five minutes
 * (a replayed request is stale), and the agent's address when `signer` is given.
 *
 * @example
 * const checked = await verifyAgoraRequest({ body: raw, headers: req.headers, signer: '0xAgentSigner…' })
 * if (!checked.ok) return reply(401, checked.reason)
 */
export async function verifyAgoraRequest(
  parameters: VerifyAgoraRequestParameters,
): Promise<VerifyAgoraRequestReturnType> {
  const { body, headers } = parameters
  const timestamp = Number(header(headers, 'agora-timestamp'))
  const signature = header(headers, 'agora-signature') as Hex | undefined
  const address = header(headers, 'agora-agent')
  if (!Number.isInteger(timestamp) || !signature || !address || !isAddress(address, { strict: false }))
    return { ok: false, reason: 'missing or malformed agora-* headers' }
  const now = parameters.now ?? Math.floor(Date.now() / 1_000)
  if (Math.abs(now - timestamp) > (parameters.maxAgeSeconds ?? 300))
    return { ok: false, reason: 'stale timestamp' }
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body
  const message = `agora-webhook:${timestamp}:${keccak256(bytes)}`
  const valid = await verifyMessage({ address, message, signature }).catch(() => false)
  if (!valid) return { ok: false, reason: 'bad signature' }
  const expected = parameters.signer
  const trusted =
    expected === undefined ||
    (typeof expected === 'function' ? await expected(address) : isAddressEqual(expected, address))
  if (!trusted) return { ok: false, reason: 'unknown agent' }
  return { ok: true, job: JSON.parse(new TextDecoder().decode(bytes)) as AgoraJob, signer: address }
}

export type StartWebhookReceiverParameters = {
  /** Produces the deliverable; throw an error with a 4xx `status` to refuse the job for good (a 5xx is retried). */
  handle(job: AgoraJob): unknown
  signer?: VerifyAgoraRequestParameters['signer']
  /** Default: a free port. */
  port?: number
  /** Default: loopback. */
  host?: string
}

export type WebhookReceiver = { url: string; close(): Promise<void> }

/** Bodies bigger than this are refused before they are read further. */
const maxBodyBytes = 256 * 1024

/**
 * A small HTTP server answering Agora's webhook requests: verified ones get `handle`'s answer as
 * JSON (200), the rest a 401.
 *
 * @example
 * const receiver = await startWebhookReceiver({ handle: (job) => ({ received: job.input }) })
 * // launch an offering with { "webhook": receiver.url }; later: await receiver.close()
 */
export async function startWebhookReceiver(
  parameters: StartWebhookReceiverParameters,
): Promise<WebhookReceiver> {
  const server = createServer(async (req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    try {
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of req) {
        size += (chunk as Buffer).length
        if (size > maxBodyBytes) return reply(413, { error: 'too large' })
        chunks.push(chunk as Buffer)
      }
      if (req.method !== 'POST') return reply(405, { error: 'POST only' })
      const checked = await verifyAgoraRequest({
        body: Buffer.concat(chunks),
        headers: req.headers,
        signer: parameters.signer,
      })
      if (!checked.ok) return reply(401, { error: checked.reason })
      reply(200, await parameters.handle(checked.job))
    } catch (error) {
      const status = (error as { status?: unknown }).status
      if (typeof status === 'number' && status >= 400 && status < 600)
        return reply(status, { error: (error as Error).message })
      reply(500, { error: 'the service failed' })
    }
  })
  server.listen(parameters.port ?? 0, parameters.host ?? '127.0.0.1')
  await once(server, 'listening')
  const { address, port } = server.address() as AddressInfo
  const host = address.includes(':') ? `[${address}]` : address
  return {
    url: `http://${host}:${port}/agora`,
    async close() {
      server.closeAllConnections()
      server.close()
      await once(server, 'close').catch(() => {})
    },
  }
}
