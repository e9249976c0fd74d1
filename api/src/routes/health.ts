import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { AppEnv } from '../env.ts'
import { jsonResponse } from '../openapi.ts'

const healthView = z
  .object({
    status: z.enum(['ok', 'degraded']),
    chainId: z.number().int(),
    block: z
      .number()
      .int()
      .nullable()
      .describe("The chain's latest block; null when the RPC does not answer."),
    database: z.enum(['ok', 'unavailable']),
    recovery: z
      .object({
        running: z.boolean(),
        lanes: z
          .number()
          .int()
          .describe("Agents' (and the factory's) transaction lanes still being recovered."),
        replaying: z.boolean().describe('A rolled-back chain is being given back the transactions it lost.'),
      })
      .describe(
        'Transactions left by a restart, an outage or a rolled-back chain are being finished; meanwhile new ones of the lanes concerned may answer 503.',
      ),
    streams: z.number().int().describe('Event streams open now.'),
    shard: z
      .number()
      .int()
      .describe('The shard of agents this process serves (0 unless several processes share the database).'),
    followsChain: z
      .boolean()
      .describe(
        'This process follows the chain for all of them (one process does, among those sharing the database).',
      ),
    rpcUrl: z.string().optional().describe('On the embedded devnet: where a wallet reaches the chain.'),
  })
  .meta({ id: 'Health' })

const route = createRoute({
  method: 'get',
  path: '/health',
  summary: 'Chain, database and recovery status (503 when either does not answer or recovery runs)',
  description:
    'Answered from what the runtime read at most a second ago (the chain head, a database round trip, the check for a rolled-back chain), so a flood of health checks costs the chain and the database nothing more.',
  tags: ['meta'],
  responses: { 200: jsonResponse(healthView, 'Healthy'), 503: jsonResponse(healthView, 'Degraded') },
})

/**
 * `GET /health`: the chain's latest block, whether the database answers and whether recovery runs
 * (then "degraded": the API serves, but some agents' new transactions may wait); on the devnet its RPC URL.
 */
export function healthRouter(streams: { open: number }, devnetRpcUrl?: string) {
  const app = new OpenAPIHono<AppEnv>()
  app.openapi(route, async (c) => {
    const { chainId, block, database, recovery, shard, followsChain } = await c.var.runtime.health()
    const healthy = block !== null && database === 'ok' && !recovery.running
    const status = healthy ? ('ok' as const) : ('degraded' as const)
    const body = { status, chainId, block, database, recovery, streams: streams.open, shard, followsChain }
    const view = devnetRpcUrl ? { ...body, rpcUrl: devnetRpcUrl } : body
    return healthy ? c.json(view, 200) : c.json(view, 503)
  })
  return app
}
