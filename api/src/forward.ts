import { BaseError } from '@agora/runtime'
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from './env.ts'

/** A GET or HEAD: no body for a route to read (nor to limit, parse or keep aside). */
export function bodyless(method: string): boolean {
  return method === 'GET' || method === 'HEAD'
}

/** Marks a request one process forwarded to another: it is never forwarded again. */
export const forwardedHeader = 'x-agora-forwarded'

// What is about this hop only, not the request or response it carries.
const hopByHop = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host', 'content-length']

/**
 * Sends a request for an agent another process serves (the runtime answered `AGENT_ELSEWHERE`:
 * nothing was done here) to that process, and answers with its response. The request is kept as
 * it came (its body is buffered by the clone; the body limit applies first at the other end too).
 * A request forwarded once is not forwarded again; a holder that does not answer (it died, and its
 * shard is being taken over) leaves the 503 with a `Retry-After`.
 */
export function forwardElsewhere(parameters: { timeoutMs?: number } = {}): MiddlewareHandler<AppEnv> {
  const timeoutMs = parameters.timeoutMs ?? 120_000
  return async (c, next) => {
    // A body is read by the route: kept aside first. A request without one is read from `c.req.raw`
    // only when it is forwarded, so a plain read (GET /health) never pays for a copy.
    const kept = bodyless(c.req.method) ? undefined : c.req.raw.clone()
    await next()
    const error = c.error
    if (!(error instanceof BaseError) || error.code !== 'AGENT_ELSEWHERE') return
    const url = error.meta?.url
    c.header('retry-after', '2')
    if (typeof url !== 'string' || c.req.header(forwardedHeader)) return
    const copy = kept ?? c.req.raw
    const target = new URL(url)
    const original = new URL(copy.url)
    target.pathname = `${target.pathname.replace(/\/$/, '')}${original.pathname}`
    target.search = original.search
    const headers = new Headers(copy.headers)
    for (const name of hopByHop) headers.delete(name)
    headers.set(forwardedHeader, '1')
    const answer = await fetch(target, {
      method: copy.method,
      headers,
      body: kept ? await kept.arrayBuffer() : undefined,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    }).catch(() => undefined)
    if (!answer) return
    const out = new Headers(answer.headers)
    for (const name of [...hopByHop, 'content-encoding']) out.delete(name)
    c.res = new Response(answer.body, { status: answer.status, headers: out })
  }
}
