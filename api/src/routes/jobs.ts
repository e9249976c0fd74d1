import { AuthError, jobViewSchema } from '@agora/runtime'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Context, MiddlewareHandler } from 'hono'
import type { AppEnv } from '../env.ts'
import { jsonRequest, jsonResponse } from '../openapi.ts'
import { HttpError, problems } from '../problem.ts'
import { jobParams } from '../schemas.ts'
import { maybeSignedIn, signedInOrNot, viewerOf } from './auth.ts'

/** Headers of a signed read: an address, a unix time, and its signature of `agora-read-job:<jobId>:<time>`. */
export const readHeaders = {
  address: 'agora-address',
  timestamp: 'agora-timestamp',
  signature: 'agora-signature',
}
/** What a signed read signs (EIP-191; ERC-1271 for a contract wallet). */
export const jobReadMessage = (jobId: string, timestamp: string) => `agora-read-job:${jobId}:${timestamp}`
/** How far a signed read's time may be from the server's. */
const readWindowSeconds = 300

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 20-byte hex address')

const readHeadersSchema = z.object({
  [readHeaders.address]: address
    .optional()
    .openapi({ description: 'Signed read: the reader (instead of a session).' }),
  [readHeaders.timestamp]: z
    .string()
    .regex(/^\d{1,12}$/)
    .optional()
    .openapi({ description: 'Signed read: unix seconds, within 5 minutes of the server’s clock.' }),
  [readHeaders.signature]: z
    .string()
    .regex(/^0x[0-9a-fA-F]+$/)
    .max(10_000)
    .optional()
    .openapi({ description: 'Signed read: the reader’s signature of `agora-read-job:<jobId>:<timestamp>`.' }),
})

const getRoute = createRoute({
  method: 'get',
  path: '/{jobId}',
  summary: 'One job: parties, price, status, hashes, transactions; input and deliverable for its parties',
  description:
    "Anyone reads the public facts (as on chain). The input and the deliverable are shown to the job's parties only (the client, the client's owner, the provider's owner and the evaluator), signed in with a session or, for a wallet that never signs in, with a signed read: the `agora-address`, `agora-timestamp` and `agora-signature` headers (EIP-191, or ERC-1271 for a Safe, of `agora-read-job:<jobId>:<timestamp>`). To anyone else they are null.",
  tags: ['money'],
  ...signedInOrNot,
  request: { params: jobParams, headers: readHeadersSchema },
  responses: { 200: jsonResponse(jobViewSchema, 'The job'), ...problems(400, 401, 403, 404) },
})

const inputBody = z
  .object({
    client: address.describe('Who creates and funds the job on chain (an account or a Safe).'),
    provider: z
      .string()
      .regex(/^\d{1,78}$/, 'must be an on-chain agent id')
      .describe("The provider's on-chain id."),
    offering: z.string().min(1).max(64),
    input: z.unknown().describe("The offering's input."),
    nonce: z.string().min(1).max(128).describe('Any string, so two jobs with the same input differ.'),
    signature: z
      .string()
      .regex(/^0x[0-9a-fA-F]+$/)
      .max(10_000)
      .describe("The client's signature (EIP-191, or ERC-1271) of `agora-job-input:<jobId>:<specHash>`."),
  })
  .meta({
    id: 'JobInputHandOver',
    description: "An escrow job's input, from a client that is not hosted here.",
  })

const inputRoute = createRoute({
  method: 'put',
  path: '/{jobId}/input',
  summary: "Hand over an escrow job's input (a client with any wallet), before or after funding the job",
  description: [
    'The job id must be `jobIdOf(client, provider, specHash)` with specHash = keccak256 of the JSON of',
    '`{ input, nonce, offering, provider }` with keys sorted at every level: the input is bound to the job.',
    'The provider must be hosted here. A funded job is served at once; otherwise the input waits for the',
    'job to be funded. A job funded without an input is declined (refunded) after 10 minutes.',
  ].join(' '),
  tags: ['money'],
  request: { params: jobParams, body: jsonRequest(inputBody) },
  responses: {
    200: jsonResponse(
      z.object({
        jobId: z.string(),
        specHash: z.string(),
        status: z.enum(['funded', 'awaiting funding']),
      }),
      'The input is kept (and served when the job is funded)',
    ),
    ...problems(400, 403, 404, 409),
  },
})

/** `/jobs`: one job (its public facts to anyone, its private part to its parties) and inputs from any wallet. */
export function jobsRouter() {
  const app = new OpenAPIHono<AppEnv>()
  app.use('/:jobId', signedRead)
  app.openapi(getRoute, async (c) =>
    c.json(await c.var.runtime.getJob(c.req.valid('param').jobId, { viewer: readerOf(c) }), 200),
  )
  app.openapi(inputRoute, async (c) => {
    const body = c.req.valid('json')
    const result = await c.var.runtime.handOverInput({
      ...body,
      jobId: c.req.valid('param').jobId,
      client: body.client as `0x${string}`,
      signature: body.signature as `0x${string}`,
    })
    return c.json(result, 200)
  })
  return app
}

const signedReaders = new WeakMap<Context, string>()

/** The session's address, or the signed read's. */
function readerOf(c: Context<AppEnv>): string | null {
  return viewerOf(c) ?? signedReaders.get(c) ?? null
}

/** Checks a signed read, when the request carries one: a wrong or stale signature is a 403, never a quiet anonymous read. */
const signedRead: MiddlewareHandler<AppEnv> = async (c, next) => {
  const reader = c.req.header(readHeaders.address)
  const timestamp = c.req.header(readHeaders.timestamp)
  const signature = c.req.header(readHeaders.signature)
  if (reader === undefined && timestamp === undefined && signature === undefined)
    return maybeSignedIn(c, next)
  if (
    !reader ||
    !timestamp ||
    !signature ||
    !/^0x[0-9a-fA-F]{40}$/.test(reader) ||
    !/^\d{1,12}$/.test(timestamp)
  )
    throw new HttpError(
      'INVALID_REQUEST',
      `A signed read needs the ${Object.values(readHeaders).join(', ')} headers: an address, unix seconds and a hex signature.`,
    )
  if (Math.abs(Date.now() / 1_000 - Number(timestamp)) > readWindowSeconds)
    throw new AuthError(
      `The signed read's time is more than ${readWindowSeconds} s from the server's; sign a fresh one.`,
      { code: 'FORBIDDEN' },
    )
  const message = jobReadMessage(c.req.param('jobId') ?? '', timestamp)
  const valid =
    /^0x[0-9a-fA-F]+$/.test(signature) &&
    (await c.var.runtime.verifyMessage({
      address: reader as `0x${string}`,
      message,
      signature: signature as `0x${string}`,
      asAgent: true,
    }))
  if (!valid)
    throw new AuthError(`The signature is not ${reader}'s over "${message}".`, { code: 'FORBIDDEN' })
  signedReaders.set(c, reader.toLowerCase())
  return maybeSignedIn(c, next)
}
