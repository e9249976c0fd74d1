import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { agentModuleAbi, type Devnet } from '@agora/contracts'
import { createTemporaryDatabase } from '@agora/db/testing'
import { decodeFunctionData, type Hex, parseAbiItem, parseUnits } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { CrashConfig } from './fixtures/crash-agents.ts'
import { prepareCrashRun } from './fixtures/crash-setup.ts'
import { adapters, devnetClients, withDevnet } from './harness.ts'

const child = join(import.meta.dirname, 'fixtures', 'crash-child.ts')

function run(mode: 'act' | 'resume', action: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', child, mode, action], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

function output(proc: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  proc.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString()
  })
  proc.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, stdout, stderr })))
}

describe.each(adapters)('crash safety on $name', (adapter) => {
  let devnet: Devnet
  let config: CrashConfig
  let database: { url?: string; dataDir?: string; drop(): Promise<void> }
  const chain = () => devnetClients(devnet)

  /**
   * Waits until a transaction from one of our relayers sits in anvil's pool (sent, not mined); with
   * `batch`, until one of them is a batch (the agent module's `execute` of several calls).
   */
  async function untilPending(batch = false) {
    const isBatch = (input: Hex) => {
      try {
        const { functionName, args } = decodeFunctionData({ abi: agentModuleAbi, data: input })
        return functionName === 'execute' && args[2].length > 1
      } catch {
        return false
      }
    }
    await expect
      .poll(
        async () => {
          const block = await chain().publicClient.getBlock({
            blockTag: 'pending',
            includeTransactions: true,
          })
          return block.transactions.filter((tx) => !batch || isBatch(tx.input)).length
        },
        { timeout: 30_000, interval: 50 },
      )
      .toBeGreaterThan(0)
  }

  async function crashThenResume(action: 'pay' | 'batch' | 'hire') {
    const env = { CRASH_CONFIG: JSON.stringify(config) }
    await chain().publicClient.request({ method: 'evm_setAutomine' as never, params: [false] as never })
    const actor = run('act', action, env)
    const acted = output(actor)
    await untilPending(action === 'batch')
    actor.kill('SIGKILL')
    const killed = await acted
    expect(killed.stdout).not.toContain('finished before the kill')
    await chain().publicClient.request({ method: 'evm_setAutomine' as never, params: [true] as never })
    // The killed process's transaction is still only in the pool: for the payment it is mined before
    // the restart (recovery finds the receipt); for the batch and the hire after it (recovery
    // rebroadcasts it).
    if (action === 'pay')
      await chain().publicClient.request({ method: 'evm_mine' as never, params: [] as never })
    const resuming = output(run('resume', action, env))
    const miner = setInterval(() => {
      void chain().publicClient.request({ method: 'evm_mine' as never, params: [] as never })
    }, 300)
    const resumed = await resuming.finally(() => clearInterval(miner))
    expect(resumed.code, resumed.stderr).toBe(0)
    return JSON.parse(resumed.stdout.trim().split('\n').at(-1)!)
  }

  beforeAll(async () => {
    if (adapter.skip) return
    devnet = await withDevnet()
    if (adapter.name === 'postgres') {
      const temporary = await createTemporaryDatabase()
      database = { url: temporary.url, drop: temporary.drop }
    } else {
      const dataDir = mkdtempSync(join(tmpdir(), 'agora-crash-'))
      database = { dataDir, drop: async () => rmSync(dataDir, { recursive: true, force: true }) }
    }
    config = await prepareCrashRun(devnet, database, [16, 17])
  })
  afterAll(async () => {
    await devnet?.stop()
    await database?.drop()
  })

  test.skipIf(adapter.skip)(
    'behavior: killed while a payment is in flight, pays exactly once after restart',
    async () => {
      const before = await chain().dUSD(config.clientSafe)
      const { payments } = await crashThenResume('pay')
      const crashPayments = payments.filter((p: { idempotencyKey: string }) =>
        p.idempotencyKey.endsWith(':crash-pay'),
      )
      expect(crashPayments).toHaveLength(1)
      expect(crashPayments[0].status).toBe('confirmed')
      expect(before - (await chain().dUSD(config.clientSafe))).toBe(parseUnits('3', 6))
    },
  )

  test.skipIf(adapter.skip)(
    'behavior: killed while a batch of payments is in flight, each recorded payment pays exactly once',
    async () => {
      const before = await chain().dUSD(config.clientSafe)
      const fromBlock = await chain().publicClient.getBlockNumber()
      const { payments } = await crashThenResume('batch')
      // The kill comes once a batch is in the pool: payments not yet recorded by then were never made.
      const batch = payments.filter((p: { idempotencyKey: string }) =>
        p.idempotencyKey.includes(':crash-batch-'),
      )
      expect(batch.length).toBeGreaterThanOrEqual(2)
      expect(batch.every((p: { status: string }) => p.status === 'confirmed')).toBe(true)
      const perTx = new Map<string, number>()
      for (const p of batch as { txHash: string }[]) perTx.set(p.txHash, (perTx.get(p.txHash) ?? 0) + 1)
      expect(Math.max(...perTx.values())).toBeGreaterThanOrEqual(2)
      const paid = await chain().publicClient.getLogs({
        address: devnet.manifest.contracts.economy,
        event: parseAbiItem(
          'event Paid(uint256 indexed toAgentId, address indexed from, address indexed token, address to, uint256 amount, bytes32 memo)',
        ),
        args: { from: config.clientSafe as `0x${string}` },
        fromBlock,
      })
      expect(paid).toHaveLength(batch.length)
      expect(before - (await chain().dUSD(config.clientSafe))).toBe(
        parseUnits('0.5', 6) * BigInt(batch.length),
      )
    },
  )

  test.skipIf(adapter.skip)(
    'behavior: killed while hiring, the job is created once and finishes after restart',
    async () => {
      const before = await chain().dUSD(config.clientSafe)
      const { job } = await crashThenResume('hire')
      expect(job.status).toBe('completed')
      expect(job.deliverable).toEqual({ text: 'survive' })
      const created = await chain().publicClient.getLogs({
        address: devnet.manifest.contracts.economy,
        event: parseAbiItem(
          'event JobCreated(uint256 indexed jobId, address indexed client, uint256 indexed providerId, address evaluator, address token, uint256 budget, uint256 deadline, bytes32 specHash)',
        ),
        fromBlock: 0n,
      })
      expect(created.filter((e) => String(e.args.jobId) === job.jobId)).toHaveLength(1)
      expect(before - (await chain().dUSD(config.clientSafe))).toBe(parseUnits('2', 6))
    },
  )
})
