/**
 * The launch phase of `npm run bench:scale`: many agents launched over HTTP on one process, with
 * the latency of each launch request, the wall time until all are `active`, the process's memory
 * per agent and its CPU use once idle again.
 */
import { createTestClient, http } from 'viem'
import { call, cpuSecondsOf, rssOf, type ScaleServer } from './bench-scale-server.ts'

export type LaunchResult = {
  agents: number
  concurrency: number
  /** Launch requests that did not answer 201 (the figures below count the others). */
  failed: number
  firstError?: string
  launchesPerSec: number
  /** Latency until the launch request answered, ms. */
  p50Ms: number
  p95Ms: number
  /** From the first request until the last answered, and until every launched agent was `active`, s. */
  answeredSeconds: number
  allActiveSeconds: number
  rssBeforeMB: number
  rssAfterMB: number
  /** (RSS once all are active - RSS before launching) / agents. */
  memoryPerAgentKB: number
  /** The process's user + system CPU over IDLE_SECONDS after the launches, as % of one core. */
  idleCpuPercent: number
  /** Launches per second of each PROGRESS_EVERY answers in turn: how the rate moves as agents accumulate. */
  ratesByThousand: number[]
  /**
   * The devnet's time to mine one empty block before launching and once all are active, ms (median
   * of MINE_SAMPLES): the chain's own cost per block, which grows with its state (see `mineMs`).
   */
  emptyBlockMsBefore: number
  emptyBlockMsAfter: number
}

export const PROGRESS_EVERY = 1_000
export const IDLE_SECONDS = 10
const MINE_SAMPLES = 5

/**
 * The median time the devnet takes to mine one empty block, ms. anvil 1.7 rebuilds its
 * whole state trie for every block, so this grows with the agents on the chain (each has a token-bound
 * account, a Safe and registry storage) and every launch, one block, pays it.
 */
export async function mineMs(rpcUrl: string): Promise<number> {
  const chain = createTestClient({ mode: 'anvil', transport: http(rpcUrl) })
  const times: number[] = []
  for (let i = 0; i < MINE_SAMPLES; i++) {
    const began = performance.now()
    await chain.mine({ blocks: 1 })
    times.push(performance.now() - began)
  }
  return round(
    percentile(
      times.sort((a, b) => a - b),
      0.5,
    ),
    1,
  )
}

/** Nearest-rank percentile of sorted numbers. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}

/**
 * Launches `agents` agents at `concurrency` requests at a time on `server`'s one process and
 * measures them (see `LaunchResult`).
 *
 * @example
 * const result = await measureLaunches(server, { agents: 10_000, concurrency: 8, say })
 */
export async function measureLaunches(
  server: ScaleServer,
  parameters: { agents: number; concurrency: number; say(line: string): void },
): Promise<LaunchResult> {
  const { agents, concurrency, say } = parameters
  const { pid } = server.holders[0]!
  const emptyBlockMsBefore = await mineMs(server.devnet.rpcUrl)
  const rssBefore = rssOf(pid)
  const started = performance.now()
  const ratesByThousand: number[] = []
  let lastAt = started
  const sent = await launchAll(server, agents, concurrency, (done, failed) => {
    const now = performance.now()
    ratesByThousand.push(round(PROGRESS_EVERY / ((now - lastAt) / 1_000), 1))
    lastAt = now
    const seconds = (now - started) / 1_000
    const left = Math.round((agents - done) / (done / seconds))
    say(
      `  launched ${done}/${agents} (${Math.round(done / seconds)}/s overall, ${ratesByThousand.at(-1)}/s for the last ${PROGRESS_EVERY}, ${failed} failed, about ${left} s to go)`,
    )
  })
  const answeredSeconds = (performance.now() - started) / 1_000
  await allActive(server, agents - sent.failed)
  const allActiveSeconds = (performance.now() - started) / 1_000
  const rssAfter = rssOf(pid)
  say(`  all active after ${allActiveSeconds.toFixed(1)} s; measuring idle CPU for ${IDLE_SECONDS} s...`)
  const cpuBefore = cpuSecondsOf(pid)
  await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1_000))
  const idleCpu = cpuSecondsOf(pid) - cpuBefore
  const emptyBlockMsAfter = await mineMs(server.devnet.rpcUrl)
  const latencies = sent.latencies.sort((a, b) => a - b)
  const mb = (bytes: number) => Math.round(bytes / 2 ** 20)
  return {
    agents,
    concurrency,
    failed: sent.failed,
    firstError: sent.firstError,
    launchesPerSec: round((agents - sent.failed) / answeredSeconds, 1),
    p50Ms: Math.round(percentile(latencies, 0.5)),
    p95Ms: Math.round(percentile(latencies, 0.95)),
    answeredSeconds: round(answeredSeconds, 1),
    allActiveSeconds: round(allActiveSeconds, 1),
    rssBeforeMB: mb(rssBefore),
    rssAfterMB: mb(rssAfter),
    memoryPerAgentKB: round((rssAfter - rssBefore) / 1024 / agents, 1),
    idleCpuPercent: round((idleCpu / IDLE_SECONDS) * 100, 1),
    ratesByThousand,
    emptyBlockMsBefore,
    emptyBlockMsAfter,
  }
}

/** Sends the launches, `concurrency` at a time; reports progress every PROGRESS_EVERY answers. */
async function launchAll(
  server: ScaleServer,
  agents: number,
  concurrency: number,
  progress: (done: number, failed: number) => void,
) {
  const latencies: number[] = []
  let next = 0
  let done = 0
  let failed = 0
  let firstError: string | undefined
  const one = async (i: number) => {
    const began = performance.now()
    const answer = await call(server.token, 'POST', `${server.url}/agents`, { name: `scale-${i}` }).catch(
      (error: Error) => ({ status: 0, body: { detail: error.message } }),
    )
    if (answer.status === 201) latencies.push(performance.now() - began)
    else {
      failed++
      firstError ??= `${answer.status}: ${String(answer.body.detail ?? JSON.stringify(answer.body))}`
    }
    if (++done % PROGRESS_EVERY === 0) progress(done, failed)
  }
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < agents) await one(next++)
    }),
  )
  return { latencies, failed, firstError }
}

/** Waits until `count` agents are `active` in the database (a launch answers once it landed). */
async function allActive(server: ScaleServer, count: number) {
  const deadline = Date.now() + 600_000
  for (;;) {
    const [row] = await server.sql<{ active: number }[]>`
      select count(*)::int as active from agents where status = 'active'`
    if (row!.active >= count) return
    if (Date.now() > deadline) throw new Error(`only ${row!.active} of ${count} agents became active`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

export function round(n: number, digits = 2) {
  return Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : Number.NaN
}
