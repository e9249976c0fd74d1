import {
  consumeSiweNonce,
  createSession,
  getSession,
  issueSiweNonce,
  revokeSession,
  type Session,
} from '@agora/db'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Context, MiddlewareHandler } from 'hono'
import { SiweMessage } from 'siwe'
import type { Hex } from 'viem'
import type { AppEnv, SiweConfig } from '../env.ts'
import { bearer, jsonRequest, jsonResponse } from '../openapi.ts'
import { HttpError, problems } from '../problem.ts'

const verifyBody = z
  .strictObject({
    message: z.string().min(1).max(4_000).describe('A Sign-In with Ethereum (EIP-4361) message.'),
    signature: z
      .string()
      .regex(/^0x[0-9a-fA-F]*$/, 'must be 0x-prefixed hex')
      .max(20_000),
  })
  .meta({ id: 'Verify' })

const nonceView = z.object({
  nonce: z.string(),
  expiresAt: z.iso.datetime(),
  domain: z.string().describe('The domain the message must name.'),
  uri: z.string().describe('The origin the message URI must be under.'),
  chainId: z.number().int(),
})
const sessionView = z
  .object({
    token: z.string().describe('Send it as "Authorization: Bearer <token>".'),
    address: z.string(),
    expiresAt: z.iso.datetime(),
  })
  .meta({ id: 'Session' })

const routes = {
  nonce: createRoute({
    method: 'get',
    path: '/nonce',
    summary: 'A single-use sign-in nonce (10 minutes)',
    tags: ['auth'],
    responses: { 200: jsonResponse(nonceView, 'A nonce and what the message must name'), ...problems(429) },
  }),
  verify: createRoute({
    method: 'post',
    path: '/verify',
    summary: 'Exchange a signed SIWE message for a bearer token',
    tags: ['auth'],
    request: { body: jsonRequest(verifyBody) },
    responses: { 200: jsonResponse(sessionView, 'Signed in'), ...problems(400, 401, 413, 415, 429) },
  }),
  logout: createRoute({
    method: 'post',
    path: '/logout',
    summary: 'End the session',
    tags: ['auth'],
    security: bearer,
    responses: { 204: { description: 'Signed out' }, ...problems(401) },
  }),
}

export type RateLimiter = { hit(key: string, now?: number): boolean }

/**
 * Fixed-window counter per key, in memory: enough to slow down guessing on one process. Windows
 * are forgotten once they end, so the map holds only clients seen in the current window.
 */
export function createRateLimiter(parameters: { max: number; windowMs: number }): RateLimiter {
  let windowStart = 0
  let counts = new Map<string, number>()
  return {
    hit(key, now = Date.now()) {
      if (now - windowStart >= parameters.windowMs) {
        windowStart = now
        counts = new Map()
      }
      const count = (counts.get(key) ?? 0) + 1
      counts.set(key, count)
      return count <= parameters.max
    },
  }
}

/**
 * The caller's address as the socket saw it (`@hono/node-server` passes the request as `env.incoming`).
 * Behind a reverse proxy every caller is the proxy: limits keyed by it then apply to everyone at once.
 */
export function clientKey(c: Context): string {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming
  return incoming?.socket?.remoteAddress ?? 'local'
}

function unauthorized(detail: string): HttpError {
  return new HttpError('UNAUTHORIZED', detail)
}

/** Checks every field the server decides on; the signature is checked after, against the chain. */
function checkFields(message: SiweMessage, config: SiweConfig, now: number) {
  if (message.domain !== config.domain) {
    throw unauthorized(`The message is for "${message.domain}", not "${config.domain}".`)
  }
  let origin: string | undefined
  try {
    origin = new URL(message.uri).origin
  } catch {}
  if (origin !== config.origin) throw unauthorized(`The message's URI must be under ${config.origin}.`)
  if (message.chainId !== config.chainId) {
    throw unauthorized(
      `The message names chain ${message.chainId}; this server signs in on chain ${config.chainId}.`,
    )
  }
  if (message.version !== '1') throw unauthorized('Only SIWE version 1 is supported.')
  const issuedAt = message.issuedAt ? Date.parse(message.issuedAt) : Number.NaN
  if (Number.isNaN(issuedAt) || Math.abs(now - issuedAt) > config.maxAgeMs) {
    throw unauthorized('The message was issued too long ago (or in the future); sign a fresh one.')
  }
  if (message.expirationTime !== undefined) {
    const expires = Date.parse(message.expirationTime)
    if (Number.isNaN(expires) || expires <= now) throw unauthorized('The message has expired.')
  }
  if (message.notBefore !== undefined) {
    const notBefore = Date.parse(message.notBefore)
    if (Number.isNaN(notBefore) || notBefore > now) throw unauthorized('The message is not valid yet.')
  }
}

