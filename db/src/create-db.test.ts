import { sql } from 'drizzle-orm'
import postgres from 'postgres'
import { describe, expect, test } from 'vitest'
import { getAgent, insertAgent } from './agents.ts'
import { createDb } from './create-db.ts'
import { StorageError } from './errors.ts'
import { createTemporaryDatabase } from './test-databases.ts'
import { migrationCount } from './test-store.ts'

const databaseUrl = process.env.DATABASE_URL
if (!databaseUrl) console.warn('[@agora/db] createDb tests on postgres skipped: DATABASE_URL is not set')

async function openError(parameters: Parameters<typeof createDb>[0]): Promise<StorageError> {
  const error = await createDb(parameters).then(
    () => undefined,
    (error: unknown) => error,
  )
  expect(error).toBeInstanceOf(StorageError)
  return error as StorageError
}

describe('createDb', () => {
  test('default: in-memory PGlite, migrated', async () => {
    const lines: string[] = []
    const { db, kind, close } = await createDb({ log: (line) => lines.push(line) })
    expect(kind).toBe('pglite')
    expect(lines).toEqual(['db: pglite (memory) ready'])
    const agent = await insertAgent(db, {
      owner: '0x00000000000000000000000000000000000000aa',
      name: 'a',
      signerAddress: '0x00000000000000000000000000000000000000bb',
      encryptedKey: 'c',
    })
    expect(await getAgent(db, agent.id)).toEqual(agent)
    await close()
    await close()
  })

  test('behavior: an unreachable server is named, without its password', async () => {
    const error = await openError({ url: 'postgres://agora:s3cret@127.0.0.1:1/agora' })
    expect(error.code).toBe('DB_UNREACHABLE')
    expect(error.shortMessage).toMatch(
      /^Cannot reach Postgres at postgres:\/\/agora:\*\*\*@127\.0\.0\.1:1\/agora: /,
    )
    expect(error.message).not.toContain('s3cret')
    expect(error.cause).toBeDefined()
  })

  test('behavior: a malformed URL is refused without echoing it', async () => {
    const error = await openError({ url: 'postgres://agora:s3cret@[bad/agora' })
    expect(error.code).toBe('DB_INVALID_URL')
    expect(error.message).not.toContain('s3cret')
    expect((await openError({ url: 'mysql://localhost/agora' })).code).toBe('DB_INVALID_URL')
  })

  test('behavior: a PGlite dataDir is created when missing', async () => {
    const { mkdtempSync, rmSync, existsSync } = await import('node:fs')
    const { join } = await import('node:path')
    const { tmpdir } = await import('node:os')
    const parent = mkdtempSync(join(tmpdir(), 'agora-db-test-'))
    const dataDir = join(parent, 'nested', 'pgdata')
    try {
      const { close } = await createDb({ dataDir })
      await close()
      expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true)
    } finally {
      rmSync(parent, { recursive: true, force: true })
    }
  })
})

describe.skipIf(!databaseUrl)(
  databaseUrl ? 'createDb on postgres' : 'createDb on postgres (skipped: DATABASE_URL is not set)',
  () => {
    test('default', async () => {
      const temporary = await createTemporaryDatabase()
      try {
        const lines: string[] = []
        const { db, kind, close } = await createDb({ url: temporary.url, log: (line) => lines.push(line) })
        expect(kind).toBe('postgres')
        expect(lines.at(-1)).toMatch(/^db: postgres postgres:\/\/.*ready$/)
        expect(await db.select({ one: sql<number>`1` }).from(sql`(select 1) as t`)).toEqual([{ one: 1 }])
        await close()
      } finally {
        await temporary.drop()
      }
    })

    test('behavior: processes starting together migrate once', async () => {
      const temporary = await createTemporaryDatabase()
      try {
        const opened = await Promise.all(Array.from({ length: 4 }, () => createDb({ url: temporary.url })))
        const [{ db }] = opened as [(typeof opened)[number]]
        const applied = await db
          .select({ n: sql<number>`count(*)::int` })
          .from(sql`drizzle.__drizzle_migrations`)
        expect(applied).toEqual([{ n: migrationCount }])
        await Promise.all(opened.map(({ close }) => close()))
      } finally {
        await temporary.drop()
      }
    })

    test('behavior: a failing migration names the reason and releases the lock', async () => {
      const temporary = await createTemporaryDatabase()
      try {
        const admin = postgres(temporary.url, { max: 1, onnotice: () => {} })
        await admin`create table activity (clash int)`
        const error = await openError({ url: temporary.url })
        expect(error.code).toBe('DB_MIGRATION_FAILED')
        expect(error.shortMessage).toContain('relation "activity" already exists')
        await admin`drop table activity`
        await admin.end()
        const { close } = await createDb({ url: temporary.url })
        await close()
      } finally {
        await temporary.drop()
      }
    })

    test('behavior: a missing database is named', async () => {
      const url = new URL(databaseUrl!)
      url.pathname = '/agora_does_not_exist'
      const error = await openError({ url: url.toString() })
      expect(error.code).toBe('DB_NOT_FOUND')
      expect(error.shortMessage).toContain('agora_does_not_exist')
    })
  },
)
