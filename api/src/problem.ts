import { BaseError as RuntimeError } from '@agora/runtime'
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { z } from 'zod'

/** One field that failed validation: where (`offerings.0.price`) and why. */
export type FieldError = { path: string; message: string }

/** The body of every error response (RFC 9457 problem details, trimmed to what clients use). */
export type Problem = {
  type: string
  title: string
  status: number
  detail: string
  errors?: FieldError[]
}

/** An error the API raises itself, already carrying its HTTP status. */
export class HttpProblem extends Error {
  override name = 'HttpProblem'
  readonly status: ContentfulStatusCode
  readonly code: string
  readonly errors: FieldError[] | undefined

  constructor(status: ContentfulStatusCode, code: string, detail: string, errors?: FieldError[]) {
    super(detail)
    this.status = status
    this.code = code
    this.errors = errors
  }
}

// Codes the runtime and the store raise, by the status a client should see.
const statusOfCode: Record<string, ContentfulStatusCode> = {
  INVALID_ARGUMENT: 400,
  INVALID_INPUT: 400,
  UNAUTHORIZED: 401,
  NONCE_NOT_FOUND: 401,
  NONCE_USED: 401,
  NONCE_EXPIRED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  IDEMPOTENCY_CONFLICT: 409,
  INVALID_TRANSITION: 409,
  INVALID_DEFINITION: 422,
  POLICY_REFUSED: 422,
  CONTRACT_REVERTED: 422,
  CHAIN_UNAVAILABLE: 503,
  TRANSACTION_FAILED: 502,
}

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
}

/** The store's errors carry a string `code` too; both packages are matched by shape, not by class. */
function codedError(error: unknown): { code: string; shortMessage: string; meta?: unknown } | undefined {
  if (error instanceof RuntimeError) return error
  if (
    error instanceof Error &&
    typeof (error as { code?: unknown }).code === 'string' &&
    typeof (error as { shortMessage?: unknown }).shortMessage === 'string'
  ) {
    return error as unknown as { code: string; shortMessage: string }
  }
  return undefined
}

/** Turns any thrown value into the problem shape and its status; unknown errors become a bare 500. */
export function toProblem(error: unknown): Problem {
  if (error instanceof HttpProblem) {
    return problem(error.status, error.code, error.message, error.errors)
  }
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode
    return problem(status, titles[status] ?? 'HTTP error', error.message || titles[status] || 'HTTP error')
  }
  const coded = codedError(error)
  if (coded) {
    const status = statusOfCode[coded.code] ?? 500
    const issues = (coded.meta as { issues?: { path: string[]; message: string }[] } | undefined)?.issues
    const errors = issues?.map((i) => ({ path: i.path.join('.'), message: i.message }))
    // Internal failures keep their details in the log, not in the response.
    const detail =
      status >= 500 && status !== 502 && status !== 503 ? 'Something went wrong.' : coded.shortMessage
    return problem(status, coded.code, detail, errors?.length ? errors : undefined)
  }
  return problem(500, 'INTERNAL', 'Something went wrong.')
}

function problem(status: number, code: string, detail: string, errors?: FieldError[]): Problem {
  return {
    type: `urn:agora:problem:${code.toLowerCase().replaceAll('_', '-')}`,
    title: titles[status] ?? 'Error',
    status,
    detail,
    ...(errors ? { errors } : {}),
  }
}

/** Writes a problem response. */
export function problemResponse(c: Context, body: Problem) {
  return c.body(JSON.stringify(body), body.status as ContentfulStatusCode, {
    'content-type': 'application/problem+json',
  })
}

/** Zod issues as field errors (`offerings.0.price`; the body itself is `(body)`). */
export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(body)',
    message: issue.message,
  }))
}

/** Validates a value against a schema or throws a 400 listing every bad field. */
export function validate<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  what: string,
): z.output<Schema> {
  const parsed = schema.safeParse(value)
  if (!parsed.success) {
    throw new HttpProblem(400, 'INVALID_REQUEST', `The ${what} is invalid.`, fieldErrors(parsed.error))
  }
  return parsed.data
}

/** Reads a JSON body and validates it: malformed JSON and wrong shapes are both a 400. */
export async function readJson<Schema extends z.ZodType>(
  c: Context,
  schema: Schema,
): Promise<z.output<Schema>> {
  const type = c.req.header('content-type') ?? ''
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
    throw new HttpProblem(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.')
  }
  const text = await c.req.text()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new HttpProblem(400, 'MALFORMED_JSON', 'The body is not valid JSON.')
  }
  return validate(schema, body, 'request body')
}

/** JSON with bigints as decimal strings (balances and amounts are uint256). */
export function json(c: Context, data: unknown, status: ContentfulStatusCode = 200) {
  const text = JSON.stringify(data, (_key, value) => (typeof value === 'bigint' ? value.toString() : value))
  return c.body(text, status, { 'content-type': 'application/json' })
}