/**
 * Sign-In with Ethereum (EIP-4361): `GET /nonce`, `POST /verify` (a signed message for a bearer
 * token), `POST /logout`. Signatures are verified through the chain, so smart-contract wallets
 * (ERC-1271, and undeployed ones through ERC-6492) sign in like keys do.
 */
export function authRouter(limits: { verify: RateLimiter; nonce: RateLimiter }) {
  const limit = (c: Context, limiter: RateLimiter) => {
    if (limiter.hit(clientKey(c))) return
    c.header('retry-after', '60')
    throw new HttpError('RATE_LIMITED', 'Too many sign-in attempts; wait a minute.')
  }
  const app = new OpenAPIHono<AppEnv>()
  // Rate limits come before anything is parsed or validated: a flood costs nothing.
  app.use('/nonce', async (c, next) => {
    limit(c, limits.nonce)
    await next()
  })
  app.use('/verify', async (c, next) => {
    limit(c, limits.verify)
    await next()
  })
  app.use('/logout', requireAuth)
  app.openapi(routes.nonce, async (c) => {
    const { nonce, expiresAt } = await issueSiweNonce(c.var.db)
    const { domain, origin, chainId } = c.var.siwe
    c.header('cache-control', 'no-store')
    return c.json({ nonce, expiresAt: expiresAt.toISOString(), domain, uri: origin, chainId }, 200)
  })
  app.openapi(routes.verify, async (c) => {
    const body = c.req.valid('json')
    let message: SiweMessage
    try {
      message = new SiweMessage(body.message)
    } catch {
      throw new HttpError('INVALID_REQUEST', 'The message is not a Sign-In with Ethereum message.', [
        { path: 'message', message: 'does not parse as EIP-4361' },
      ])
    }
    checkFields(message, c.var.siwe, Date.now())
    const valid = await c.var.runtime.verifyMessage({
      address: message.address as Hex,
      message: body.message,
      signature: body.signature as Hex,
    })
    if (!valid) throw unauthorized('The signature does not match the message and address.')
    // Consumed last and atomically: a second use of the same message is refused here.
    await consumeSiweNonce(c.var.db, message.nonce)
    const { token, session } = await createSession(c.var.db, { address: message.address })
    return c.json({ token, address: message.address, expiresAt: session.expiresAt.toISOString() }, 200)
  })
  app.openapi(routes.logout, async (c) => {
    await revokeSession(c.var.db, bearerToken(c)!)
    return c.body(null, 204)
  })
  return app
}

function bearerToken(c: Context): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')
  return match?.[1]
}

/** Lets the request through only with a live session's bearer token; the session lands in `c.var.session`. */
export const requireAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearerToken(c)
  if (!token) {
    c.header('www-authenticate', 'Bearer')
    throw unauthorized('Sign in first: send "Authorization: Bearer <token>" from POST /auth/verify.')
  }
  await signIn(c, token)
  await next()
}

/**
 * For routes anyone may read that show more to some (the parties of a job, an agent's owner):
 * without a token the caller is anonymous; a token must be a live session's (401 otherwise, rather
 * than a silent downgrade to the public view).
 */
export const maybeSignedIn: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearerToken(c)
  if (token) await signIn(c, token)
  else if (c.req.header('authorization') !== undefined) {
    c.header('www-authenticate', 'Bearer')
    throw unauthorized('Send the session as "Authorization: Bearer <token>".')
  }
  await next()
}

async function signIn(c: Context<AppEnv>, token: string) {
  const session = await getSession(c.var.db, token)
  if (!session) {
    c.header('www-authenticate', 'Bearer error="invalid_token"')
    throw unauthorized('The session is unknown, expired or signed out.')
  }
  c.set('session', session)
}

/** Who reads, for the runtime's views: the signed-in address, or null for someone anonymous. */
export function viewerOf(c: Context<AppEnv>): string | null {
  return (c.var.session as Session | undefined)?.address ?? null
}

/** What a route anyone may read adds to its definition when signing in shows more. */
export const signedInOrNot = { security: [{}, ...bearer], middleware: maybeSignedIn }

/** What an owner-only route adds to its definition: the bearer requirement, documented and enforced. */
export const ownerOnly = { security: bearer, middleware: requireAuth }
