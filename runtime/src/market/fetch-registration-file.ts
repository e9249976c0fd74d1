import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { BaseError } from '@agora/db'
import { type Hex, keccak256 } from 'viem'
import { z } from 'zod'
import {
  isDevelopmentChain,
  type WebhookScope,
  webhookLookup,
  webhookUrlProblem,
} from '../actions/jobs/webhook-url.ts'
import {
  type RegistrationFile,
  registrationFileSchema,
  registrationOfferingSchema,
  registrationServiceSchema,
} from '../views/registration-file.ts'

/** What fetching a registration file allows by default. */
export const registrationFileLimits = {
  /** The longest a fetch may take, redirects and body included. */
  timeoutMs: 5_000,
  /** The largest file read, in bytes; counted while it streams in. */
  maxBytes: 256 * 1024,
  /** Redirects followed, each checked like the first URL. */
  maxRedirects: 3,
  /** The deepest nesting of objects and arrays in the file. */
  maxDepth: 32,
  /** The most offerings one file may list. */
  maxOfferings: 100,
}

/**
 * Why a registration file was not listed: unreachable, too large, too slow, not JSON, not in the
 * registration format, or naming another agent. It never reaches a caller of the API: the agent
 * is recorded as skipped with its message as the reason.
 */
export class RegistrationFileRefused extends BaseError<'REGISTRATION_FILE_REFUSED'> {
  override name = 'RegistrationFileRefused'
  /** Expected for a while (an agent of ours between launch and settlement): not worth a log line. */
  readonly quiet: boolean
  constructor(message: string, options: { cause?: unknown; quiet?: boolean } = {}) {
    super(message, { code: 'REGISTRATION_FILE_REFUSED', cause: options.cause })
    this.quiet = options.quiet ?? false
  }
}

/** What fetching and checking a file needs to know of the runtime: its chain, registry and API. */
export type RegistrationFileContext = {
  chain: { chainId: number; contracts: { identityRegistry: string } }
  publicUrl?: string | undefined
}

export type FetchRegistrationFileParameters = {
  /** The agent's token URI: http(s), or a `data:application/json` URI. */
  uri: string
  /** The agent's on-chain id: the file must name it (with this chain's registry). */
  chainAgentId: string
  timeoutMs?: number
  maxBytes?: number
  maxRedirects?: number
  /** Aborts the fetch (the runtime stopping). */
  signal?: AbortSignal
}

export type FetchRegistrationFileReturnType = {
  file: RegistrationFile
  /** keccak256 of the file's bytes: the same file hashes the same on every refresh. */
  hash: Hex
}

/**
 * Fetches an agent's registration file and checks it (`parseRegistrationFile`), without trusting
 * whoever serves it: http(s) or `data:application/json` only; outside development chains https
 * only and never a host that is or resolves to a loopback, private, link-local or unique-local
 * address (the webhook rules, `webhook-url.ts`); a time limit over the whole fetch; a size cap
 * counted while the body streams in; at most a few redirects, each checked again; JSON only.
 * Throws a `RegistrationFileRefused` saying why.
 *
 * @example
 * const { file, hash } = await fetchRegistrationFile(client, { uri, chainAgentId: '7' })
 */
export async function fetchRegistrationFile(
  client: RegistrationFileContext,
  parameters: FetchRegistrationFileParameters,
): Promise<FetchRegistrationFileReturnType> {
  const bytes = parameters.uri.startsWith('data:')
    ? decodeDataUri(parameters.uri, parameters.maxBytes ?? registrationFileLimits.maxBytes)
    : await download(client, parameters)
  return { file: parseRegistrationFile(client, bytes, parameters.chainAgentId), hash: keccak256(bytes) }
}

const jsonObject = z.record(z.string(), z.unknown())

/** An offering as the market accepts it: Agora's fields, the optional ones defaulted, text bounded. */
const marketOfferingSchema = registrationOfferingSchema.extend({
  name: z.string().min(1).max(200),
  description: z.string().max(4_000).default(''),
  capabilities: z.array(z.string().max(100)).max(50).default([]),
  inputSchema: jsonObject.nullable().default(null),
  outputSchema: jsonObject.nullable().default(null),
  x402: z.string().max(2_000).nullable().default(null),
})

