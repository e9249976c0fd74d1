import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { agentEconomyAbi, type Devnet, startDevnet } from '@agora/contracts'
import { createDb } from '@agora/db'
import { keccak256, parseEventLogs, parseUnits, toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createRuntime } from '../src/create-runtime.ts'
import { defineAgent } from '../src/define-agent.ts'
import { crashAgents } from './fixtures/crash-agents.ts'
import { devnetClients } from './harness.ts'

/** Resolves `promise`, or rejects saying what hung after `ms`. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} hung for ${ms} ms`)), ms)),
  ])
}

/** The pid of the anvil serving `statePath`, found in /proc. */
function anvilPid(statePath: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const cmdline = (() => {
      try {
        return readFileSync(`/proc/${entry}/cmdline`, 'utf8')
      } catch {
        return ''
      }
    })()
    if (cmdline.includes('anvil') && cmdline.includes(statePath)) return Number(entry)
  }
  throw new Error(`no anvil serves ${statePath}`)
}

/**
 * Issue 10, finding 2: anvil saved its state only on a clean exit. After `kill -9` it came back from
 * the last clean stop while the database held everything newer: acknowledged payments, a launch and
 * a job gone from the chain, and the indexer's reorg walk asked for blocks past the head.
 */
describe('a chain that lost its newest blocks', () => {
  let dataDir: string
  let statePath: string
  let devnet: Devnet | undefined
  const masterKey = randomBytes(32).toString('hex')
  const lines: string[] = []
  const open = async (current: Devnet) => {
    const database = await createDb({ dataDir: join(dataDir, 'db') })
    const runtime = await createRuntime({
      chain: { rpcUrl: current.rpcUrl, manifest: current.manifest },
      db: database.db,
      masterKey,
      relayerKeys: [14, 15].map((i) => current.manifest.accounts[i]!.privateKey),
      definitions: [...crashAgents, defineAgent({ name: 'late-launch' })],
      pollIntervalMs: 50,
      retryIntervalMs: 500,
      log: (line) => lines.push(line),
    })
    return { runtime, database }
  }

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'agora-rollback-'))
    statePath = join(dataDir, 'devnet', 'chain.json')
  })
  afterAll(async () => {
    await devnet?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  test('behavior: after kill -9 of anvil every acknowledged payment, launch and job step is on chain exactly once', async () => {
    // A clean first run: agents launched and funded, the chain saved on a clean stop.
    devnet = await startDevnet({ statePath, log: () => {}, submissionGraceSeconds: 600 })
    let { runtime, database } = await open(devnet)
    await runtime.start()
    const owner = devnet.manifest.accounts[2]!.address
    const provider = await runtime.launch(crashAgents[0]!, { owner })
    let client = await runtime.launch(crashAgents[1]!, { owner })
    const clientSafe = (await client.info()).safe!
    const providerId = (await provider.info()).chainAgentId!
    await devnetClients(devnet).fund(clientSafe, '50', 2)
    await client.pay({ to: providerId, amount: '1', memo: 'clean' })
    await runtime.stop()
    await database.close()
    await devnet.stop()
    devnet = undefined

    // The second run acknowledges payments, a launch and a job, then anvil is killed before it saves
    // any of it (it would save every second by default).
    devnet = await startDevnet({
      statePath,
      log: () => {},
      submissionGraceSeconds: 600,
      stateIntervalMs: 60_000,
    })
    ;({ runtime, database } = await open(devnet))
    await runtime.start()
    client = runtime.agent(client.id)
    const balance = await devnetClients(devnet).dUSD(clientSafe)
    const memos = Array.from({ length: 5 }, (_, i) => `acknowledged ${i}`)
    for (const memo of memos)
      expect((await client.pay({ to: providerId, amount: '1', memo })).status).toBe('confirmed')
    const late = await runtime.launch(defineAgent({ name: 'late-launch' }), { owner })
    const lateSafe = (await late.info()).safe!
    const job = await (
      await client.hire({
        provider: providerId,
        offering: 'echo',
        input: { text: 'kept' },
        idempotencyKey: 'kept',
      })
    ).done({ timeoutMs: 30_000 })
    expect(job.status).toBe('completed')
    process.kill(anvilPid(statePath), 'SIGKILL')
    await runtime.stop()
    await database.close()
    await devnet.stop()
    devnet = undefined

    // The next start: whatever the chain lost is put back, exactly once.
    devnet = await startDevnet({ statePath, log: () => {}, submissionGraceSeconds: 600 })
    ;({ runtime, database } = await open(devnet))
    client = runtime.agent(client.id)
    try {
      await within(30_000, 'runtime.start()', runtime.start())
      const { publicClient } = devnetClients(devnet)
      const economyLogs = async () =>
        parseEventLogs({
          abi: agentEconomyAbi,
          logs: await publicClient.getLogs({ address: devnet!.manifest.contracts.economy, fromBlock: 0n }),
        })
      await expect
        .poll(
          async () => {
            const logs = await economyLogs()
            return logs.filter((l) => l.eventName === 'JobCompleted' && String(l.args.jobId) === job.jobId)
              .length
          },
          { timeout: 60_000, interval: 200 },
        )
        .toBe(1)
      const logs = await economyLogs()
      for (const memo of memos) {
        const paid = logs.filter((l) => l.eventName === 'Paid' && l.args.memo === keccak256(toHex(memo)))
        expect(paid, memo).toHaveLength(1)
      }
      expect(
        logs.filter((l) => l.eventName === 'JobCreated' && String(l.args.jobId) === job.jobId),
      ).toHaveLength(1)
      expect(await publicClient.getCode({ address: lateSafe as `0x${string}` })).not.toBe(undefined)
      expect(await devnetClients(devnet).dUSD(clientSafe)).toBe(
        balance - parseUnits('5', 6) - parseUnits('2', 6),
      )
      expect(lines).toContainEqual(expect.stringMatching(/the chain lost \d+ transaction\(s\)/))
      expect(lines.filter((l) => l.includes('LOST'))).toEqual([])
      // The API side keeps working: a new payment lands.
      expect((await client.pay({ to: providerId, amount: '1', memo: 'after' })).status).toBe('confirmed')
    } finally {
      if (process.env.ROLLBACK_DEBUG) console.log(lines.join('\n'))
      await runtime.stop()
      await database.close()
    }
  })
})
