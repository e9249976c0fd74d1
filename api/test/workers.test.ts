import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { agentEconomyAbi, type Devnet, startDevnet } from '@agora/contracts'
import { createTemporaryDatabase } from '@agora/db/testing'
import postgres from 'postgres'
import { type Address, createPublicClient, createWalletClient, erc20Abi, http, parseUnits } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { freePort, signIn } from './npm-start.ts'
import { countOnChain } from './on-chain.ts'
import { startSellerService } from './webhook.ts'

// Issue 14: `AGORA_WORKERS=3` runs three API processes on one Postgres database and one port, each
// serving a shard of the agents. Under a mixed load (payments, jobs, launches) through the shared
// port, one process is SIGKILLed: every operation lands on chain exactly once, the killed process's
// shard is served again by another process, no job is stuck and balances are exact. Then events:
// a subscriber on one process sees what another produces, and resumes on a third without gaps.

const main = join(import.meta.dirname, '..', 'src', 'main.ts')
const workers = 3
/** The longest a shard may wait for a new process after its holder died (docs/operations.md says seconds). */
const takeoverLimitMs = 60_000
const payAmount = parseUnits('0.25', 6)
const jobPrice = parseUnits('1', 6)

type Op = { kind: 'pay' | 'hire' | 'launch'; key: string; agent?: string; acked: boolean; id?: string }
type Holder = { shard: number; pid: number; url: string }

