import type { Db } from '@agora/db'
import { type Runtime, toRuntimeError } from '@agora/runtime'
import { dashboardRouter } from '@agora/web'
import { OpenAPIHono } from '@hono/zod-openapi'
import type { MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { AppEnv } from './env.ts'
import { errorLogLine } from './error-log.ts'
import { bodyless, forwardElsewhere } from './forward.ts'
import { registerDocs } from './openapi.ts'
import { fieldErrors, HttpError, problemResponse, retryAfterOf, toProblem } from './problem.ts'
import { a2aRouter } from './routes/a2a.ts'
import { agentsRouter } from './routes/agents.ts'
import { authRouter, createRateLimiter } from './routes/auth.ts'
import { devnetRouter } from './routes/devnet.ts'
import { type EventStreamLimits, eventsRouter } from './routes/events.ts'
import { healthRouter } from './routes/health.ts'
import { jobsRouter } from './routes/jobs.ts'
import { marketRouter } from './routes/market.ts'
import { moneyRouter } from './routes/money.ts'
import { tasksRouter } from './routes/tasks.ts'
import { salesRouter } from './routes/x402.ts'

export type CreateAppParameters = {
  runtime: Runtime
  /** Where the API keeps sessions and sign-in nonces (the runtime's database will do). */
  db: Db
  /** The host users sign in to, as it appears in SIWE messages (e.g. `localhost:8787`). */
  domain: string
  /** The origin of SIWE message URIs; `http://<domain>` by default. */
  origin?: string
  /** The chain SIWE messages must name (default: the runtime's). */
  chainId?: number
  /** Largest accepted request body, in bytes (default 64 KiB). */
  maxBodyBytes?: number
  /**
   * Sign-in attempts allowed per client per window (default 20 per minute); nonces, which are
   * stored, may be asked for three times as often.
   */
  signInLimit?: { max: number; windowMs: number }
  /** How old or early a SIWE message's `Issued At` may be, in ms (default 10 minutes). */
  siweMaxAgeMs?: number
  /** Where unexpected errors are reported (default: stderr). */
  log?: (line: string) => void
  /**
   * On the devnet, its RPC URL: `/health` shows it so a person can point a wallet at the chain, and
   * `POST /devnet/faucet` mints dUSD through it (the route exists only then).
   */
  devnetRpcUrl?: string
  /** Faucet requests allowed per client and per target per window (default 5 a minute). */
  faucetLimit?: { max: number; windowMs: number }
  /**
   * Limits on event streams (`GET /agents/:id/events`): per client 10, in total 1,000, 1,000
   * events replayed per connection, slow consumers dropped after 10 s (see `EventStreamLimits`).
   */
  eventStreams?: Partial<EventStreamLimits>
}

/**
 * Builds the API as a Hono app: a pure adapter over the runtime (every rule lives there), plus
 * sign-in. Request and response schemas are zod, and `/openapi.json` is generated from them.
 *
 * @example
 * const app = createApp({ runtime, db, domain: 'localhost:8787' })
 * serve({ fetch: app.fetch, port: 8787 })
 */
export function createApp(parameters: CreateAppParameters) {
  const { runtime, db, domain } = parameters
  const log = parameters.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  const siwe = {
    domain,
    origin: parameters.origin ?? `http://${domain}`,
    chainId: parameters.chainId ?? runtime.chainId,
    maxAgeMs: parameters.siweMaxAgeMs ?? 10 * 60_000,
  }
  const signInLimit = parameters.signInLimit ?? { max: 20, windowMs: 60_000 }
  const limits = {
    verify: createRateLimiter(signInLimit),
    nonce: createRateLimiter({ ...signInLimit, max: signInLimit.max * 3 }),
  }
  const maxSize = parameters.maxBodyBytes ?? 64 * 1024

  const app = new OpenAPIHono<AppEnv>({
    // A request that does not fit its route's schema: one 400 listing every bad field.
    defaultHook: (result) => {
      if (result.success) return
      const what =
        result.target === 'json' ? 'request body' : result.target === 'param' ? 'path' : result.target
      const root = result.target === 'json' ? '(body)' : `(${result.target})`
      throw new HttpError('INVALID_REQUEST', `The ${what} is invalid.`, fieldErrors(result.error, root))
    },
  })
  app.use('*', async (c, next) => {
    c.set('runtime', runtime)
    c.set('db', db)
    c.set('siwe', siwe)
    await next()
  })
  // Before anything reads the body: a request for an agent another process serves goes there whole.
  app.use('*', forwardElsewhere())
  const limitBody = bodyLimit({
    maxSize,
    onError: () => {
      throw new HttpError('BODY_TOO_LARGE', `The body is larger than ${maxSize} bytes.`)
    },
  })
  // A GET or HEAD has no body to limit; asking the request for one would build a full copy of it.
  app.use('*', (c, next) => (bodyless(c.req.method) ? next() : limitBody(c, next)))
  app.use('*', noNulInUrl)
  app.use('*', jsonBodies)
  const streams = { open: 0 }
  app.route('/', healthRouter(streams, parameters.devnetRpcUrl))
  app.route('/auth', authRouter(limits))
  app.route('/agents', agentsRouter())
  app.route('/agents', moneyRouter())
  app.route('/agents', tasksRouter())
  app.route('/', eventsRouter(streams, parameters.eventStreams))
  app.route('/jobs', jobsRouter())
  app.route('/', marketRouter())
  app.route('/', a2aRouter())
  app.route('/', salesRouter(runtime))
  const { devUSD } = runtime.manifest.contracts
  if (parameters.devnetRpcUrl && devUSD)
    app.route(
      '/devnet',
      devnetRouter({
        rpcUrl: parameters.devnetRpcUrl,
        devUSD,
        limit: parameters.faucetLimit,
      }),
    )
  registerDocs(app)
  app.route('/', dashboardRouter({ devnetRpcUrl: devUSD ? parameters.devnetRpcUrl : undefined }))

  app.notFound((c) =>
    problemResponse(
      c,
      toProblem(new HttpError('ROUTE_NOT_FOUND', `No route for ${c.req.method} ${c.req.path}.`)),
    ),
  )
  app.onError((error, c) => {
    // A chain or a database that failed under the request (a lost connection, say) is a 503, not a 500.
    const body = toProblem(toRuntimeError(error, 'the request'))
    // The path only (query strings may carry what must not reach a log), and the error without the
    // values it failed with (see `errorLogLine`).
    if (body.status >= 500) log(`api: ${c.req.method} ${c.req.path} failed: ${errorLogLine(error)}`)
    const retryAfter = retryAfterOf(error)
    if (retryAfter !== undefined) c.header('retry-after', String(retryAfter))
    return problemResponse(c, body)
  })
  return app
}

export type App = ReturnType<typeof createApp>

const nul = { path: '(url)', message: 'must not contain NUL bytes (%00)' }

/**
 * NUL bytes are refused wherever a request carries them (Postgres cannot store them in text, and
 * nothing legitimate needs them): in the path or query here, in a JSON body in `jsonBodies`.
 */
const noNulInUrl: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (/%00/i.test(c.req.url) || c.req.url.includes('\u0000'))
    throw new HttpError('INVALID_REQUEST', 'The URL contains a NUL byte.', [nul])
  await next()
}

/** The path of the first string (or key) in a JSON value that holds a NUL byte. */
function nulIn(value: unknown, path: string[] = []): string[] | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined
  if (value === null || typeof value !== 'object') return undefined
  for (const [key, inner] of Object.entries(value)) {
    if (key.includes('\u0000')) return [...path, key]
    const found = nulIn(inner, [...path, key])
    if (found) return found
  }
  return undefined
}

/**
 * Bodies are JSON: another declared type is a 415, and JSON that does not parse (or holds a NUL
 * byte) a 400, before any route looks at it (the parsed body is kept for the route's validator).
 */
const jsonBodies: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (bodyless(c.req.method)) return next()
  const type = c.req.header('content-type')
  if (type === undefined) return next()
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(type))
    throw new HttpError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.')
  let body: unknown
  try {
    body = await c.req.json()
  } catch (error) {
    if (error instanceof HttpError) throw error
    throw new HttpError('MALFORMED_JSON', 'The body is not valid JSON.')
  }
  const where = nulIn(body)
  if (where)
    throw new HttpError('INVALID_REQUEST', 'The body contains a NUL byte.', [
      { path: where.join('.') || '(body)', message: 'must not contain NUL bytes (\\u0000)' },
    ])
  await next()
}
