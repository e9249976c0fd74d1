import { listActivity } from '@agora/db'
import type { ActivityEvent } from '@agora/runtime'
import type { Context } from 'hono'
import { streamSSE } from 'hono/streaming'
import type { AppEnv } from './env.ts'
import { HttpProblem } from './problem.ts'

const page = 100

/**
 * `GET /agents/:id/events`: the agent's activity as server-sent events. What was stored after
 * `Last-Event-ID` (header, or `?lastEventId=`) comes first, then events as they happen. Live events
 * are buffered while the backlog is read, so none falls between the two.
 */
export async function agentEvents(c: Context<AppEnv>) {
  const runtime = c.var.runtime
  const agent = await runtime.agent(c.req.param('id')!).info()
  const raw = c.req.header('last-event-id') ?? c.req.query('lastEventId') ?? '0'
  if (!/^\d{1,15}$/.test(raw)) {
    throw new HttpProblem(400, 'INVALID_REQUEST', 'Last-Event-ID must be an event id (digits).', [
      { path: 'Last-Event-ID', message: 'must be digits' },
    ])
  }
  let last = Number(raw)
  return streamSSE(c, async (stream) => {
    let pending: ActivityEvent[] = []
    let wake: (() => void) | undefined
    const listener = (event: ActivityEvent) => {
      if (event.agentId !== agent.id) return
      pending.push(event)
      wake?.()
    }
    runtime.context.events.on('activity', listener)
    let open = true
    stream.onAbort(() => {
      open = false
      wake?.()
    })
    const send = async (event: { id: number; kind: string; data: unknown; createdAt: Date }) => {
      if (event.id <= last) return
      last = event.id
      await stream.writeSSE({
        id: String(event.id),
        event: event.kind,
        data: JSON.stringify({
          id: event.id,
          kind: event.kind,
          data: event.data,
          createdAt: event.createdAt,
        }),
      })
    }
    try {
      for (;;) {
        const rows = await listActivity(runtime.context.db, { agentId: agent.id, afterId: last, limit: page })
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
      runtime.context.events.off('activity', listener)
    }
  })
}
