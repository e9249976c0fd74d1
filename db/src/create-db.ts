import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm'
import { type ExtractTablesWithRelations, sql } from 'drizzle-orm'
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator'
import postgres from 'postgres'
import { StorageError, type StorageErrorCode } from './errors.ts'
import { registerNotifications } from './notifications.ts'
import * as schema from './schema.ts'
import { registerSessionLocks } from './session-locks.ts'

export type Schema = typeof schema

/** One database handle for both drivers: callers write one code path for Postgres and PGlite. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>

/** What `transaction(db, fn)` hands to `fn`; a `Db` in every respect, plus `rollback()`. */
export type Transaction = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>

export type CreateDbParameters = {
  /** `postgres://` URL: connect to that server. Without it, an embedded PGlite is used. */
  url?: string
  /** PGlite only: keep the database in this directory (created if missing). In memory without it. */
  dataDir?: string
  /** Receives one line per notable event (connect, migrations, server notices). */
  log?: (line: string) => void
}

export type CreateDbReturnType = {
  db: Db
  kind: 'postgres' | 'pglite'
  close(): Promise<void>
}

const migrationsFolder = fileURLToPath(new URL('../drizzle', import.meta.url))

// Arbitrary but fixed: every process migrating the same Postgres database takes this lock first.
const migrationLockKey = 7_220_418_411

/**
 * Opens the database and brings its schema up to date: postgres-js when `url` is given, PGlite
 * otherwise.
 *
 * @example
 * const { db, close } = await createDb({ url: process.env.DATABASE_URL })
 * const agent = await getAgent(db, 'agt_123')
 * await close()
 */
export async function createDb(parameters: CreateDbParameters = {}): Promise<CreateDbReturnType> {
  return parameters.url === undefined ? openPglite(parameters) : openPostgres(parameters.url, parameters.log)
}

async function openPglite({ dataDir, log }: CreateDbParameters): Promise<CreateDbReturnType> {
  const where = dataDir ?? 'memory'
  let client: PGlite
  try {
    if (dataDir) mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    // pg_trgm: the market's text search is answered by a trigram index (see the schema).
    client = new PGlite({ ...(dataDir && { dataDir }), extensions: { pg_trgm } })
    await client.waitReady
    if (dataDir) makePrivate(dataDir)
  } catch (cause) {
    throw new StorageError(`Cannot open PGlite database (${where}).`, { code: 'DB_OPEN_FAILED', cause })
  }
  const db = drizzlePglite({ client, schema })
  try {
    await migratePglite(db, { migrationsFolder })
  } catch (cause) {
    await client.close().catch(() => {})
    throw migrationError(`PGlite (${where})`, cause)
  }
  log?.(`db: pglite (${where}) ready`)
  registerSessionLocks(db, undefined)
  registerNotifications(db, undefined)
  embedded.add(db)
  return { db, kind: 'pglite', close: once(() => client.close()) }
}

const embedded = new WeakSet<Db>()

/**
 * Brings the query planner's statistics up to date on PGlite, which has no autovacuum to do it
 * (Postgres does it by itself: a no-op there). Without them the planner takes a table of ten
 * thousand rows for a dozen, and sorts the whole market for each search instead of reading its index
 * in order. Cheap (milliseconds for thousands of rows): the runtime runs it every minute.
 *
 * @example
 * await refreshStatistics(db)
 */
export async function refreshStatistics(db: Db): Promise<void> {
  if (embedded.has(db)) await db.execute(sql`analyze`)
}

/**
 * PGlite creates its files world-writable (0666): anyone on the machine could turn off fsync or make
 * the database read-only. The directory becomes 0700 (which alone keeps others out of files created
 * later) and what is in it owner-only, also for a directory an older version left open.
 */
function makePrivate(path: string) {
  const stat = lstatSync(path)
  if (stat.isSymbolicLink()) return
  if (stat.isDirectory()) {
    chmodSync(path, 0o700)
    for (const entry of readdirSync(path)) makePrivate(join(path, entry))
  } else if ((stat.mode & 0o077) !== 0) {
    chmodSync(path, stat.mode & 0o700)
  }
}

