// Issue 10, finding 11: PGlite's files were created world-writable (0666), so anyone on the machine
// could turn off fsync or make the database read-only. The data directory is the owner's alone.
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { createDb } from './create-db.ts'

const root = mkdtempSync(join(tmpdir(), 'agora-perms-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** Every path under `dir` (itself included) whose mode lets anyone but the owner in. */
function openToOthers(dir: string): string[] {
  const open: string[] = []
  const visit = (path: string) => {
    const stat = statSync(path)
    if ((stat.mode & 0o077) !== 0) open.push(`${path} ${(stat.mode & 0o777).toString(8)}`)
    if (stat.isDirectory()) for (const entry of readdirSync(path)) visit(join(path, entry))
  }
  visit(dir)
  return open
}

describe('createDb (PGlite files)', () => {
  test('behavior: the data directory is 0700 and nothing in it is readable or writable by others', async () => {
    const dataDir = join(root, 'fresh', 'db')
    const { db, close } = await createDb({ dataDir })
    await db.execute('create table written_after_open (x int)')
    await close()
    expect(statSync(dataDir).mode & 0o777).toBe(0o700)
    expect(openToOthers(dataDir)).toEqual([])
  })

  test('behavior: a data directory left open by an older version is made private at the next open', async () => {
    const dataDir = join(root, 'older', 'db')
    await (await createDb({ dataDir })).close()
    // What an earlier version left: everything world-writable.
    const widen = (path: string) => {
      const stat = statSync(path)
      chmodSync(path, stat.isDirectory() ? 0o777 : 0o666)
      if (stat.isDirectory()) for (const entry of readdirSync(path)) widen(join(path, entry))
    }
    widen(dataDir)
    await (await createDb({ dataDir })).close()
    expect(openToOthers(dataDir)).toEqual([])
  })
})
