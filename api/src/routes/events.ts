import { type Db, listActivity, tables } from '@agora/db'
import type { ActivityEvent } from '@agora/runtime'
import { activityViewSchema } from '@agora/runtime'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { desc } from 'drizzle-orm'
import type { Context } from 'hono'
import { type SSEStreamingApi, streamSSE } from 'hono/streaming'
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
  path: '/agents/{id}/events',
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

/** The most recent events a stream of every agent starts with when it names no Last-Event-ID. */
const recentDefault = 50

const economyRoute = createRoute({
  method: 'get',
  path: '/events',
  summary: "Every agent's activity as server-sent events: the latest entries, then live",
  description: [
    'The economy-wide feed, as `GET /agents/{id}/events` is the feed of one agent: each entry as the',
    "caller may see it (every entry of the signed-in caller's own agents; of the others the public kinds",
    'with their public facts). Without `Last-Event-ID` (or `?lastEventId=`) it starts with the latest',
    '`recent` entries (default 50, at most 1,000); with it, after that id, without gaps or repeats. The',
    'same limits hold as for one agent, and streams of both kinds count together.',
  ].join(' '),
  tags: ['agents'],
  ...signedInOrNot,
  request: {
    headers: z.object({ 'last-event-id': eventId }),
    query: z.object({
      lastEventId: eventId,
      recent: z.coerce.number().int().min(0).max(1_000).optional(),
    }),
  },
  responses: {
    200: {
      description: 'An event stream; each `data:` line is an ActivityEvent',
      content: { 'text/event-stream': { schema: activityViewSchema } },
    },
    ...problems(400, 401, 429),
  },
})

/** Where a stream's events come from: stored ones after an id, then live ones. */
type ActivitySource = {
  /** Stored events after `afterId` (at most `limit` scanned); `scanned` says how many rows were read. */
  replay(afterId: number, limit: number): Promise<{ events: ActivityEvent[]; scanned: number; last: number }>
  subscribe(listener: (event: ActivityEvent) => void): () => void
}

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
 * `GET /agents/:id/events` (one agent's activity) and `GET /events` (every agent's) as server-sent
 * events, as the caller may see them. Live events are buffered while the backlog is read, so none
 * falls between the two. Streams are capped per client and in total, replays are paged and bounded,
 * and a consumer that does not read is dropped: streams cannot hold the runtime up. `streams.open`
 * counts open streams.
 */
export function eventsRouter(streams: StreamCount, limits: Partial<EventStreamLimits> = {}) {
  const config = { ...defaultEventStreamLimits, ...limits }
  const perClient = new Map<string, number>()
  const replaySlot = createSlots(config.replayReads)
  const refuse = (c: Context, detail: string) => {
    c.header('retry-after', '10')
    return new HttpError('RATE_LIMITED', detail)
  }

  /** Counts the stream against the limits, then streams `source` from `after` on. */
  const open = (c: Context<AppEnv>, source: ActivitySource, after: number) => {
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
    return streamSSE(c, (stream) => pump(stream, source, after, config, replaySlot).finally(release)) as never
  }

  const app = new OpenAPIHono<AppEnv>()
  app.openapi(route, async (c) => {
    const runtime = c.var.runtime
    const viewer = viewerOf(c)
    const agent = await runtime.getAgent(c.req.valid('param').id)
    const after = Number(c.req.valid('header')['last-event-id'] ?? c.req.valid('query').lastEventId ?? '0')
    return open(
      c,
      {
        async replay(afterId, limit) {
          const events = await runtime.listActivity(agent.id, { afterId, limit, viewer })
          return { events, scanned: events.length, last: events.at(-1)?.id ?? afterId }
        },
        subscribe: (listener) => runtime.subscribe(listener, { agentId: agent.id, viewer }),
      },
      after,
    )
  })
  app.openapi(economyRoute, async (c) => {
    const { runtime, db } = c.var
    const viewer = viewerOf(c)
    const query = c.req.valid('query')
    const given = c.req.valid('header')['last-event-id'] ?? query.lastEventId
    const after = given !== undefined ? Number(given) : await recentStart(db, query.recent ?? recentDefault)
    return open(
      c,
      {
        replay: (afterId, limit) => replayEconomy(runtime, db, { afterId, limit, viewer }),
        subscribe: (listener) => runtime.subscribe(listener, { viewer }),
      },
      after,
    )
  })
  return app
}

type Slots = ReturnType<typeof createSlots>

/**
 * One consumer's side of a stream: live events queue in `pending` (past `config.buffered` the
 * consumer is dropped; it resumes from the database with Last-Event-ID), and each write that the
 * consumer does not take within `config.writeTimeoutMs` drops it too. `send` skips what was sent.
 */
