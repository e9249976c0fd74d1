import { BaseError, type ErrorCode } from '@agora/runtime'
import { z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** Codes only the HTTP edge raises (malformed requests, sign-in, limits). */
export type ApiErrorCode =
  | 'INVALID_REQUEST'
  | 'MALFORMED_JSON'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'BODY_TOO_LARGE'
  | 'UNAUTHORIZED'
  | 'RATE_LIMITED'
  | 'ROUTE_NOT_FOUND'

export type ProblemCode = ErrorCode | ApiErrorCode

/**
 * The status a client sees for every code. Typed over every code the packages throw: a new code
 * does not compile until it has a status here.
 */
export const statusOf = {
  INVALID_ARGUMENT: 400,
  INVALID_INPUT: 400,
  INVALID_REQUEST: 400,
  MALFORMED_JSON: 400,
  UNAUTHORIZED: 401,
  NONCE_NOT_FOUND: 401,
  NONCE_USED: 401,
  NONCE_EXPIRED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  CONFLICT: 409,
  IDEMPOTENCY_CONFLICT: 409,
  INVALID_TRANSITION: 409,
  NAME_TAKEN: 409,
  AGENT_LAUNCHING: 409,
  AGENT_PAUSED: 409,
  AGENT_RETIRED: 409,
  DEFINED_IN_CODE: 409,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INVALID_DEFINITION: 422,
  NO_MODEL: 422,
  POLICY_REFUSED: 422,
  OWNER_SIGNATURE_REQUIRED: 428,
  CONTRACT_REVERTED: 422,
  RATE_LIMITED: 429,
  QUOTA_EXCEEDED: 429,
  INVALID_CONFIG: 500,
  INTERNAL: 500,
  STORAGE_FAILED: 500,
  DB_INVALID_URL: 500,
  DB_UNREACHABLE: 503,
  DB_AUTH_FAILED: 500,
  DB_NOT_FOUND: 500,
  DB_CONNECT_FAILED: 503,
  DB_OPEN_FAILED: 500,
  DB_MIGRATION_FAILED: 500,
  TRANSACTION_FAILED: 502,
  INFERENCE_FAILED: 502,
  CHAIN_UNAVAILABLE: 503,
  AGENT_ELSEWHERE: 503,
} as const satisfies Record<ProblemCode, ContentfulStatusCode>

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

/** One field that failed validation: where (`offerings.0.price`) and why. */
export type FieldError = { path: string; message: string }

/** An error the API raises itself, in the one error tree, with its code's status. */
export class HttpError extends BaseError<ApiErrorCode> {
  override name = 'HttpError'
  readonly errors: FieldError[] | undefined
  constructor(code: ApiErrorCode, detail: string, errors?: FieldError[]) {
    super(detail, { code })
    this.errors = errors
  }
}

export const problemSchema = z
  .object({
    type: z.string().describe('`urn:agora:problem:<code>`, e.g. `urn:agora:problem:policy-refused`.'),
    title: z.string(),
    status: z.number().int(),
    code: z.string().describe('The stable error code (`POLICY_REFUSED`); branch on this.'),
    detail: z.string().describe('A sentence for people.'),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .describe('The fields that failed validation.'),
    contractError: z
      .object({ name: z.string(), args: z.array(z.string()) })
      .optional()
      .describe("For contract refusals: the contract's custom error and its arguments."),
  })
  .meta({ id: 'Problem', description: 'Every error response (RFC 9457 problem details).' })

/** The body of every error response (RFC 9457 problem details). */
export type Problem = z.infer<typeof problemSchema>

/** Turns any thrown value into the problem shape; unknown errors become a bare 500 that reveals nothing. */
export function toProblem(error: unknown): Problem {
  if (error instanceof HTTPException) {
    // Hono's own (body limits are ours; its validator's malformed JSON is caught before it).
    const status = error.status as ContentfulStatusCode
    return problem(
      status,
      status === 413 ? 'BODY_TOO_LARGE' : 'INVALID_REQUEST',
      error.message || titles[status] || 'HTTP error',
    )
  }
  if (!(error instanceof BaseError)) return problem(500, 'INTERNAL', 'Something went wrong.')
  const code = error.code as ProblemCode
  const status: number = statusOf[code] ?? 500
  // Internal failures keep their details in the log, not in the response.
  const detail =
    status >= 500 && status !== 502 && status !== 503 ? 'Something went wrong.' : error.shortMessage
  const errors = error instanceof HttpError ? error.errors : issuesOf(error)
  const contractError = (error.meta as { contractError?: Problem['contractError'] } | undefined)
    ?.contractError
  return problem(status, statusOf[code] ? code : 'INTERNAL', detail, errors, contractError)
}

function issuesOf(error: BaseError): FieldError[] | undefined {
  const issues = (error.meta as { issues?: { path: string[] | string; message: string }[] } | undefined)
    ?.issues
  if (!issues?.length) return undefined
  return issues.map((i) => ({ path: Array.isArray(i.path) ? i.path.join('.') : i.path, message: i.message }))
}

function problem(
  status: number,
  code: string,
  detail: string,
  errors?: FieldError[],
  contractError?: Problem['contractError'],
): Problem {
  return {
    type: `urn:agora:problem:${code.toLowerCase().replaceAll('_', '-')}`,
    title: titles[status] ?? 'Error',
    status,
    code,
    detail,
    ...(errors ? { errors } : {}),
    ...(contractError ? { contractError } : {}),
  }
}

/** Seconds a client should wait before trying again, when the error says (quotas). */
export function retryAfterOf(error: unknown): number | undefined {
  if (!(error instanceof BaseError)) return undefined
  const seconds = (error.meta as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0
    ? Math.ceil(seconds)
    : undefined
}

/** Writes a problem response. */
export function problemResponse(c: Context, body: Problem) {
  return c.body(JSON.stringify(body), body.status as ContentfulStatusCode, {
    'content-type': 'application/problem+json',
  })
}

/** Zod issues as field errors (`offerings.0.price`; the value itself is `(body)`). */
export function fieldErrors(error: z.ZodError, root = '(body)'): FieldError[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || root,
    message: issue.message,
  }))
}

/** The documented error responses of a route, by status. */
export function problems(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: titles[status] ?? 'Error',
        content: { 'application/problem+json': { schema: problemSchema } },
      },
    ]),
  )
}
