/**
 * Requests per second and latency of the HTTP API's read routes at two numbers of hosted agents,
 * beside a bare Hono server in the same process: `GET /health`, the first page of `GET /agents`, a
 * market search and one agent. The API runs as `npm start` runs it (the embedded devnet, PGlite or,
 * with `DATABASE_URL`, a temporary Postgres database), fresh in a temporary data directory; the
 * agents are launched through the runtime, each with an offering the search finds.
 *
 * `npm run bench:api` prints a table; `-- --json` one JSON object; `-- --agents 20,200` other sizes
 * (default 100,10000); `-- --seconds N` how long each route is measured (default 5).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTemporaryDatabase } from '@agora/db/testing'
import { defineAgent, type EmbeddedRuntime, type Runtime, startEmbeddedRuntime } from '@agora/runtime'
import { type ServerType, serve } from '@hono/node-server'
import autocannon from 'autocannon'
import { Hono } from 'hono'
import type { Address } from 'viem'
import { z } from 'zod'
import { createApp } from '../src/app.ts'

const json = process.argv.includes('--json')
const say = (line: string) => {
  if (!json) process.stderr.write(`${line}\n`)
}

/** The value after `--name`, if given. */
function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`)
  return at < 0 ? undefined : process.argv[at + 1]
}

function fail(line: string): never {
  console.error(line)
  process.exit(2)
}

const sizes = (option('agents') ?? '100,10000').split(',').map((s) => Number(s.trim().replace(/_/g, '')))
if (sizes.some((n) => !Number.isInteger(n) || n < 1))
  fail('--agents takes numbers of agents separated by commas, e.g. --agents 100,10000')
sizes.sort((a, b) => a - b)
const seconds = Number(option('seconds') ?? 5)
if (!(seconds >= 1)) fail('--seconds takes a number of seconds, at least 1')

const CONNECTIONS = 20
const WARMUP_SECONDS = 1
/** Launches in flight at once: a few more than the embedded runtime's 8 relayers, so none waits idle. */
const LAUNCH_CONCURRENCY = 12
const CAPABILITY = 'bench-echo'

/** The i-th bench agent: one offering with the capability the market search asks for. */
function benchAgent(i: number) {
  return defineAgent({
    name: `bench-agent-${i}`,
    offerings: [
      {
        name: 'echo',
        description: 'Returns its input',
        // Prices differ so that the search's cheapest-first order has something to sort.
        price: ((1 + (i % 100)) / 100).toFixed(2),
        token: 'dUSD',
        capabilities: [CAPABILITY],
        input: z.object({ text: z.string() }),
        handler: ({ text }: { text: string }) => ({ text }),
      },
    ],
  })
}

/** Launches agents `from` to `to - 1` a few at a time, with a progress line every 500. */
async function launchAgents(runtime: Runtime, owner: Address, from: number, to: number) {
  const started = performance.now()
  const rate = (n: number) => Math.round(n / ((performance.now() - started) / 1_000))
  let next = from
  let done = 0
  let firstId: string | undefined
  await Promise.all(
    Array.from({ length: LAUNCH_CONCURRENCY }, async () => {
      while (next < to) {
        const i = next++
        const handle = await runtime.launch(benchAgent(i), { owner })
        if (i === 0) firstId = handle.id
        done++
        if ((from + done) % 500 === 0) {
          const left = Math.round((to - from - done) / rate(done))
          say(`  launched ${from + done}/${to} (${rate(done)}/s, about ${left} s to go)`)
        }
      }
    }),
  )
  const perSec = rate(done)
  say(`  launched ${to} agents (${done} now, ${perSec}/s)`)
  return { firstId, perSec }
}

/** A port nobody listens on now: the API's public URL must be known before the runtime starts. */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no free port')
  return address.port
}

function listen(fetch: (request: Request) => Response | Promise<Response>, port = 0) {
  return new Promise<{ server: ServerType; url: string }>((resolve) => {
    const server = serve({ fetch, port, hostname: '127.0.0.1' }, (info) =>
      resolve({ server, url: `http://127.0.0.1:${info.port}` }),
    )
  })
}

function close(server: ServerType) {
  const http = server as ServerType & { closeAllConnections?: () => void }
  http.close()
  http.closeAllConnections?.()
}

