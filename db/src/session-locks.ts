import postgres from 'postgres'
import type { Db } from './create-db.ts'
import { ConfigError } from './errors.ts'

/**
 * Locks a process holds for as long as it lives, on a Postgres database several processes share:
 * advisory locks taken on a connection of their own, which the server releases the moment the
 * process dies (a kill, a crash, a lost machine). Names are hashed into the lock's key
 * (`hashtextextended`). Within one process the same name may be held twice (two runtimes of one
 * program): only another process is refused. On PGlite, a database only one process can open,
 * every lock is granted.
 */
export type SessionLocks = {
  /** Takes each lock not held yet; returns the names another process holds (none taken then). */
  take(names: string[]): Promise<string[]>
  release(names: string[]): Promise<void>
  close(): Promise<void>
}

const registry = new WeakMap<Db, SessionLocks>()
const granted: SessionLocks = { take: async () => [], release: async () => {}, close: async () => {} }

/** Called by `createDb`: the locks of a Postgres database at `url`, on their own connection. */
export function registerSessionLocks(db: Db, url: string | undefined): SessionLocks {
  const locks = url === undefined ? granted : postgresLocks(url)
  registry.set(db, locks)
  return locks
}

/**
 * The session locks of a database opened by `createDb`; a database made otherwise has none to
 * offer (every lock is granted: the caller is on its own).
 *
 * @example
 * const taken = await sessionLocks(db).take(['relayer:0xabc…'])
 */
export function sessionLocks(db: Db): SessionLocks {
  return registry.get(db) ?? granted
}

function postgresLocks(url: string): SessionLocks {
  // Names this process holds, with how many holders each (runtimes of one program).
  const held = new Map<string, number>()
  let client: postgres.Sql | undefined
  let pid: number | undefined
  // Unlocking what a replaced connection lost draws a warning notice: nothing to report.
  const connection = () =>
    (client ??= postgres(url, {
      max: 1,
      idle_timeout: 0,
      connect_timeout: 10,
      fetch_types: false,
      onnotice: () => {},
    }))

  /** A connection replaced since the locks were taken lost them: take them again first. */
  async function sameSession(): Promise<void> {
    const [{ pid: now }] = (await connection()`select pg_backend_pid() as pid`) as unknown as [
      { pid: number },
    ]
    if (pid !== undefined && now !== pid && held.size > 0) {
      const lost = await tryLock([...held.keys()])
      if (lost.length > 0)
        throw new ConfigError(
          `Session locks were lost to another process while the database connection was replaced: ${lost.join(', ')}. Stop this process; it must not go on signing with them.`,
        )
    }
    pid = now
  }

  async function tryLock(names: string[]): Promise<string[]> {
    const rows = (await connection()`
      select name, pg_try_advisory_lock(hashtextextended(name, 0)) as taken
      from json_array_elements_text(${JSON.stringify(names)}::text::json) as name`) as unknown as {
      name: string
      taken: boolean
    }[]
    return rows.filter((r) => !r.taken).map((r) => r.name)
  }

  return {
    async take(names) {
      const fresh = names.filter((n) => !held.has(n))
      if (fresh.length > 0) {
        await sameSession()
        const refused = await tryLock(fresh)
        if (refused.length > 0) {
          const taken = fresh.filter((n) => !refused.includes(n))
          if (taken.length > 0)
            await connection()`select pg_advisory_unlock(hashtextextended(name, 0)) from json_array_elements_text(${JSON.stringify(taken)}::text::json) as name`
          return refused
        }
      }
      for (const n of names) held.set(n, (held.get(n) ?? 0) + 1)
      return []
    },
    async release(names) {
      const last = names.filter((n) => {
        const count = (held.get(n) ?? 0) - 1
        if (count > 0) held.set(n, count)
        else held.delete(n)
        return count === 0
      })
      if (last.length > 0 && client)
        await client`select pg_advisory_unlock(hashtextextended(name, 0)) from json_array_elements_text(${JSON.stringify(last)}::text::json) as name`.catch(
          () => {},
        )
    },
    async close() {
      held.clear()
      await client?.end({ timeout: 5 }).catch(() => {})
      client = undefined
    },
  }
}
