import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Devnet } from '@agora/contracts'
import { createDb, listPayments } from '@agora/db'
import { parseUnits } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createRuntime } from '../src/create-runtime.ts'
import { crashAgents } from './fixtures/crash-agents.ts'
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
  let config: Record<string, unknown>
  const chain = () => devnetClients(devnet)
  const automine = (on: boolean) =>
    chain().publicClient.request({ method: 'evm_setAutomine' as never, params: [on] as never })

  beforeAll(async () => {
    devnet = await withDevnet()
    dataDir = mkdtempSync(join(tmpdir(), 'agora-recovery-'))
    const masterKey = randomBytes(32).toString('hex')
    const relayerKeys = [18, 19].map((i) => devnet.manifest.accounts[i]!.privateKey)
    const opened = await createDb({ dataDir })
    const runtime = await createRuntime({
      chain: { rpcUrl: devnet.rpcUrl, manifest: devnet.manifest },
      db: opened.db,
      masterKey,
      relayerKeys,
      definitions: crashAgents,
      log: () => {},
    })
    await runtime.start()
    const owner = devnet.manifest.accounts[2]!.address
    const provider = await runtime.launch(crashAgents[0]!, { owner })
    const client = await runtime.launch(crashAgents[1]!, { owner })
    await chain().fund((await client.info()).safe!, '50', 2)
    const providerChainId = (await provider.info()).chainAgentId!
    await client.pay({ to: providerChainId, amount: '1' })
    await runtime.stop()
    await opened.close()
    config = {
      rpcUrl: devnet.rpcUrl,
      manifest: devnet.manifest,
      dataDir,
      masterKey,
      relayerKeys,
      clientId: client.id,
      providerChainId,
      clientSafe: (await client.info()).safe,
    }
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
    const before = await chain().dUSD(config.clientSafe as string)
    const database = await createDb({ dataDir })
    const runtime = await createRuntime({
      chain: { rpcUrl: devnet.rpcUrl, manifest: devnet.manifest },
      db: database.db,
      masterKey: config.masterKey as string,
      relayerKeys: config.relayerKeys as `0x${string}`[],
      definitions: crashAgents,
      pollIntervalMs: 50,
      log: () => {},
    })
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
      const payments = await listPayments(database.db, { agentId: config.clientId as string })
      const crashed = payments.filter((p) => p.idempotencyKey.endsWith(':crash-pay'))
      expect(crashed.map((p) => p.status)).toEqual(['confirmed'])
      expect(before - (await chain().dUSD(config.clientSafe as string))).toBe(parseUnits('3', 6))
    } finally {
      await automine(true)
      await runtime.stop()
      await database.close()
    }
  })
})
