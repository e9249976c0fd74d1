import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTemporaryDatabase } from '@agora/db/testing'
import {
  type Address,
  createPublicClient,
  createWalletClient,
  erc20Abi,
  type Hex,
  http,
  parseUnits,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { freePort, type NpmStart, npmStart, signIn } from './npm-start.ts'
import { countOnChain } from './on-chain.ts'
import { startSellerService } from './webhook.ts'

// Issue 10, the crash-loop suite: a mixed load (payments, jobs, launches) through `npm start`'s HTTP
// API, and a `kill -9` of the runtime, of anvil, or of both at a random moment of each cycle (a fixed
// seed). After each restart every acknowledged operation is on chain exactly once, balances are exact
// and the API is up. The cycles are shared between PGlite and Postgres (when DATABASE_URL is set).

const seed = Number(process.env.CRASH_LOOP_SEED ?? 2_026)
const totalCycles = Number(process.env.CRASH_LOOP_CYCLES ?? 50)
const adapters = [{ name: 'pglite' as const }, { name: 'postgres' as const, skip: !process.env.DATABASE_URL }]
const cyclesPerAdapter = process.env.DATABASE_URL ? Math.ceil(totalCycles / 2) : totalCycles

/** mulberry32: a small seeded generator, so a failing cycle can be run again. */
function random(start: number) {
  let a = start >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** One operation of the load; `acked` once the API answered 2xx, `settled` once seen final through it. */
type Op = { kind: 'pay' | 'hire' | 'launch'; key: string; acked: boolean; id?: string; settled?: boolean }

const payAmount = parseUnits('0.25', 6)
const jobPrice = parseUnits('1', 6)

describe.each(adapters)('crash loop on $name', (adapter) => {
  let app: NpmStart
  let dataDir: string
  let dropDatabase: (() => Promise<void>) | undefined
  let token: string
  let payer: { id: string; safe: Address }
  let payee: { id: string; chainAgentId: string; safe: Address }
  let provider: { chainAgentId: string }
  // The provider's service, in this process (the API runs as a child): answers { received: input }.
  let service: Awaited<ReturnType<typeof startSellerService>> | undefined
  const ops: Op[] = []
  const counts = { cycles: 0, operations: 0, lost: 0, duplicated: 0, fiveXX: 0, unavailable: 0 }
  const start = { payer: 0n, payee: 0n }
  const rand = random(seed + (adapter.name === 'postgres' ? 1 : 0))

  /** A JSON request to the API; 5xx other than 503 are counted (a 503 is an honest "not now"). */
  async function call(method: string, path: string, body?: unknown): Promise<Response | undefined> {
    const response = await fetch(`${app.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    }).catch(() => undefined) // the process was killed under it
    if (response && response.status >= 500) {
      if (response.status === 503) counts.unavailable++
      else {
        counts.fiveXX++
        console.error(
          `crash loop: ${method} ${path} answered ${response.status}: ${await response.clone().text()}`,
        )
      }
    }
    return response
  }

  async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await call(method, path, body)
    if (!response?.ok) throw new Error(`${method} ${path}: ${response?.status} ${await response?.text()}`)
    return (await response.json()) as T
  }

  /** Sends one operation (again, with the same key, if it was not acknowledged before). */
  async function issue(op: Op) {
    if (op.acked) return
    let response: Response | undefined
    if (op.kind === 'pay')
      response = await call('POST', `/agents/${payer.id}/pay`, {
        to: payee.chainAgentId,
        amount: '0.25',
        memo: op.key,
        idempotencyKey: op.key,
      })
    else if (op.kind === 'hire')
      response = await call('POST', `/agents/${payer.id}/hire`, {
        provider: provider.chainAgentId,
        offering: 'echo',
        input: { text: op.key },
        maxPrice: '1',
        idempotencyKey: op.key,
      })
    else {
      response = await call('POST', '/agents', { name: op.key })
      if (response?.status === 409) {
        // Launched by an earlier attempt (the answer was lost to the kill): it is ours.
        const { agents } = await json<{ agents: { id: string; name: string }[] }>('GET', '/agents')
        const mine = agents.find((a) => a.name === op.key)
        if (mine) Object.assign(op, { acked: true, id: mine.id })
        return
      }
    }
    if (!response) return
    if (response.status === 503) return // recovery or the chain: not now, try again
    if (!response.ok) throw new Error(`${op.kind} ${op.key}: ${response.status} ${await response.text()}`)
    const body = (await response.json()) as { id?: string; jobId?: string }
    Object.assign(op, { acked: true, id: body.jobId ?? body.id })
  }

  const chainClient = () =>
    createPublicClient({ transport: http(`http://127.0.0.1:${devnetPort}`, { timeout: 10_000 }) })
  let devnetPort: number

  /** Repeats `check` until it passes or `ms` are up (then its last failure is thrown). */
  async function eventually(what: string, check: () => Promise<void>, ms = 90_000) {
    const deadline = Date.now() + ms
    for (;;) {
      try {
        return await check()
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`${what}: ${(error as Error).message}`)
        await new Promise((r) => setTimeout(r, 250))
      }
    }
  }

  /** Every operation acknowledged, settled, on chain exactly once; balances exact; the API healthy. */
  async function verify(cycle: number) {
    await eventually(`cycle ${cycle}: acknowledging every operation`, async () => {
      for (const op of ops) await issue(op)
      const waiting = ops.filter((op) => !op.acked).map((op) => op.key)
      if (waiting.length) throw new Error(`not acknowledged: ${waiting.join(', ')}`)
    })
    const final = { pay: 'confirmed', hire: 'completed', launch: 'active' }
    const pathOf = (op: Op) =>
      op.kind === 'pay'
        ? `/agents/${payer.id}/payments/${op.id}`
        : op.kind === 'hire'
          ? `/jobs/${op.id}`
          : `/agents/${op.id}`
    await eventually(`cycle ${cycle}: settling`, async () => {
      for (const op of ops.filter((o) => !o.settled)) {
        const { status } = await json<{ status: string }>('GET', pathOf(op))
        if (status !== final[op.kind]) throw new Error(`${op.kind} ${op.key} is ${status}`)
        op.settled = true
      }
      const health = await json<{ status: string }>('GET', '/health')
      if (health.status !== 'ok') throw new Error(`health is ${health.status}`)
    })
    // The chain may still be getting back what a killed anvil lost: give it a moment, then count.
    await eventually(`cycle ${cycle}: on chain`, () => onChainExactlyOnce(cycle, false), 30_000).catch(() =>
      onChainExactlyOnce(cycle, true),
    )
  }

  /** Checks the chain; `final`: counts what is lost or duplicated into the suite's figures. */
  async function onChainExactlyOnce(cycle: number, final: boolean) {
    const publicClient = chainClient()
    const { contracts } = app.manifest()
    const safeOf = async (id: string) => (await json<{ safe: Address }>('GET', `/agents/${id}`)).safe
    const found = await countOnChain(publicClient, contracts, ops, safeOf)
    const tally = (count: number, key: string) => {
      if (final && count === 0) counts.lost++
      if (final && count > 1) counts.duplicated++
      return `${key}: ${count}`
    }
    const wrong: string[] = []
    for (const op of ops) if (found.get(op) !== 1) wrong.push(tally(found.get(op)!, op.key))
    const balance = (holder: Address) =>
      publicClient.readContract({
        address: contracts.devUSD,
        abi: erc20Abi,
        functionName: 'balanceOf',
        args: [holder],
      })
    const paid = payAmount * BigInt(ops.filter((o) => o.kind === 'pay').length)
    const hired = jobPrice * BigInt(ops.filter((o) => o.kind === 'hire').length)
    expect(wrong, `cycle ${cycle}: operations not on chain exactly once`).toEqual([])
    expect(await balance(payee.safe), `cycle ${cycle}: payee balance`).toBe(start.payee + paid)
    expect(await balance(payer.safe), `cycle ${cycle}: payer balance`).toBe(start.payer - paid - hired)
  }

  /** One cycle: a burst of operations, and a kill at a random moment of it. */
  async function cycle(n: number) {
    const burst: Op[] = []
    const payments = 2 + Math.floor(rand() * 3)
    for (let i = 0; i < payments; i++) burst.push({ kind: 'pay', key: `c${n}-pay-${i}`, acked: false })
    if (n % 2 === 0) burst.push({ kind: 'hire', key: `c${n}-hire`, acked: false })
    if (n % 5 === 1) burst.push({ kind: 'launch', key: `c${n}-launch`, acked: false })
    ops.push(...burst)
    counts.operations += burst.length
    const mode = (['runtime', 'anvil', 'both'] as const)[Math.floor(rand() * 3)]!
    const killAt = 50 + Math.floor(rand() * 1_200)
    if (process.env.CRASH_LOOP_VERBOSE)
      console.log(`cycle ${n}: ${burst.length} operations, kill ${mode} at ${killAt} ms`)
    const sending = burst.map(async (op, i) => {
      await new Promise((r) => setTimeout(r, i * Math.floor(rand() * 150)))
      await issue(op).catch(() => {})
    })
    await new Promise((r) => setTimeout(r, killAt))
    const anvil = app.anvilPid()
    if (mode !== 'runtime' && anvil) process.kill(anvil, 'SIGKILL')
    if (mode !== 'anvil') await app.kill()
    await Promise.all(sending)
    if (mode !== 'anvil') await app.start()
    await verify(n)
    counts.cycles++
  }

  beforeAll(async () => {
    if (adapter.skip) return
    dataDir = mkdtempSync(join(tmpdir(), `agora-crash-loop-${adapter.name}-`))
    let databaseUrl: string | undefined
    if (adapter.name === 'postgres') {
      const temporary = await createTemporaryDatabase()
      databaseUrl = temporary.url
      dropDatabase = temporary.drop
    }
    devnetPort = await freePort()
    service = await startSellerService()
    app = npmStart({ dataDir, port: await freePort(), devnetPort, databaseUrl })
    await app.start()
    token = await signIn(app.url, 2)
    // The parties, launched and funded before the first cycle; a clean stop saves the chain.
    const launch = (body: unknown) => json<{ id: string }>('POST', '/agents', body)
    const payerId = (await launch({ name: 'loop-payer' })).id
    const payeeId = (await launch({ name: 'loop-payee' })).id
    await launch({
      name: 'loop-provider',
      offerings: [
        { name: 'echo', description: 'Echoes its input', price: '1', token: 'dUSD', webhook: service.url },
      ],
    })
    const agents = await json<{
      agents: { id: string; name: string; chainAgentId: string; safe: Address }[]
    }>('GET', '/agents')
    const byName = (name: string) => agents.agents.find((a) => a.name === name)!
    payer = { id: payerId, safe: byName('loop-payer').safe }
    payee = { id: payeeId, chainAgentId: byName('loop-payee').chainAgentId, safe: byName('loop-payee').safe }
    provider = { chainAgentId: byName('loop-provider').chainAgentId }
    const { contracts, accounts } = app.manifest()
    const funder = createWalletClient({
      account: privateKeyToAccount(accounts[3]!.privateKey as Hex),
      transport: http(`http://127.0.0.1:${devnetPort}`),
    })
    const hash = await funder.writeContract({
      address: contracts.devUSD,
      abi: erc20Abi,
      functionName: 'transfer',
      args: [payer.safe, parseUnits('10000', 6)],
      chain: null,
    })
    await chainClient().waitForTransactionReceipt({ hash })
    await app.stop()
    await app.start()
    const read = (holder: Address) =>
      chainClient().readContract({
        address: contracts.devUSD,
        abi: erc20Abi,
        functionName: 'balanceOf',
        args: [holder],
      })
    start.payer = await read(payer.safe)
    start.payee = await read(payee.safe)
  }, 300_000)

  afterAll(async () => {
    await app?.shutdown()
    await service?.close()
    await dropDatabase?.()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  }, 60_000)

  test.skipIf(adapter.skip)(
    `behavior: ${cyclesPerAdapter} cycles of kill -9 (runtime, anvil or both) lose and duplicate nothing`,
    async () => {
      try {
        for (let n = 1; n <= cyclesPerAdapter; n++) await cycle(n)
      } catch (error) {
        console.error(`crash loop: npm start's last output:\n${app.output}`)
        throw error
      } finally {
        console.log(
          `crash loop (${adapter.name}, seed ${seed}): cycles ${counts.cycles}, operations ${counts.operations}, ` +
            `lost ${counts.lost}, duplicated ${counts.duplicated}, 5xx ${counts.fiveXX} (503 while recovering: ${counts.unavailable})`,
        )
      }
      expect(counts).toMatchObject({ cycles: cyclesPerAdapter, lost: 0, duplicated: 0, fiveXX: 0 })
    },
    900_000,
  )
})