/**
 * A registration file as the market accepts it: `registrationFileSchema`, with ERC-8004's optional
 * fields defaulted (a file without offerings sells nothing) and unknown fields left out.
 */
const marketFileSchema = registrationFileSchema.extend({
  name: z.string().max(200),
  description: z.string().max(10_000),
  image: z.string().max(2_000).default(''),
  services: z.array(registrationServiceSchema).max(50).default([]),
  x402Support: z.boolean().default(false),
  active: z.boolean().default(true),
  supportedTrust: z.array(z.string().max(100)).max(50).default([]),
  offerings: z.array(marketOfferingSchema).max(registrationFileLimits.maxOfferings).default([]),
})

/**
 * Checks a registration file's bytes: UTF-8 JSON, an object nested at most `maxDepth` deep and
 * without NUL characters (which Postgres cannot store), in the registration format (unknown fields
 * are allowed and left out), with unique offering names, and naming `chainAgentId` on this chain's
 * identity registry among its `registrations`, so a file cannot pass for another agent's.
 *
 * @example
 * const file = parseRegistrationFile(client, bytes, '7')
 */
export function parseRegistrationFile(
  client: RegistrationFileContext,
  bytes: Uint8Array,
  chainAgentId: string,
): RegistrationFile {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes)
  } catch {
    throw new RegistrationFileRefused('it is not UTF-8 text')
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new RegistrationFileRefused('it is not JSON')
  }
  if (!json || typeof json !== 'object' || Array.isArray(json))
    throw new RegistrationFileRefused('it is not a JSON object')
  checkShape(json)
  const parsed = marketFileSchema.safeParse(json)
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`)
    throw new RegistrationFileRefused(`it is not a registration file (${issues.join('; ')})`)
  }
  const file = parsed.data
  const registry = `eip155:${client.chain.chainId}:${client.chain.contracts.identityRegistry}`.toLowerCase()
  const registered = file.registrations.some(
    (r) => String(r.agentId) === chainAgentId && r.agentRegistry.toLowerCase() === registry,
  )
  if (!registered)
    throw new RegistrationFileRefused(
      `it does not name agent ${chainAgentId} of ${registry} among its registrations`,
    )
  const names = new Set<string>()
  for (const offering of file.offerings) {
    if (names.has(offering.name))
      throw new RegistrationFileRefused(`it lists the offering "${offering.name}" twice`)
    names.add(offering.name)
  }
  return file
}

/** A UTF-16 surrogate without its pair: JSON can escape one, Postgres cannot store it. */
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** Refuses values nested deeper than `maxDepth`, and text Postgres cannot store (NUL, lone surrogates). */
function checkShape(json: object) {
  const checkText = (text: string) => {
    if (text.includes('\u0000')) throw new RegistrationFileRefused('it holds NUL characters')
    if (loneSurrogate.test(text))
      throw new RegistrationFileRefused('it holds malformed Unicode (a lone surrogate)')
  }
  const stack: [unknown, number][] = [[json, 1]]
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!
    if (typeof value === 'string') {
      checkText(value)
      continue
    }
    if (!value || typeof value !== 'object') continue
    if (depth > registrationFileLimits.maxDepth)
      throw new RegistrationFileRefused(`it nests deeper than ${registrationFileLimits.maxDepth} levels`)
    for (const [key, inner] of Object.entries(value)) {
      checkText(key)
      stack.push([inner, depth + 1])
    }
  }
}

/** The bytes of a `data:application/json[;charset=…][;base64],…` URI. */
function decodeDataUri(uri: string, maxBytes: number): Uint8Array {
  const match = /^data:application\/json((?:;[\w=.-]+)*),(.*)$/is.exec(uri)
  if (!match) throw new RegistrationFileRefused('its data: URI is not application/json')
  const base64 = /;base64$/i.test(match[1]!)
  let bytes: Uint8Array
  try {
    bytes = base64
      ? Buffer.from(match[2]!, 'base64')
      : new TextEncoder().encode(decodeURIComponent(match[2]!))
  } catch {
    throw new RegistrationFileRefused('its data: URI does not decode')
  }
  if (bytes.length > maxBytes) throw new RegistrationFileRefused(`it is larger than ${maxBytes} bytes`)
  return bytes
}

/** GETs the file over http(s), following at most `maxRedirects` redirects, each checked again. */
async function download(
  client: RegistrationFileContext,
  parameters: FetchRegistrationFileParameters,
): Promise<Uint8Array> {
  const timeoutMs = parameters.timeoutMs ?? registrationFileLimits.timeoutMs
  const maxBytes = parameters.maxBytes ?? registrationFileLimits.maxBytes
  const maxRedirects = parameters.maxRedirects ?? registrationFileLimits.maxRedirects
  const scope: WebhookScope = {
    devnet: isDevelopmentChain(client.chain.chainId),
    publicUrl: client.publicUrl,
  }
  const timeout = AbortSignal.timeout(timeoutMs)
  const signal = parameters.signal ? AbortSignal.any([parameters.signal, timeout]) : timeout
  let url = parameters.uri
  for (let redirects = 0; ; redirects++) {
    const problem = webhookUrlProblem(url, scope)
    if (problem)
      throw new RegistrationFileRefused(
        redirects === 0 ? `its URI ${problem}` : `it redirects to ${url}, which ${problem}`,
      )
    try {
      const answer = await get(url, scope, signal, maxBytes)
      if (answer.kind === 'file') return answer.bytes
      if (redirects >= maxRedirects)
        throw new RegistrationFileRefused(`it redirects more than ${maxRedirects} times`)
      url = new URL(answer.location, url).toString()
    } catch (error) {
      if (error instanceof RegistrationFileRefused) throw error
      if (timeout.aborted) throw new RegistrationFileRefused(`it did not arrive within ${timeoutMs} ms`)
      if (parameters.signal?.aborted)
        throw new RegistrationFileRefused('the fetch was stopped', { cause: error })
      const e = error as NodeJS.ErrnoException
      if (e.code === 'EWEBHOOKADDRESS') throw new RegistrationFileRefused(e.message)
      throw new RegistrationFileRefused(`it could not be reached (${e.code ?? e.message})`, { cause: error })
    }
  }
}

type Answer = { kind: 'file'; bytes: Uint8Array } | { kind: 'redirect'; location: string }

function get(url: string, scope: WebhookScope, signal: AbortSignal, maxBytes: number): Promise<Answer> {
  const target = new URL(url)
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const request = send(
      target,
      {
        method: 'GET',
        headers: { accept: 'application/json', 'accept-encoding': 'identity', 'user-agent': 'agora-market' },
        lookup: webhookLookup(scope, 'registration file') as never,
        signal,
        agent: false,
      },
      (response) => read(response, maxBytes).then(resolve, reject),
    )
    request.on('error', reject)
    request.end()
  })
}

async function read(response: IncomingMessage, maxBytes: number): Promise<Answer> {
  const status = response.statusCode ?? 0
  if (status >= 300 && status < 400 && response.headers.location) {
    response.destroy()
    return { kind: 'redirect', location: response.headers.location }
  }
  const refuse = (reason: string) => {
    response.destroy()
    return new RegistrationFileRefused(reason)
  }
  if (status !== 200) throw refuse(`it answered HTTP ${status}`)
  const type = response.headers['content-type']
  if (type && !/^\s*(application\/([\w.-]+\+)?json|text\/plain)\s*(;|$)/i.test(type))
    throw refuse(`it is served as ${type.slice(0, 100)}, not JSON`)
  const encoding = response.headers['content-encoding']
  if (encoding && encoding.toLowerCase() !== 'identity') throw refuse(`it is served ${encoding}-encoded`)
  if (Number(response.headers['content-length'] ?? 0) > maxBytes)
    throw refuse(`it is larger than ${maxBytes} bytes`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of response) {
    size += (chunk as Buffer).length
    if (size > maxBytes) throw refuse(`it is larger than ${maxBytes} bytes`)
    chunks.push(chunk as Buffer)
  }
  return { kind: 'file', bytes: Buffer.concat(chunks) }
}
