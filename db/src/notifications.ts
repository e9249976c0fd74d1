import { EventEmitter } from 'node:events'
import type postgres from 'postgres'
import type { Db } from './create-db.ts'

/**
 * Messages between the runtime processes sharing a database: Postgres `LISTEN`/`NOTIFY` on a
 * connection of their own (re-listened after a reconnect). On PGlite, a database only one process
 * opens, a message reaches the listeners of this process. A message is a short text (a job id,
 * say): listeners read what changed from the database, so a message lost while a connection is
 * replaced costs only promptness (the runtime's sweeps catch up).
 */
export type Notifications = {
  /** Sends `payload` to every listener of `channel`, in every process (this one included). */
  notify(channel: string, payload: string): Promise<void>
  /** Calls `listener` with each payload sent on `channel`; resolves once listening, to the function that stops it. */
  listen(channel: string, listener: (payload: string) => void): Promise<() => Promise<void>>
  /** True when other processes may share the database (Postgres). */
  shared: boolean
}

const registry = new WeakMap<Db, Notifications>()

/** Called by `createDb`: the notifications of a database, over `sql` on Postgres. */
export function registerNotifications(db: Db, sql: postgres.Sql | undefined): Notifications {
  const notifications = sql ? postgresNotifications(sql) : localNotifications()
  registry.set(db, notifications)
  return notifications
}

/**
 * The notifications of a database opened by `createDb` (a database made otherwise gets this
 * process's only).
 *
 * @example
 * const stop = await notifications(db).listen('agora_jobs', (jobId) => reload(jobId))
 * await notifications(db).notify('agora_jobs', jobId)
 */
export function notifications(db: Db): Notifications {
  const found = registry.get(db)
  if (found) return found
  const local = localNotifications()
  registry.set(db, local)
  return local
}

function localNotifications(): Notifications {
  const events = new EventEmitter()
  events.setMaxListeners(0)
  return {
    shared: false,
    async notify(channel, payload) {
      events.emit(channel, payload)
    },
    async listen(channel, listener) {
      events.on(channel, listener)
      return async () => void events.off(channel, listener)
    },
  }
}

function postgresNotifications(sql: postgres.Sql): Notifications {
  return {
    shared: true,
    async notify(channel, payload) {
      await sql.notify(channel, payload)
    },
    async listen(channel, listener) {
      const { unlisten } = await sql.listen(channel, listener)
      return async () => void (await unlisten().catch(() => {}))
    },
  }
}