type Measure = {
  /** Requests per second (mean over the run). */
  rps: number
  /** Latency percentiles, ms (autocannon's histogram: whole milliseconds). */
  p50: number
  p99: number
  /** Answers that were not 2xx, and errors or timeouts: a figure with any is not a read's. */
  non2xx: number
  errors: number
}

/**
 * `url` under CONNECTIONS connections for `seconds`, after a warm-up. The load comes from a worker
 * thread: from this thread it would share the event loop with the servers it measures.
 */
async function measure(url: string): Promise<Measure> {
  const options = { url, connections: CONNECTIONS, workers: 1 }
  await autocannon({ ...options, duration: WARMUP_SECONDS })
  const result = await autocannon({ ...options, duration: seconds })
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  }
}

/** One GET that must answer 2xx (and, with `check`, the body it expects) before it is measured. */
async function expectOk(url: string, check?: (body: unknown) => string | undefined) {
  const response = await fetch(url)
  const text = await response.text()
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}: ${text.slice(0, 300)}`)
  const problem = check?.(JSON.parse(text))
  if (problem) throw new Error(`GET ${url}: ${problem}`)
}

/** Waits until `/health` answers 200 (chain and database up, no recovery running), up to a minute. */
async function healthy(url: string) {
  const until = Date.now() + 60_000
  for (;;) {
    const response = await fetch(`${url}/health`)
    await response.arrayBuffer()
    if (response.status === 200) return
    if (Date.now() > until) throw new Error('the API did not report healthy within a minute')
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}

const routes = {
  health: { name: 'GET /health', path: () => '/health' },
  agentsPage: { name: 'GET /agents?limit=50', path: () => '/agents?limit=50' },
  marketSearch: {
    name: `GET /market/offerings?capability=${CAPABILITY}`,
    path: () => `/market/offerings?capability=${CAPABILITY}`,
  },
  agent: { name: 'GET /agents/{id}', path: (id: string) => `/agents/${id}` },
} as const
type RouteName = keyof typeof routes
const nonEmpty = (key: string) => (body: unknown) =>
  ((body as Record<string, unknown[]>)[key]?.length ?? 0) > 0 ? undefined : `no ${key} in the answer`

type SizeResult = {
  agents: number
  launchPerSec: number
  /** The process's resident memory once launched and measured, MB (the devnet runs apart). */
  rssMB: number
  bareHono: Measure
  routes: Record<RouteName, Measure>
  /** `/health` requests per second as a share of the bare Hono server's. */
  healthRatio: number | null
}

// A bare Hono app: what any API on this machine, in this process, can answer at most.
const bare = new Hono()
bare.get('/health', (c) => c.json({ status: 'ok' }))
const bareServer = await listen(bare.fetch)

const dataDir = mkdtempSync(join(tmpdir(), 'agora-bench-api-'))
const temporary = process.env.DATABASE_URL ? await createTemporaryDatabase() : undefined
let embedded: EmbeddedRuntime | undefined
let api: { server: ServerType; url: string } | undefined
try {
  const port = await freePort()
  const publicUrl = `http://127.0.0.1:${port}`
  say(`starting the devnet and the runtime (data in ${dataDir})...`)
  // As `npm start` starts it, but without per-owner quotas: one owner launches every agent here.
  embedded = await startEmbeddedRuntime({
    dataDir,
    publicUrl,
    databaseUrl: temporary?.url,
    quotas: false,
    log: say,
  })
  const { runtime, devnet } = embedded
  const app = createApp({
    runtime,
    db: embedded.db,
    devnetRpcUrl: devnet.rpcUrl,
    domain: new URL(publicUrl).host,
    origin: publicUrl,
    log: (line) => process.stderr.write(`${line}\n`),
  })
  api = await listen(app.fetch, port)
  const owner = devnet.manifest.accounts[1]!.address as Address
  const results: SizeResult[] = []
  let launched = 0
  let agentId = ''
  for (const size of sizes) {
    say(`${size} agents: launching ${size - launched}...`)
    const { firstId, perSec } = await launchAgents(runtime, owner, launched, size)
    launched = size
    agentId ||= firstId ?? ''
    await healthy(api.url)
    await expectOk(`${api.url}${routes.agentsPage.path()}`, nonEmpty('agents'))
    await expectOk(`${api.url}${routes.marketSearch.path()}`, nonEmpty('offerings'))
    await expectOk(`${api.url}${routes.agent.path(agentId)}`)
    say(`${size} agents: measuring each route for ${seconds} s (${CONNECTIONS} connections)...`)
    const bareHono = await measure(`${bareServer.url}/health`)
    const measured = {} as Record<RouteName, Measure>
    for (const [key, route] of Object.entries(routes) as [RouteName, (typeof routes)[RouteName]][]) {
      measured[key] = await measure(`${api.url}${route.path(agentId)}`)
      say(`  ${route.name}: ${measured[key].rps}/s, p50 ${measured[key].p50} ms`)
    }
    results.push({
      agents: size,
      launchPerSec: perSec,
      rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
      bareHono,
      routes: measured,
      healthRatio: round(measured.health.rps / bareHono.rps),
    })
  }
  report(results)
} finally {
  if (api) close(api.server)
  close(bareServer.server)
  await embedded?.stop()
  await temporary?.drop()
  rmSync(dataDir, { recursive: true, force: true })
}

