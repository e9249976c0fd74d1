import { readFileSync } from 'node:fs'
import { generateDrizzleJson, generateMigration } from 'drizzle-kit/api'
import { describe, expect, test } from 'vitest'
import * as schema from './schema.ts'

const drizzleFolder = new URL('../drizzle/', import.meta.url)

describe('schema', () => {
  test('behavior: the generated migrations are up to date (else run `npm run generate` in db/)', async () => {
    const journal = JSON.parse(readFileSync(new URL('meta/_journal.json', drizzleFolder), 'utf8')) as {
      entries: { idx: number; tag: string }[]
    }
    const last = journal.entries.at(-1)!
    const snapshotFile = `meta/${String(last.idx).padStart(4, '0')}_snapshot.json`
    const snapshot = JSON.parse(readFileSync(new URL(snapshotFile, drizzleFolder), 'utf8'))
    const current = generateDrizzleJson(schema, snapshot.id)
    expect(await generateMigration(snapshot, current)).toEqual([])
  })
})