function consumerOf(
  stream: SSEStreamingApi,
  source: ActivitySource,
  after: number,
  config: EventStreamLimits,
) {
  const state = {
    last: after,
    pending: [] as ActivityEvent[],
    open: true,
    wake: undefined as (() => void) | undefined,
  }
  const drop = () => {
    state.open = false
    state.wake?.()
    stream.abort()
  }
  const unsubscribe = source.subscribe((event) => {
    state.pending.push(event)
    if (state.pending.length > config.buffered) drop()
    state.wake?.()
  })
  stream.onAbort(() => {
    state.open = false
    state.wake?.()
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
    return taken && state.open
  }
  const send = async (event: ActivityEvent) => {
    if (event.id <= state.last) return true
    state.last = event.id
    const { id, agentId, kind, data, createdAt } = event
    const json = JSON.stringify({ id, agentId, kind, data, createdAt })
    return write(`event: ${kind}\ndata: ${json}\nid: ${id}\n\n`)
  }
  return { state, write, send, unsubscribe }
}

type Consumer = ReturnType<typeof consumerOf>

/** Writes the backlog after `after`, then live events, until the consumer leaves or falls behind. */
async function pump(
  stream: SSEStreamingApi,
  source: ActivitySource,
  after: number,
  config: EventStreamLimits,
  replaySlot: Slots,
) {
  const consumer = consumerOf(stream, source, after, config)
  try {
    const replayed = await replay(consumer, source, config, replaySlot)
    if (replayed === 'stopped') return
    if (replayed === 'more') {
      // The rest is read on the next connection: nobody replays more than the bound at once.
      await consumer.write(': more stored events follow; reconnect with Last-Event-ID to continue\n\n')
      return
    }
    // Entries the caller may not see were scanned too: live ones up to there are not sent again.
    consumer.state.last = Math.max(consumer.state.last, replayed)
    await followLive(consumer)
  } finally {
    consumer.unsubscribe()
  }
}

/**
 * Sends the stored events after the consumer's last, a page at a time, up to `config.replay` rows
 * scanned: the last id scanned when all were read, `more` when the bound stopped it first, or
 * `stopped` when the consumer left.
 */
async function replay(
  consumer: Consumer,
  source: ActivitySource,
  config: EventStreamLimits,
  replaySlot: Slots,
): Promise<number | 'more' | 'stopped'> {
  let replayed = 0
  let scannedTo = consumer.state.last
  let more = false
  while (consumer.state.open && replayed < config.replay) {
    const limit = Math.min(page, config.replay - replayed)
    const { events, scanned, last } = await replaySlot(() => source.replay(scannedTo, limit))
    for (const row of events) if (!(await consumer.send(row))) return 'stopped'
    replayed += scanned
    scannedTo = Math.max(scannedTo, last)
    more = scanned === limit
    if (!more) return scannedTo
  }
  if (!consumer.state.open) return 'stopped'
  return more ? 'more' : scannedTo
}

/** Sends live events as they come, with a comment line every 15 s so proxies keep an idle stream. */
async function followLive(consumer: Consumer) {
  const { state } = consumer
  while (state.open) {
    if (state.pending.length === 0) {
      await new Promise<void>((resolve) => {
        state.wake = resolve
        setTimeout(resolve, 15_000).unref()
      })
      state.wake = undefined
      if (state.open && state.pending.length === 0 && !(await consumer.write(': keep-alive\n\n'))) return
      continue
    }
    const batch = state.pending
    state.pending = []
    for (const event of batch) if (!(await consumer.send(event))) return
  }
}

/** The id after which the latest `recent` stored entries begin. */
async function recentStart(db: Db, recent: number): Promise<number> {
  const [latest] = await db
    .select({ id: tables.activity.id })
    .from(tables.activity)
    .orderBy(desc(tables.activity.id))
    .limit(1)
  return Math.max(0, (latest?.id ?? 0) - recent)
}

/**
 * Every agent's stored entries after `afterId`, as `viewer` may see them: the rows are read once,
 * and each agent's among them through the runtime's own view of that agent's feed (so what a
 * viewer may see of an agent is decided in one place). Entries of no agent are the operator's.
 */
async function replayEconomy(
  runtime: AppEnv['Variables']['runtime'],
  db: Db,
  parameters: { afterId: number; limit: number; viewer: string | null },
) {
  const { afterId, limit, viewer } = parameters
  const rows = await listActivity(db, { afterId, limit })
  const byAgent = new Map<string, number[]>()
  for (const row of rows)
    if (row.agentId) byAgent.set(row.agentId, [...(byAgent.get(row.agentId) ?? []), row.id])
  const seen = await Promise.all(
    [...byAgent].map(async ([agentId, ids]) => {
      const wanted = new Set(ids)
      const views = await runtime.listActivity(agentId, { afterId: ids[0]! - 1, limit: ids.length, viewer })
      return views.filter((view) => wanted.has(view.id))
    }),
  )
  const events = seen.flat().sort((a, b) => a.id - b.id)
  return { events, scanned: rows.length, last: rows.at(-1)?.id ?? afterId }
}