function round(n: number, digits = 2) {
  return Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : null
}

function report(results: SizeResult[]) {
  const small = results[0]!
  const large = results.at(-1)!
  // The scaling targets: latency at the largest size within 1.5x of the smallest's.
  const growth = (route: RouteName) =>
    results.length > 1 ? round(large.routes[route].p50 / small.routes[route].p50) : null
  const result = {
    sizes: results,
    ratios: {
      healthToBareHono: Object.fromEntries(results.map((r) => [r.agents, r.healthRatio])),
      agentsPageP50: growth('agentsPage'),
      marketSearchP50: growth('marketSearch'),
    },
    target: { healthToBareHono: 0.3, agentsPageP50: 1.5, marketSearchP50: 1.5 },
    setup: {
      connections: CONNECTIONS,
      seconds,
      warmupSeconds: WARMUP_SECONDS,
      routes: Object.fromEntries(Object.entries(routes).map(([key, r]) => [key, r.name])),
      database: temporary ? 'Postgres' : 'PGlite',
      node: process.version,
    },
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`)
    return
  }
  const cell = (m: Measure) => {
    const flawed = m.non2xx + m.errors > 0 ? ` (${m.non2xx} non-2xx, ${m.errors} errors)` : ''
    return `${String(m.rps).padStart(7)}/s ${String(m.p50).padStart(5)} ${String(m.p99).padStart(5)}${flawed}`
  }
  const width = 44
  const row = (name: string, cells: string[]) =>
    console.log(`${name.padEnd(width)} ${cells.map((c) => c.padEnd(24)).join(' ')}`)
  row(
    '',
    results.map((r) => `${r.agents} agents`),
  )
  row(
    'route',
    results.map(() => `${'req/s'.padStart(9)} ${'p50'.padStart(5)} ${'p99'.padStart(5)}`),
  )
  row(
    'bare Hono (same process)',
    results.map((r) => cell(r.bareHono)),
  )
  for (const [key, route] of Object.entries(routes) as [RouteName, (typeof routes)[RouteName]][])
    row(
      route.name,
      results.map((r) => cell(r.routes[key])),
    )
  row(
    'RSS after launching and measuring',
    results.map((r) => `${r.rssMB} MB`),
  )
  row(
    'launches (through the runtime)',
    results.map((r) => `${r.launchPerSec}/s`),
  )
  console.log('(latency in ms)')
  console.log('')
  const verdict = (ok: boolean) => (ok ? 'met' : 'missed')
  for (const r of results)
    console.log(
      `/health vs bare Hono at ${r.agents} agents: ${r.healthRatio}x (target >= 0.3x, ${verdict((r.healthRatio ?? 0) >= 0.3)})`,
    )
  for (const [key, figure] of [
    ['agentsPage', result.ratios.agentsPageP50],
    ['marketSearch', result.ratios.marketSearchP50],
  ] as const) {
    if (figure === null) continue
    console.log(
      `${routes[key].name} p50 at ${large.agents} vs ${small.agents} agents: ${figure}x (target <= 1.5x, ${verdict(figure <= 1.5)})`,
    )
  }
  console.log(
    `(${result.setup.database}; ${CONNECTIONS} connections, ${seconds} s per route after ${WARMUP_SECONDS} s of warm-up)`,
  )
}
