import type { ActivityEvent } from '@agora/runtime'
import { activityViewSchema } from '@agora/runtime'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { streamSSE } from 'hono/streaming'
import type { AppEnv } from '../env.ts'
import { problems } from '../problem.ts'
import { agentParams } from '../schemas.ts'

const page = 100

const route = createRoute({
  method: 'get',
  path: '/{id}/events',
  summary: 'Activity as server-sent events: what was stored after Last-Event-ID, then live',
  description:
    'Each event is `id: <n>`, `event: <kind>` and `data: <ActivityEvent as JSON>`. Reconnect with the ' +
    '`Last-Event-ID` header (or `?lastEventId=`) to resume without gaps or repeats.',
  tags: ['agents'],
  request: {
    params: agentParams,
    headers: z.object({
      'last-event-id': z
        .string()
        .regex(/^\d{1,15}$/, 'must be an event id (digits)')
        .optional(),
    }),
    query: z.object({
      lastEventId: z
        .string()
        .regex(/^\d{1,15}$/, 'must be an event id (digits)')
        .optional(),
    }),
  },
  responses: {
    200: {
      description: 'An event stream; each `data:` line is an ActivityEvent',
      content: { 'text/event-stream': { schema: activityViewSchema } },
    },
    ...problems(400, 404),
  },
})

/**
 * `GET /agents/:id/events`: the agent's activity as server-sent events. Live events are buffered
 * while the backlog is read, so none falls between the two. `streams.open` counts open streams.
 */
export function eventsRouter(streams: { open: number }) {
  const app = new OpenAPIHono<AppEnv>()
  app.openapi(route, async (c) => {
    const runtime = c.var.runtime
    const agent = await runtime.getAgent(c.req.valid('param').id)
    let last = Number(c.req.valid('header')['last-event-id'] ?? c.req.valid('query').lastEventId ?? '0')
    return streamSSE(c, async (stream) => {
      streams.open++
      let pending: ActivityEvent[] = []
      let wake: (() => void) | undefined
      const unsubscribe = runtime.subscribe((event) => {
        if (event.agentId !== agent.id) return
        pending.push(event)
        wake?.()
      })
      let open = true
      stream.onAbort(() => {
        open = false
        wake?.()
      })
      const send = async (event: ActivityEvent) => {
        if (event.id <= last) return
        last = event.id
        const data = {
          id: event.id,
          agentId: event.agentId,
          kind: event.kind,
          data: event.data,
          createdAt: event.createdAt,
        }
        await stream.writeSSE({ id: String(event.id), event: event.kind, data: JSON.stringify(data) })
      }
      try {
        for (;;) {
          const rows = await runtime.listActivity(agent.id, { afterId: last, limit: page })
          for (const row of rows) await send(row)
          if (rows.length < page) break
        }
        while (open) {
          if (pending.length === 0) {
            // A comment line every 15 s keeps proxies from closing an idle stream.
            await new Promise<void>((resolve) => {
              wake = resolve
              setTimeout(resolve, 15_000).unref()
            })
            wake = undefined
            if (open && pending.length === 0) await stream.write(': keep-alive\n\n')
            continue
          }
          const batch = pending
          pending = []
          for (const event of batch) await send(event)
        }
      } finally {
        unsubscribe()
        streams.open--
      }
    }) as never
  })
  return app
}
