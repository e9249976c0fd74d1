import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { join } from 'node:path'
import type { Devnet } from '@agora/contracts'
import { createDb } from '@agora/db'
import { createTemporaryDatabase } from '@agora/db/testing'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createRuntime } from '../src/create-runtime.ts'
import type { Runtime } from '../src/runtime.ts'
import { withDevnet } from './harness.ts'

const childScript = join(import.meta.dirname, 'fixtures', 'relayer-child.ts')

describe.skipIf(!process.env.DATABASE_URL)(
  'relayer keys and shards are one process’s at a time (Postgres)',
  () => {
    let devnet: Devnet
    let database: Awaited<ReturnType<typeof createTemporaryDatabase>>
    const children: ChildProcess[] = []
    const key = (i: number) => devnet.manifest.accounts[i]!.privateKey
    const address = (i: number) => devnet.manifest.accounts[i]!.address.toLowerCase()

    /** Starts a runtime process with these relayers: resolves with how it ended up (holding, or refused and why). */
    async function runtimeProcess(indexes: number[], shard = 1) {
      const config = {
        rpcUrl: devnet.rpcUrl,
        manifest: devnet.manifest,
        databaseUrl: database.url,
        relayerKeys: indexes.map(key),
        shard,
      }
      const child = spawn(process.execPath, ['--import', 'tsx', childScript], {
        env: { ...process.env, RELAYER_CONFIG: JSON.stringify(config) },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      children.push(child)
      let stdout = ''
      let stderr = ''
      child.stdout!.on('data', (d) => (stdout += d))
      child.stderr!.on('data', (d) => (stderr += d))
      const outcome = await Promise.race([
        once(child, 'exit').then(([code]) => ({ holding: false, code: code as number | null, stderr })),
        new Promise<{ holding: true }>((resolve) => {
          const poll = setInterval(() => {
            if (!stdout.includes('holding')) return
            clearInterval(poll)
            resolve({ holding: true })
          }, 20)
        }),
      ])
      return { child, ...outcome }
    }

    async function kill(child: ChildProcess) {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGKILL')
      await exited
    }

    beforeAll(async () => {
      devnet = await withDevnet()
      database = await createTemporaryDatabase()
    })
    afterAll(async () => {
      await Promise.all(children.map(kill))
      await database?.drop()
      await devnet?.stop()
    })

    test('behavior: a second process with a relayer key or a shard in use is refused, naming it; a killed or stopped holder frees them at once', async () => {
      const opened = await createDb({ url: database.url })
      let runtime: Runtime | undefined = await createRuntime({
        chain: { rpcUrl: devnet.rpcUrl, manifest: devnet.manifest },
        db: opened.db,
        masterKey: randomBytes(32),
        relayerKeys: [key(12), key(13)],
        log: () => {},
      })
      try {
        // One key shared with this process: refused, and the message names it (not the free one).
        const refused = await runtimeProcess([13, 14])
        expect(refused).toMatchObject({ holding: false, code: 1 })
        const message = (refused as { stderr: string }).stderr
        expect(message).toContain(`Relayer ${address(13)} is in use by another runtime process`)
        expect(message).not.toContain(address(14))

        // Its other key was not kept: a process with it alone starts.
        const first = await runtimeProcess([14, 15])
        expect(first.holding).toBe(true)
        expect((await runtimeProcess([15], 2)).holding).toBe(false)
        // Free keys, but a shard another process serves: refused, naming the shard and its holder.
        const sameShard = await runtimeProcess([16], 1)
        expect(sameShard).toMatchObject({ holding: false, code: 1 })
        expect((sameShard as { stderr: string }).stderr).toContain(
          `Shard 1 is served by another runtime process on this database (process ${first.child.pid}`,
        )
        // Killed, it frees its keys at once: the next process with them starts without waiting.
        await kill(first.child)
        const second = await runtimeProcess([14, 15])
        expect(second.holding).toBe(true)
        await kill(second.child)

        // Stopped, this process frees its keys too.
        await runtime.stop()
        runtime = undefined
        const after = await runtimeProcess([12, 13])
        expect(after.holding).toBe(true)
        await kill(after.child)
      } finally {
        await runtime?.stop()
        await opened.close()
      }
    })
  },
)
