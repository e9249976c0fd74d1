import { listActivity } from '@agora/db'
import { Hono } from 'hono'
import type { AppEnv } from './env.ts'
import { json } from './problem.ts'

/**
 * `GET /health`: the chain's latest block and whether the database answers (503 when either does
 * not), and on the devnet its RPC URL.
 */
export function healthRouter(devnetRpcUrl?: string) {
  return new Hono<AppEnv>().get('/health', async (c) => {
    const runtime = c.var.runtime
    const [block, database] = await Promise.all([
      runtime.publicClient.getBlockNumber().catch(() => null),
      listActivity(runtime.context.db, { limit: 1 }).then(
        () => 'ok' as const,
        () => 'unavailable' as const,
      ),
    ])
    const healthy = block !== null && database === 'ok'
    return json(
      c,
      {
        status: healthy ? 'ok' : 'degraded',
        chainId: runtime.context.chainId,
        block,
        database,
        ...(devnetRpcUrl ? { rpcUrl: devnetRpcUrl } : {}),
      },
      healthy ? 200 : 503,
    )
  })
}
