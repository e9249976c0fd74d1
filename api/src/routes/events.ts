import type { ActivityEvent } from '@agora/runtime'
import { activityViewSchema } from '@agora/runtime'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { streamSSE } from 'hono/streaming'
import type { AppEnv } from '../env.ts'
import { HttpError, problems } from '../problem.ts'
import { agentParams } from '../schemas.ts'
import { clientKey, signedInOrNot, viewerOf } from './auth.ts'

/** Limits on `GET /agents/:id/events`: what one client and everyone together may hold open and replay. */
export type EventStreamLimits = {
  /** Streams one client (socket address) may hold open at once (default 10). */
  perClient: number
  /** Streams open at once, everyone together (default 1,000). */
  total: number
  /** Stored events one connection replays; when more are stored, the stream ends after them and the client resumes with Last-Event-ID (default 1,000). */
  replay: number
  /** Live events held for a consumer that reads slower than they come; past it, the consumer is dropped (default 1,000). */
  buffered: number
  /** How long one write may wait for a consumer that does not read before it is dropped, in ms (default 10 s). */
  writeTimeoutMs: number
  /** Database reads for replays at once, all streams together; more wait their turn (default 4). */
  replayReads: number
}

export const defaultEventStreamLimits: EventStreamLimits = {
  perClient: 10,
  total: 1_000,
  replay: 1_000,
  buffered: 1_000,
  writeTimeoutMs: 10_000,
  replayReads: 4,
}

/** What `/health` shows: event streams open now. */
export type StreamCount = { open: number }

const page = 100
const eventId = z
  .string()
  .regex(/^\d{1,15}$/, 'must be an event id (digits)')
  .optional()

const route = createRoute({
  method: 'get',
  path: '/{id}/events',
  summary: 'Activity as server-sent events: what was stored after Last-Event-ID, then live',
  description: [
    'Each event is `id: <n>`, `event: <kind>` and `data: <ActivityEvent as JSON>`. Reconnect with the',
    "`Last-Event-ID` header (or `?lastEventId=`) to resume without gaps or repeats. The agent's owner",
    '(signed in) gets every entry; anyone else the public kinds (job, payment, lifecycle, tx) without',
    'memos, goals, answers, reasons or logs. One connection replays at most 1,000 stored events: when',
    'more are stored the stream ends after them, and reconnecting with the last id continues. A client',
    'holds at most 10 streams (429 with Retry-After beyond); a consumer that stops reading is dropped.',
  ].join(' '),
  tags: ['agents'],
  ...signedInOrNot,
  request: {
    params: agentParams,
    headers: z.object({ 'last-event-id': eventId }),
    query: z.object({ lastEventId: eventId }),
  },
  responses: {
    200: {
      description: 'An event stream; each `data:` line is an ActivityEvent',
      content: { 'text/event-stream': { schema: activityViewSchema } },
    },
    ...problems(400, 401, 404, 429),
  },
})

/** A small counting semaphore: at most `size` holders at once, the rest wait in order. */
function createSlots(size: number) {
  let free = size
  const waiting: (() => void)[] = []
  return async function run<T>(work: () => Promise<T>): Promise<T> {
    if (free > 0) free--
    else await new Promise<void>((resolve) => waiting.push(resolve))
    try {
      return await work()
    } finally {
      const next = waiting.shift()
      if (next) next()
      else free++
    }
  }
}

/**
 * `GET /agents/:id/events`: the agent's activity as server-sent events, as the caller may see it.
 * Live events are buffered while the backlog is read, so none falls between the two. Streams are
 * capped per client and in total, replays are paged and bounded, and a consumer that does not read
 * is dropped: streams cannot hold the runtime up. `streams.open` counts open streams.
 */
export function eventsRouter(streams: StreamCount, limits: Partial<EventStreamLimits> = {}) {
  const config = { ...defaultEventStreamLimits, ...limits }
  const perClient = new Map<string, number>()
  const replaySlot = createSlots(config.replayReads)
  const refuse = (c: Context, detail: string) => {
    c.header('retry-after', '10')
    return new HttpError('RATE_LIMITED', detail)
  }
  const app = new OpenAPIHono<AppEnv>()
  app.openapi(route, async (c) => {
    const runtime = c.var.runtime
    const viewer = viewerOf(c)
    const agent = await runtime.getAgent(c.req.valid('param').id)
    let last = Number(c.req.valid('header')['last-event-id'] ?? c.req.valid('query').lastEventId ?? '0')
    const client = clientKey(c)
    const held = perClient.get(client) ?? 0
    if (held >= config.perClient)
      throw refuse(c, `This client holds ${held} event streams already; close one first.`)
    if (streams.open >= config.total) throw refuse(c, 'Too many event streams are open; try again shortly.')
    // Counted before the stream starts, so concurrent requests cannot all pass the checks above.
    perClient.set(client, held + 1)
    streams.open++
    const release = () => {
      streams.open--
      const left = (perClient.get(client) ?? 1) - 1
      if (left > 0) perClient.set(client, left)
      else perClient.delete(client)
    }
    return streamSSE(c, async (stream) => {
      let pending: ActivityEvent[] = []
      let wake: (() => void) | undefined
      let open = true
      const drop = () => {
        open = false
        wake?.()
        stream.abort()
      }
      const unsubscribe = runtime.subscribe(
        (event) => {
          pending.push(event)
          // A consumer this far behind is dropped; it resumes from the database with Last-Event-ID.
          if (pending.length > config.buffered) drop()
          wake?.()
        },
        { agentId: agent.id, viewer },
      )
      stream.onAbort(() => {
        open = false
        wake?.()
      })
      /** Writes, or drops a consumer that has not taken the write within the timeout. */
      const write = async (text: string) => {
        let timer: ReturnType<typeof setTimeout> | undefined
        const taken = await Promise.race([
          stream.write(text).then(() => true),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(false), config.writeTimeoutMs)
          }),
        ])
        clearTimeout(timer)
        if (!taken) drop()
        return taken && open
      }
      const send = async (event: ActivityEvent) => {
        if (event.id <= last) return true
        last = event.id
        const data = {
          id: event.id,
          agentId: event.agentId,
          kind: event.kind,
          data: event.data,
          createdAt: event.createdAt,
        }
        return write(`event: ${event.kind}\ndata: ${JSON.stringify(data)}\nid: ${event.id}\n\n`)
      }
      try {
        let replayed = 0
        let more = false
        while (open && replayed < config.replay) {
          const limit = Math.min(page, config.replay - replayed)
          const rows = await replaySlot(() =>
            runtime.listActivity(agent.id, { afterId: last, limit, viewer }),
          )
          for (const row of rows) if (!(await send(row))) return
          replayed += rows.length
          more = rows.length === limit
          if (!more) break
        }
        if (more) {
          // The rest is read on the next connection: nobody replays more than the bound at once.
          await write(': more stored events follow; reconnect with Last-Event-ID to continue\n\n')
          return
        }
        while (open) {
          if (pending.length === 0) {
            // A comment line every 15 s keeps proxies from closing an idle stream.
            await new Promise<void>((resolve) => {
              wake = resolve
              setTimeout(resolve, 15_000).unref()
            })
            wake = undefined
            if (open && pending.length === 0 && !(await write(': keep-alive\n\n'))) return
            continue
          }
          const batch = pending
          pending = []
          for (const event of batch) if (!(await send(event))) return
        }
      } finally {
        unsubscribe()
        release()
      }
    }) as never
  })
  return app
}
