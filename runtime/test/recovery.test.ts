import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Devnet } from '@agora/contracts'
import { listPayments } from '@agora/db'
import { parseUnits } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type CrashConfig, reopenCrashRuntime } from './fixtures/crash-agents.ts'
import { prepareCrashRun } from './fixtures/crash-setup.ts'
import { devnetClients, withDevnet } from './harness.ts'

const child = join(import.meta.dirname, 'fixtures', 'crash-child.ts')

/** Resolves `promise`, or rejects saying what hung after `ms`. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} hung for ${ms} ms`)), ms)),
  ])
}

/**
 * Issue 10, finding 1: at restart, recovery waited on a stalled transaction with no time limit before
 * the API listened. Here the last run left a payment signed and sent, and the chain does not mine it.
 */
describe('recovery', () => {
  let devnet: Devnet
  let dataDir: string
  let config: CrashConfig
  const chain = () => devnetClients(devnet)
  const automine = (on: boolean) =>
    chain().publicClient.request({ method: 'evm_setAutomine' as never, params: [on] as never })

  beforeAll(async () => {
    devnet = await withDevnet()
    dataDir = mkdtempSync(join(tmpdir(), 'agora-recovery-'))
    config = await prepareCrashRun(devnet, { dataDir }, [18, 19])
  })
  afterAll(async () => {
    await automine(true).catch(() => {})
    await devnet?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  test('behavior: start() does not wait on a stuck transaction, health says recovery runs, and it finishes later', async () => {
    // The last run: killed with its payment sent but not mined.
    await automine(false)
    const actor: ChildProcess = spawn(process.execPath, ['--import', 'tsx', child, 'act', 'pay'], {
      env: { ...process.env, CRASH_CONFIG: JSON.stringify(config) },
      stdio: 'ignore',
    })
    await expect
      .poll(
        async () =>
          (await chain().publicClient.getBlock({ blockTag: 'pending', includeTransactions: true }))
            .transactions.length,
        {
          timeout: 30_000,
          interval: 50,
        },
      )
      .toBeGreaterThan(0)
    actor.kill('SIGKILL')
    await new Promise((resolve) => actor.once('exit', resolve))

    // This run: the chain still does not mine.
    const before = await chain().dUSD(config.clientSafe)
    const { database, runtime } = await reopenCrashRuntime(config, () => {})
    try {
      await within(15_000, 'runtime.start()', runtime.start())
      const health = (await runtime.health()) as unknown as Record<string, unknown>
      expect(health.recovery).toMatchObject({ running: true })

      // The chain moves again: recovery finishes on its own, the payment lands once.
      await automine(true)
      await chain().publicClient.request({ method: 'evm_mine' as never, params: [] as never })
      await expect
        .poll(
          async () =>
            ((await runtime.health()) as unknown as { recovery: { running: boolean } }).recovery.running,
          {
            timeout: 30_000,
            interval: 100,
          },
        )
        .toBe(false)
      const payments = (await listPayments(database.db, { agentId: config.clientId })).items
      const crashed = payments.filter((p) => p.idempotencyKey.endsWith(':crash-pay'))
      expect(crashed.map((p) => p.status)).toEqual(['confirmed'])
      expect(before - (await chain().dUSD(config.clientSafe))).toBe(parseUnits('3', 6))
    } finally {
      await automine(true)
      await runtime.stop()
      await database.close()
    }
  })
})