describe.skipIf(!process.env.DATABASE_URL)(`AGORA_WORKERS=${workers} on one Postgres`, () => {
  let devnet: Devnet
  let database: Awaited<ReturnType<typeof createTemporaryDatabase>>
  let sql: postgres.Sql
  let service: Awaited<ReturnType<typeof startSellerService>>
  let supervisor: ChildProcess
  let output = ''
  let url: string
  let dir: string
  let token: string
  const agents: Record<string, { id: string; chainAgentId: string; safe: Address; shard: number }> = {}
  const counts = { unavailable: 0, refused: 0 }

  const chain = () => createPublicClient({ transport: http(devnet.rpcUrl, { timeout: 10_000 }) })

  /** Repeats `check` until it passes or `ms` are up (then its last failure is thrown). */
  async function eventually<T>(what: string, check: () => Promise<T>, ms = 120_000): Promise<T> {
    const deadline = Date.now() + ms
    for (;;) {
      try {
        return await check()
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`${what}: ${(error as Error).message}\n${output}`)
        await new Promise((r) => setTimeout(r, 250))
      }
    }
  }

  async function call(method: string, path: string, body?: unknown, base = url) {
    const began = Date.now()
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    }).catch(() => undefined) // the process answering was killed under it
    if (Date.now() - began > 10_000)
      console.log(
        `workers: ${method} ${path} took ${Date.now() - began} ms (${response?.status ?? 'no answer'})`,
      )
    if (response?.status === 503) counts.unavailable++
    return response
  }

  async function json<T>(method: string, path: string, body?: unknown, base = url): Promise<T> {
    const response = await call(method, path, body, base)
    if (!response?.ok) throw new Error(`${method} ${path}: ${response?.status} ${await response?.text()}`)
    return (await response.json()) as T
  }

  /** The processes holding the shards now, each alive and answering on its own URL. */
  async function holders(): Promise<Holder[]> {
    const rows = await sql<Holder[]>`select shard, pid, url from runtime_shards order by shard`
    if (rows.length !== workers) throw new Error(`${rows.length} shards are held`)
    for (const row of rows) {
      process.kill(row.pid, 0) // throws when that process is gone
      const health = await fetch(`${row.url}/health`).catch(() => undefined)
      if (!health?.ok) throw new Error(`shard ${row.shard}'s process does not answer yet`)
    }
    return [...rows]
  }

  /** Sends one operation (again, with the same key, when it was not acknowledged before). */
  async function issue(op: Op) {
    if (op.acked) return
    let response: Response | undefined
    if (op.kind === 'pay')
      response = await call('POST', `/agents/${op.agent}/pay`, {
        to: agents['w-payee']!.chainAgentId,
        amount: '0.25',
        memo: op.key,
        idempotencyKey: op.key,
      })
    else if (op.kind === 'hire')
      response = await call('POST', `/agents/${op.agent}/hire`, {
        provider: agents['w-provider']!.chainAgentId,
        offering: 'echo',
        input: { text: op.key },
        maxPrice: '1',
        idempotencyKey: op.key,
      })
    else {
      response = await call('POST', '/agents', { name: op.key })
      if (response?.status === 409) {
        // Launched by an earlier attempt whose answer was lost to the kill.
        const [row] = await sql<{ id: string }[]>`select id from agents where name = ${op.key}`
        if (row) Object.assign(op, { acked: true, id: row.id })
        return
      }
    }
    if (!response || response.status === 503) return // not now: the shard is being taken over
    if (!response.ok) {
      counts.refused++
      throw new Error(`${op.kind} ${op.key}: ${response.status} ${await response.text()}`)
    }
    const body = (await response.json()) as { id?: string; jobId?: string }
    Object.assign(op, { acked: true, id: body.jobId ?? body.id })
  }

  /** Launches on the process at `base`: a load balancer would spread launches over the processes. */
  async function launch(base: string, name: string, body: Record<string, unknown> = {}) {
    const { id } = await json<{ id: string }>('POST', '/agents', { name, ...body }, base)
    const view = await eventually(`launching ${name}`, async () => {
      const agent = await json<{ status: string; chainAgentId: string; safe: Address }>(
        'GET',
        `/agents/${id}`,
      )
      if (agent.status !== 'active') throw new Error(`${name} is ${agent.status}`)
      return agent
    })
    const [row] = await sql<{ shard: number }[]>`select shard from agents where id = ${id}`
    agents[name] = { id, chainAgentId: view.chainAgentId, safe: view.safe, shard: row!.shard }
  }

  const balance = (holder: Address) =>
    chain().readContract({
      address: devnet.manifest.contracts.devUSD!,
      abi: erc20Abi,
      functionName: 'balanceOf',
      args: [holder],
    })

  beforeAll(async () => {
    devnet = await startDevnet({ log: () => {} })
    database = await createTemporaryDatabase()
    sql = postgres(database.url, { max: 2, onnotice: () => {} })
    service = await startSellerService()
    dir = mkdtempSync(join(tmpdir(), 'agora-workers-'))
    const manifestPath = join(dir, 'manifest.json')
    writeFileSync(manifestPath, JSON.stringify(devnet.manifest))
    const port = await freePort()
    url = `http://127.0.0.1:${port}`
    supervisor = spawn(process.execPath, ['--import', 'tsx', main], {
      env: {
        ...process.env,
        RPC_URL: devnet.rpcUrl,
        CHAIN_ID: String(devnet.manifest.chainId),
        DEPLOYMENT_MANIFEST: manifestPath,
        MASTER_KEY: randomBytes(32).toString('hex'),
        // Two relayers for each process: every third key.
        RELAYER_KEYS: devnet.manifest.accounts
          .slice(-2 * workers)
          .map((a) => a.privateKey)
          .join(','),
        DATABASE_URL: database.url,
        AGORA_WORKERS: String(workers),
        AGORA_DATA_DIR: dir,
        AGORA_QUOTAS: 'off',
        PORT: String(port),
        HOST: '127.0.0.1',
        PUBLIC_URL: url,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000)
    }
    supervisor.stdout!.on('data', keep)
    supervisor.stderr!.on('data', keep)
    const started = await eventually('the processes starting', holders)
    token = await eventually('signing in', () => signIn(url, 2))
    // The parties, spread over the processes (one HTTP connection stays with one process).
    const on = (i: number) => started[i % workers]!.url
    for (let i = 0; i < 6; i++) await launch(on(i), `w-payer-${i}`)
    await launch(on(1), 'w-payee')
    await launch(on(2), 'w-provider', {
      offerings: [
        { name: 'echo', description: 'Echoes its input', price: '1', token: 'dUSD', webhook: service.url },
      ],
    })
    const funder = createWalletClient({
      account: privateKeyToAccount(devnet.manifest.accounts[3]!.privateKey),
      transport: http(devnet.rpcUrl),
    })
    for (let i = 0; i < 6; i++) {
      const hash = await funder.writeContract({
        address: devnet.manifest.contracts.devUSD!,
        abi: erc20Abi,
        functionName: 'transfer',
        args: [agents[`w-payer-${i}`]!.safe, parseUnits('100', 6)],
        chain: null,
      })
      await chain().waitForTransactionReceipt({ hash })
    }
  }, 300_000)

  afterAll(async () => {
    if (supervisor && supervisor.exitCode === null) {
      const exited = new Promise((resolve) => supervisor.once('exit', resolve))
      supervisor.kill('SIGTERM')
      await exited
    }
    await sql?.end({ timeout: 5 })
    await service?.close()
    await database?.drop()
    await devnet?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  }, 60_000)

  test('behavior: a process SIGKILLed under load loses and duplicates nothing; another takes its shard over', async () => {
    const payers = Object.keys(agents).filter((name) => name.startsWith('w-payer-'))
    // Launched on each process, the agents are spread over the shards.
    expect(new Set(Object.values(agents).map((a) => a.shard)).size).toBe(workers)
    const start = Object.fromEntries(
      await Promise.all(
        [...payers, 'w-payee'].map(async (name) => [name, await balance(agents[name]!.safe)] as const),
      ),
    )
    const ops: Op[] = []
    for (const name of payers) {
      const agent = agents[name]!.id
      for (let i = 0; i < 4; i++) ops.push({ kind: 'pay', key: `${name}-pay-${i}`, agent, acked: false })
      ops.push({ kind: 'hire', key: `${name}-hire`, agent, acked: false })
    }
    for (let i = 0; i < 2; i++) ops.push({ kind: 'launch', key: `w-late-${i}`, acked: false })

    // The victim: the process following the chain (another must take that over too), and serving
    // agents whose payments are under way when it dies.
    const followers: Holder[] = []
    for (const holder of await holders()) {
      const health = await json<{ followsChain: boolean }>('GET', '/health', undefined, holder.url)
      if (health.followsChain) followers.push(holder)
    }
    expect(followers).toHaveLength(1)
    const victim = followers[0]!
    const victimShard = victim.shard
    const sending = ops.map(async (op, i) => {
      await new Promise((r) => setTimeout(r, (i % 10) * 40))
      await issue(op).catch(() => {})
    })
    await new Promise((r) => setTimeout(r, 300))
    process.kill(victim.pid, 'SIGKILL')
    const killedAt = Date.now()
    const takingOver = eventually(
      `shard ${victimShard} being taken over`,
      async () => {
        const holder = (await holders()).find((h) => h.shard === victimShard)!
        if (holder.pid === victim.pid) throw new Error('still the dead process')
        return { ...holder, afterMs: Date.now() - killedAt }
      },
      takeoverLimitMs,
    )
    await Promise.all(sending)
    const takeover = await takingOver
    console.log(
      `workers: shard ${victimShard} (process ${victim.pid}, SIGKILLed) served again by process ${takeover.pid} after ${(takeover.afterMs / 1000).toFixed(1)} s`,
    )
    expect(takeover.pid).not.toBe(victim.pid)
    await eventually('another process following the chain', async () => {
      let following = 0
      for (const holder of await holders())
        if ((await json<{ followsChain: boolean }>('GET', '/health', undefined, holder.url)).followsChain)
          following++
      if (following !== 1) throw new Error(`${following} processes follow the chain`)
    })

    await eventually('acknowledging every operation', async () => {
      for (const op of ops) await issue(op)
      const waiting = ops.filter((op) => !op.acked).map((op) => op.key)
      if (waiting.length) throw new Error(`not acknowledged: ${waiting.join(', ')}`)
    })
    expect(counts.refused, 'operations refused (not 503)').toBe(0)
    const final = { pay: 'confirmed', hire: 'completed', launch: 'active' }
    const pathOf = (op: Op) =>
      op.kind === 'pay'
        ? `/agents/${op.agent}/payments/${op.id}`
        : op.kind === 'hire'
          ? `/jobs/${op.id}`
          : `/agents/${op.id}`
    await eventually('settling every operation (no job stuck)', async () => {
      for (const op of ops) {
        const { status } = await json<{ status: string }>('GET', pathOf(op))
        if (status !== final[op.kind]) throw new Error(`${op.kind} ${op.key} is ${status}`)
      }
    })

    // On chain exactly once, and one row in the database for each event.
    const { contracts } = devnet.manifest
    const safeOf = async (id: string) => (await json<{ safe: Address }>('GET', `/agents/${id}`)).safe
    const found = await countOnChain(chain(), contracts, ops, safeOf)
    const wrong = ops.filter((op) => found.get(op) !== 1).map((op) => `${op.key}: ${found.get(op)}`)
    expect(wrong, 'operations not on chain exactly once').toEqual([])
    const payerIds = payers.map((name) => agents[name]!.id)
    const [{ rows: paymentRows }] = (await sql<{ rows: number }[]>`
      select count(*)::int as rows from payments where from_agent_id in ${sql(payerIds)}`) as unknown as [
      { rows: number },
    ]
    const paid = await chain().getContractEvents({
      address: contracts.economy,
      abi: agentEconomyAbi,
      eventName: 'Paid',
      fromBlock: 0n,
    })
    const payerSafes = new Set(payers.map((name) => agents[name]!.safe.toLowerCase()))
    const paidEvents = paid.filter((e) => payerSafes.has(e.args.from!.toLowerCase())).length
    expect(paymentRows).toBe(paidEvents)
    const [{ rows: jobRows }] = (await sql<{ rows: number }[]>`
      select count(*)::int as rows from jobs where client_agent_id in ${sql(payerIds)}`) as unknown as [
      { rows: number },
    ]
    expect(jobRows).toBe(ops.filter((op) => op.kind === 'hire').length)

    // Balances exact to the unit.
    for (const name of payers) {
      const spent = 4n * payAmount + jobPrice
      expect(await balance(agents[name]!.safe), `${name}'s balance`).toBe(start[name]! - spent)
    }
    expect(await balance(agents['w-payee']!.safe)).toBe(
      start['w-payee']! + BigInt(payers.length) * 4n * payAmount,
    )
  }, 600_000)

  test('behavior: events reach a subscriber on another process, and resume on a third without gaps or repeats', async () => {
    const all = await holders()
    // The payer's process (B) produces; A and C are the two others.
    const payer = Object.entries(agents).find(([name]) => name.startsWith('w-payer-'))![1]
    const b = all.find((h) => h.shard === payer.shard)!
    const [a, c] = all.filter((h) => h.shard !== payer.shard) as [Holder, Holder]
    const pay = async (key: string) => {
      const { id } = await json<{ id: string }>(
        'POST',
        `/agents/${payer.id}/pay`,
        { to: agents['w-payee']!.chainAgentId, amount: '0.25', memo: key, idempotencyKey: key },
        b.url,
      )
      await eventually(`payment ${key}`, async () => {
        const { status } = await json<{ status: string }>(
          'GET',
          `/agents/${payer.id}/payments/${id}`,
          undefined,
          b.url,
        )
        if (status !== 'confirmed') throw new Error(status)
      })
    }
    const storedIds = async () =>
      (await sql<{ id: string }[]>`select id from activity where agent_id = ${payer.id} order by id`).map(
        (r) => Number(r.id),
      )

    /** Reads the payer's stream from `base` until it delivered `until`, then closes it. */
    async function read(base: string, lastEventId: number | undefined, until: () => Promise<number>) {
      const controller = new AbortController()
      const response = await fetch(`${base}/agents/${payer.id}/events`, {
        headers: {
          authorization: `Bearer ${token}`,
          ...(lastEventId !== undefined && { 'last-event-id': String(lastEventId) }),
        },
        signal: controller.signal,
      })
      expect(response.status).toBe(200)
      const ids: number[] = []
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ''
      const reading = (async () => {
        for (;;) {
          const { value, done } = await reader.read()
          if (done) return
          buffer += value
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            const id = /^id: (\d+)$/m.exec(buffer.slice(0, end))
            if (id) ids.push(Number(id[1]))
            buffer = buffer.slice(end + 2)
          }
        }
      })().catch(() => {})
      return {
        ids,
        async close() {
          const target = await until()
          await eventually(`stream from ${base} reaching event ${target}`, async () => {
            if ((ids.at(-1) ?? 0) < target) throw new Error(`at ${ids.at(-1)}`)
          })
          controller.abort()
          await reading
          return ids
        },
      }
    }

    const last = async () => (await storedIds()).at(-1) ?? 0
    const first = await read(a.url, undefined, last)
    await new Promise((r) => setTimeout(r, 300)) // subscribed before the payments below
    const subscribedAt = await last()
    for (let i = 0; i < 3; i++) await pay(`sse-a-${i}`)
    const seenOnA = await first.close()
    for (let i = 0; i < 3; i++) await pay(`sse-c-${i}`)
    const second = await read(c.url, seenOnA.at(-1), last)
    for (let i = 0; i < 2; i++) await pay(`sse-c-live-${i}`)
    const seenOnC = await second.close()

    const stored = await storedIds()
    expect([...seenOnA, ...seenOnC]).toEqual(stored)
    // A heard B's payments live: they were stored after A subscribed, by another process.
    expect(seenOnA.filter((id) => id > subscribedAt).length).toBeGreaterThanOrEqual(3)
  }, 300_000)
})
