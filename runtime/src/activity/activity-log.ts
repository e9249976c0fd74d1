import { EventEmitter } from 'node:events'
import { type ActivityKind, type AppendActivityParameters, appendActivities, type Db } from '@agora/db'
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
  /** Calls `listener` with every entry once stored; returns the function that stops it. */
  subscribe(listener: (event: ActivityEvent) => void): () => void
}

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
  const append = createBatcher(async (batches: AppendActivityParameters[][]) => {
    const rows = await appendActivities(db, batches.flat())
    for (const row of rows) events.emit('activity', row as ActivityEvent)
  })
  return {
    record: (agentId, kind, data) => append([{ agentId, kind, data }]),
    recordMany: (entries) => append(entries),
    subscribe(listener) {
      events.on('activity', listener)
      return () => events.off('activity', listener)
    },
  }
}