async function openPostgres(url: string, log: CreateDbParameters['log']): Promise<CreateDbReturnType> {
  const where = redactUrl(url)
  const onnotice = (notice: postgres.Notice) => log?.(`db: postgres notice: ${notice.message}`)
  // No array-type lookup on each connect: drizzle parses its array columns itself, and a connection
  // lost during that lookup rejects a promise postgres.js leaves unhandled (a crash in node).
  const sql = postgres(url, { connect_timeout: 10, fetch_types: false, onnotice })
  const db = drizzlePostgres({ client: sql, schema })
  const end = () => sql.end({ timeout: 5 })

  // A session-level advisory lock on a connection of its own serializes migrators across processes;
  // drizzle's migrator alone would race on CREATE SCHEMA and CREATE TABLE. (Its own client of one
  // connection rather than `reserve()`, which never answers when types are not fetched.)
  const lock = postgres(url, { connect_timeout: 10, max: 1, idle_timeout: 0, onnotice })
  try {
    await lock`select pg_advisory_lock(${migrationLockKey})`
  } catch (cause) {
    await Promise.all([end(), lock.end({ timeout: 5 })]).catch(() => {})
    throw connectError(where, cause)
  }
  const migrated = await migratePostgres(db, { migrationsFolder }).then(
    () => ({ ok: true as const }),
    (cause: unknown) => ({ ok: false as const, cause }),
  )
  await lock`select pg_advisory_unlock(${migrationLockKey})`.catch(() => {})
  await lock.end({ timeout: 5 }).catch(() => {})
  if (!migrated.ok) {
    await end().catch(() => {})
    throw migrationError(where, migrated.cause)
  }
  log?.(`db: postgres ${where} ready`)
  const locks = registerSessionLocks(db, url)
  registerNotifications(db, sql)
  return { db, kind: 'postgres', close: once(async () => void (await Promise.all([locks.close(), end()]))) }
}

/**
 * The crash postgres.js 3.4.9 throws from a timer when a connection closes while a small write is
 * still buffered (porsager/postgres#1154 and #1208; the fixes, #1168, #1176 and #1209, are not
 * released): `TypeError: Cannot read properties of null (reading 'write')` in `nextWrite`. It
 * escapes every `await`, so a process that must survive a lost database recognises it here.
 *
 * @example
 * process.on('uncaughtException', (error) => { if (!isDriverClosedSocketCrash(error)) throw error })
 */
export function isDriverClosedSocketCrash(error: unknown): boolean {
  return (
    error instanceof TypeError &&
    /reading 'write'|evaluating 'socket\.write'/.test(error.message) &&
    /postgres[\\/]src[\\/]connection\.js/.test(error.stack ?? '')
  )
}

function redactUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    // No `cause` on purpose: node's URL error carries the input, password included.
    throw new StorageError('Invalid database URL: expected postgres://user:password@host:port/database.', {
      code: 'DB_INVALID_URL',
    })
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:')
    throw new StorageError(
      `Invalid database URL: scheme "${parsed.protocol}" is not postgres: or postgresql:. Leave the URL out to use the embedded PGlite.`,
      { code: 'DB_INVALID_URL' },
    )
  if (parsed.password) parsed.password = '***'
  return parsed.toString()
}

function connectError(where: string, cause: unknown): StorageError {
  const code = errorCode(cause)
  const reason = rootMessage(cause)
  const [errorKind, text]: [StorageErrorCode, string] =
    code === '28P01' || code === '28000' || code?.startsWith('SASL')
      ? ['DB_AUTH_FAILED', 'Postgres refused the credentials']
      : code === '3D000'
        ? ['DB_NOT_FOUND', 'The Postgres database does not exist']
        : code &&
            [
              'ECONNREFUSED',
              'ENOTFOUND',
              'EAI_AGAIN',
              'ETIMEDOUT',
              'EHOSTUNREACH',
              'CONNECT_TIMEOUT',
            ].includes(code)
          ? ['DB_UNREACHABLE', 'Cannot reach Postgres']
          : ['DB_CONNECT_FAILED', 'Cannot connect to Postgres']
  return new StorageError(`${text} at ${where}: ${reason}`, { code: errorKind, cause })
}

function migrationError(where: string, cause: unknown): StorageError {
  const reason = rootMessage(cause)
  return new StorageError(`Migrating the database at ${where} failed: ${reason}`, {
    code: 'DB_MIGRATION_FAILED',
    details: `migrations folder: ${migrationsFolder}`,
    cause,
  })
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string') return code
  // Node reports a refused dual-stack connect as an AggregateError holding one error per address.
  const errors = (error as { errors?: unknown }).errors
  return Array.isArray(errors) ? errorCode(errors[0]) : undefined
}

// The most specific message: drizzle's "Failed query: <whole migration>" wraps the server's
// one-line reason, and node's AggregateError has no message of its own.
function rootMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  if (error.cause instanceof Error) return rootMessage(error.cause)
  if (error instanceof AggregateError && error.errors[0] instanceof Error) return rootMessage(error.errors[0])
  return error.message || (errorCode(error) ?? error.name)
}

function once(fn: () => Promise<unknown>): () => Promise<void> {
  let closing: Promise<void> | undefined
  return () => {
    closing ??= fn().then(() => {})
    return closing
  }
}
