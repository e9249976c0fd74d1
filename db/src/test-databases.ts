// Test support, not part of the package API: every adapter the storage suite runs against.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import postgres from 'postgres'
import { type CreateDbReturnType, createDb, type Db } from './create-db.ts'

export type TestDatabase = {
  /** Opens the database; call again after `close()` to simulate a restart (persistent only). */
  open(): Promise<CreateDbReturnType>
  dispose(): Promise<void>
}

export type TestAdapter = {
  name: 'pglite' | 'postgres'
  /** Set when the adapter cannot run here; the suite is then reported as skipped. */
  skipReason?: string
  /** A new, empty database. `persistent`: survives `close()` (PGlite then uses a temp dataDir). */
  provision(options?: { persistent?: boolean }): Promise<TestDatabase>
}

const pglite: TestAdapter = {
  name: 'pglite',
  async provision({ persistent = false } = {}) {
    if (!persistent) return { open: () => createDb(), dispose: async () => {} }
    const dataDir = mkdtempSync(join(tmpdir(), 'agora-db-test-'))
    return {
      open: () => createDb({ dataDir }),
      dispose: async () => rmSync(dataDir, { recursive: true, force: true }),
    }
  },
}

const adminUrl = process.env.DATABASE_URL

// Each provisioned database is a fresh `agora_test_<random>` created through the admin
// connection and dropped afterwards, so runs never see each other's rows.
const postgresAdapter: TestAdapter = {
  name: 'postgres',
  ...(adminUrl
    ? {}
    : { skipReason: 'DATABASE_URL is not set (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)' }),
  async provision() {
    const { url, drop } = await createTemporaryDatabase()
    return { open: () => createDb({ url }), dispose: drop }
  },
}

export const testAdapters: TestAdapter[] = [pglite, postgresAdapter]

export async function createTemporaryDatabase(): Promise<{
  url: string
  drop(): Promise<void>
  /** Terminates every connection to it (`pg_terminate_backend`): a database lost under its clients. */
  terminateConnections(): Promise<void>
}> {
  if (!adminUrl) throw new Error('DATABASE_URL is not set')
  const name = `agora_test_${randomBytes(6).toString('hex')}`
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database "${name}"`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async terminateConnections() {
      await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid()`
    },
    async drop() {
      await admin.unsafe(`drop database if exists "${name}" with (force)`)
      await admin.end()
    },
  }
}

const allTables = [
  'activity',
  'usage',
  'intents',
  'payments',
  'jobs',
  'offerings',
  'market_offerings',
  'market_agents',
  'agents',
  'owners',
  'indexer_cursors',
  'indexed_blocks',
  'siwe_nonces',
  'job_inputs',
  'sessions',
]

/** Empties every table, so each test starts from nothing without paying for a new database. */
export async function truncateAll(db: Db): Promise<void> {
  await db.execute(sql.raw(`truncate ${allTables.join(', ')} restart identity cascade`))
}
