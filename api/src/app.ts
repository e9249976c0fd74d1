import type { Runtime } from '@agora/runtime'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { agentControlRouter } from './agent-control.ts'
import { agentsRouter } from './agents.ts'
import { authRouter, createRateLimiter } from './auth.ts'
import type { AppEnv } from './env.ts'
import { healthRouter } from './health.ts'
import { jobsRouter } from './jobs.ts'
import { marketRouter } from './market.ts'
import { docsRouter } from './openapi.ts'
import { HttpProblem, problemResponse, toProblem } from './problem.ts'

export type CreateAppParameters = {
  runtime: Runtime
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
  /** On the devnet, its RPC URL: `/health` shows it so a person can point a wallet at the chain. */
  devnetRpcUrl?: string
}

/**
 * Builds the API as a Hono app; serve it with `@hono/node-server` or call `app.request()` in tests.
 *
 * @example
 * const app = createApp({ runtime, domain: 'localhost:8787' })
 * serve({ fetch: app.fetch, port: 8787 })
 */
export function createApp(parameters: CreateAppParameters) {
  const { runtime, domain } = parameters
  const log = parameters.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  const siwe = {
    domain,
    origin: parameters.origin ?? `http://${domain}`,
    chainId: parameters.chainId ?? runtime.context.chainId,
    maxAgeMs: parameters.siweMaxAgeMs ?? 10 * 60_000,
  }
  const signInLimit = parameters.signInLimit ?? { max: 20, windowMs: 60_000 }
  const limits = {
    verify: createRateLimiter(signInLimit),
    nonce: createRateLimiter({ ...signInLimit, max: signInLimit.max * 3 }),
  }
  const maxSize = parameters.maxBodyBytes ?? 64 * 1024

  const app = new Hono<AppEnv>()
  app.use('*', async (c, next) => {
    c.set('runtime', runtime)
    c.set('siwe', siwe)
    await next()
  })
  app.use(
    '*',
    bodyLimit({
      maxSize,
      onError: () => {
        throw new HttpProblem(413, 'BODY_TOO_LARGE', `The body is larger than ${maxSize} bytes.`)
      },
    }),
  )
  app.route('/', healthRouter(parameters.devnetRpcUrl))
  app.route('/auth', authRouter(limits))
  app.route('/agents', agentsRouter())
  app.route('/agents', agentControlRouter())
  app.route('/jobs', jobsRouter())
  app.route('/', marketRouter())
  app.route('/', docsRouter())

  app.notFound((c) =>
    problemResponse(
      c,
      toProblem(new HttpProblem(404, 'NOT_FOUND', `No route for ${c.req.method} ${c.req.path}.`)),
    ),
  )
  app.onError((error, c) => {
    const body = toProblem(error)
    if (body.status >= 500) log(`api: ${c.req.method} ${c.req.path} failed: ${error.stack ?? error.message}`)
    return problemResponse(c, body)
  })
  return app
}

export type App = ReturnType<typeof createApp>
