import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { ValidationError } from '@agora/db'
import { type WebhookScope, webhookLookup, webhookUrlProblem } from '../jobs/webhook-url.ts'

export const x402Methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const
export type X402Method = (typeof x402Methods)[number]

/** A request for a resource, checked: what `payX402` sends, once unpaid and once with the payment. */
export type ResourceRequest = {
  url: URL
  method: X402Method
  headers: Record<string, string>
  /** The JSON body, serialized. */
  body: string | undefined
}

/** What a resource answered: its status, its headers (lower-case names) and its body (JSON parsed, or text). */
export type ResourceResponse = { status: number; headers: Record<string, string>; body: unknown }

/** The largest answer read from a resource, in bytes; a bigger one is refused. */
export const maxResourceAnswerBytes = 1024 * 1024
const maxRequestBodyBytes = 256 * 1024
const timeoutMs = 60_000

// Set by the runtime: the protocol's own headers, and what node computes for the request.
const reservedHeaders = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'payment-signature',
  'x-payment',
])

/**
 * Checks what a caller (or a model) asked to fetch: an http(s) URL the runtime may reach (https and
 * public addresses outside the devnet, never link-local ones, as for webhooks), a method, plain
 * headers and a JSON body. Throws a `ValidationError` saying what is wrong.
 *
 * @example
 * const request = checkResourceRequest({ devnet: true }, { url: 'http://127.0.0.1:4021/weather' })
 */
export function checkResourceRequest(
  scope: WebhookScope,
  parameters: { url: string; method?: string; headers?: Record<string, string>; body?: unknown },
): ResourceRequest {
  const { url } = parameters
  if (typeof url !== 'string' || url.length > 2_000)
    throw new ValidationError('The resource URL must be a string of at most 2,000 characters.')
  const problem = webhookUrlProblem(url, scope)
  if (problem) throw new ValidationError(`The resource URL "${url}" ${problem}.`)
  const method = parameters.method ?? 'GET'
  if (!(x402Methods as readonly string[]).includes(method))
    throw new ValidationError(`The method "${String(method)}" is not one of ${x402Methods.join(', ')}.`)
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(parameters.headers ?? {})) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/.test(name))
      throw new ValidationError(`"${name}" is not a header name.`)
    if (reservedHeaders.has(name.toLowerCase()))
      throw new ValidationError(`The header "${name}" is set by the runtime, not by the caller.`)
    if (typeof value !== 'string' || value.length > 8_192 || /[\r\n\0]/.test(value))
      throw new ValidationError(
        `The header "${name}" must be a single-line string of at most 8,192 characters.`,
      )
    headers[name.toLowerCase()] = value
  }
  if (Object.keys(headers).length > 32) throw new ValidationError('At most 32 headers may be given.')
  let body: string | undefined
  if (parameters.body !== undefined) {
    if (method === 'GET') throw new ValidationError('A GET request has no body; use POST, PUT or PATCH.')
    body = jsonText(parameters.body)
    if (Buffer.byteLength(body) > maxRequestBodyBytes)
      throw new ValidationError(`The body is larger than ${maxRequestBodyBytes} bytes.`)
    headers['content-type'] = 'application/json'
  }
  return { url: new URL(url), method: method as X402Method, headers, body }
}

/** `value` as JSON text, refusing what JSON cannot carry (functions, bigints, cycles, `undefined`). */
function jsonText(value: unknown): string {
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (cause) {
    throw new ValidationError('The body cannot be sent as JSON (a cycle or a bigint in it).', { cause })
  }
  if (text === undefined) throw new ValidationError('The body cannot be sent as JSON.')
  return text
}

/**
 * Sends `request` (with `extraHeaders`, the payment) over its own connection. Host names are
 * resolved and checked against `scope` at connection time (no rebinding in between); redirects are
 * not followed (a 3xx is answered as it is). A resource that cannot be reached, or answers more than
 * `maxResourceAnswerBytes`, is a `ValidationError`.
 */
export function requestResource(
  scope: WebhookScope,
  request: ResourceRequest,
  extraHeaders: Record<string, string> = {},
): Promise<ResourceResponse> {
  const send = request.url.protocol === 'https:' ? httpsRequest : httpRequest
  const headers: Record<string, string> = {
    accept: 'application/json, */*;q=0.5',
    ...request.headers,
    ...extraHeaders,
  }
  if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body))
  return new Promise((resolve, reject) => {
    const outgoing = send(
      request.url,
      {
        method: request.method,
        headers,
        lookup: webhookLookup(scope, 'resource') as never,
        signal: AbortSignal.timeout(timeoutMs),
        agent: false,
      },
      (response) =>
        read(request.url, response).then(resolve, (error: unknown) =>
          reject(
            error instanceof ValidationError
              ? error
              : new ValidationError(`The resource ${request.url.href} broke off its answer.`, {
                  cause: error,
                }),
          ),
        ),
    )
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EWEBHOOKADDRESS')
        return reject(new ValidationError(error.message, { cause: error }))
      const reason =
        error.name === 'TimeoutError' || error.name === 'AbortError'
          ? `it did not answer within ${timeoutMs / 1_000} s`
          : `it could not be reached (${error.code ?? error.message})`
      reject(new ValidationError(`The resource ${request.url.href} failed: ${reason}.`, { cause: error }))
    })
    outgoing.end(request.body)
  })
}

async function read(url: URL, response: IncomingMessage): Promise<ResourceResponse> {
  const tooBig = () =>
    new ValidationError(`The resource ${url.href} answered more than ${maxResourceAnswerBytes} bytes.`)
  if (Number(response.headers['content-length'] ?? 0) > maxResourceAnswerBytes) {
    response.destroy()
    throw tooBig()
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of response) {
    size += (chunk as Buffer).length
    if (size > maxResourceAnswerBytes) {
      response.destroy()
      throw tooBig()
    }
    chunks.push(chunk as Buffer)
  }
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(response.headers))
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
  const text = Buffer.concat(chunks).toString('utf8')
  return { status: response.statusCode ?? 0, headers, body: parseBody(headers['content-type'], text) }
}

/** JSON when it says so and parses; the text otherwise. */
function parseBody(contentType: string | undefined, text: string): unknown {
  if (!/\bjson\b/i.test(contentType ?? '')) return text
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
