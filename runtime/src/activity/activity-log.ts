import { EventEmitter } from 'node:events'
import {
  type ActivityKind,
  type AppendActivityParameters,
  appendActivities,
  type Db,
  lastActivityId,
  listActivity,
  notifications,
} from '@agora/db'
import { createBatcher } from '../outbox/batcher.ts'

/** One entry of an agent's activity feed, as stored and as pushed to subscribers. */
export type ActivityEvent = {
  id: number
  agentId: string | null
  kind: ActivityKind
  data: Record<string, unknown>
  createdAt: Date
}

export type ActivityEntry = { agentId: string | null; kind: ActivityKind; data: Record<string, unknown> }

/** Where the runtime writes what its agents do, and where live listeners hear of it. */
export type ActivityLog = {
  record(agentId: string | null, kind: ActivityKind, data: Record<string, unknown>): Promise<void>
  /** Several entries in one write. */
  recordMany(entries: ActivityEntry[]): Promise<void>
  /** Calls `listener` with every entry once stored, in id order; returns the function that stops it. */
  subscribe(listener: (event: ActivityEvent) => void): () => void
  /**
   * On a database other processes share: from now on, listeners hear every process's entries, read
   * back in id order (writers commit in id order, see `appendActivities`) when any process says it
   * wrote some. Resolves to the function that stops it.
   */
  follow(): Promise<() => Promise<void>>
}

const channel = 'agora_activity'
const readPage = 500

/**
 * Entries recorded in the same tick are written together (group commit): one transaction for many
 * concurrent payments and jobs instead of one each.
 *
 * @example
 * const activity = createActivityLog(db)
 * await activity.record(agent.id, 'lifecycle', { event: 'paused' })
 */
export function createActivityLog(db: Db): ActivityLog {
  const events = new EventEmitter<{ activity: [ActivityEvent] }>()
  events.setMaxListeners(0)
  const bus = notifications(db)
  // Set while following a shared database: the last id heard; entries are read from there on.
  let cursor: number | undefined
  let reading: Promise<void> | undefined
  let readAgain = false

  /** Hears what was stored after `cursor`, in order; one read at a time, another after it if asked. */
  function readOn(): Promise<void> {
    if (reading) {
      readAgain = true
      return reading
    }
    reading = (async () => {
      do {
        readAgain = false
        for (let more = true; more && cursor !== undefined; ) {
          const rows = await listActivity(db, { afterId: cursor, limit: readPage })
          for (const row of rows) events.emit('activity', row as ActivityEvent)
          if (rows.length > 0) cursor = rows.at(-1)!.id
          more = rows.length === readPage
        }
      } while (readAgain)
    })().finally(() => {
      reading = undefined
    })
    return reading
  }

  const append = createBatcher(async (batches: AppendActivityParameters[][]) => {
    const rows = await appendActivities(db, batches.flat())
    if (cursor === undefined) {
      for (const row of rows) events.emit('activity', row as ActivityEvent)
      return
    }
    await bus.notify(channel, '').catch(() => {})
    void readOn().catch(() => {})
  })
  return {
    record: (agentId, kind, data) => append([{ agentId, kind, data }]),
    recordMany: (entries) => append(entries),
    subscribe(listener) {
      events.on('activity', listener)
      return () => events.off('activity', listener)
    },
    async follow() {
      if (!bus.shared || cursor !== undefined) return async () => {}
      cursor = await lastActivityId(db)
      // A read that fails (the database away) is made again at the next word from any process.
      const stop = await bus.listen(channel, () => void readOn().catch(() => {}))
      return async () => {
        await stop()
        await reading?.catch(() => {})
        cursor = undefined
      }
    },
  }
}
