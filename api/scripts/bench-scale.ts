/**
 * How the API scales, each phase on a fresh devnet and a fresh temporary Postgres database, with
 * `npm start` in chain mode as child processes:
 *
 * 1. Launch: one process; `--agents N` agents launched over HTTP, `--concurrency C` at a time:
 *    launches per second, p50/p95 latency of the launch request, the wall time until all are
 *    `active`, the process's memory per agent (RSS) and its CPU use once idle.
 * 2. Throughput with `--processes 1,2,4` (`AGORA_WORKERS=k`, a single process for 1): payments and
 *    full jobs per second over HTTP, each sent to the process serving its payer, beside the chain's
 *    raw rate of plain ERC-20 transfers on the same anvil, and the ratios to it.
 *
 * `npm run bench:scale` prints a table; `-- --json` one JSON object; `-- --seconds N` how long each
 * rate is measured (default 20); `-- --skip-launch`, `-- --skip-throughput` leave a phase out. It
 * needs Postgres: `DATABASE_URL` (default postgres://postgres@127.0.0.1:5432/test) is where the
 * temporary databases are created and dropped.
 */
import { parseArgs } from 'node:util'
import { startWebhookReceiver } from '@agora/agents'
import type { Hex } from 'viem'
import { type LaunchResult, measureLaunches } from './bench-scale-launch.ts'
import { report, type ThroughputResult } from './bench-scale-report.ts'
import { createCleanup, startServer } from './bench-scale-server.ts'
import { launchParties, measureJobs, measurePayments, measureRawTransfers } from './bench-scale-throughput.ts'

process.env.DATABASE_URL ||= 'postgres://postgres@127.0.0.1:5432/test'
// After DATABASE_URL is set: the module reads it once, when loaded.
const { createTemporaryDatabase } = await import('@agora/db/testing')

function fail(line: string): never {
  console.error(line)
  process.exit(2)
}

const usage =
  'usage: npm run bench:scale -- [--agents N] [--concurrency C] [--processes 1,2,4] [--seconds S] [--json] [--skip-launch] [--skip-throughput]'
let flags: ReturnType<typeof parse>
function parse() {
  return parseArgs({
    options: {
      agents: { type: 'string', default: '10000' },
      concurrency: { type: 'string', default: '8' },
      processes: { type: 'string', default: '1,2,4' },
      seconds: { type: 'string', default: '20' },
      json: { type: 'boolean', default: false },
      'skip-launch': { type: 'boolean', default: false },
      'skip-throughput': { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  }).values
}
try {
  flags = parse()
} catch (error) {
  fail(`${(error as Error).message}\n${usage}`)
}

/** A whole number from `--name`, within [min, max]. */
function whole(name: string, value: string, min: number, max: number): number {
  const n = Number(value.trim().replace(/_/g, ''))
  if (!Number.isInteger(n) || n < min || n > max)
    fail(`--${name} takes a whole number from ${min} to ${max}, not "${value}"\n${usage}`)
  return n
}

const agents = whole('agents', flags.agents, 1, 1_000_000)
const concurrency = whole('concurrency', flags.concurrency, 1, 256)
const seconds = whole('seconds', flags.seconds, 1, 3_600)
const processes = flags.processes.split(',').map((k) => whole('processes', k, 1, 32))
if (new Set(processes).size !== processes.length) fail(`--processes lists a number twice: ${flags.processes}`)
if (flags['skip-launch'] && flags['skip-throughput'])
  fail('--skip-launch and --skip-throughput together leave nothing to measure')
const json = flags.json
const say = (line: string) => {
  if (!json) process.stderr.write(`${line}\n`)
}

/** Development accounts: 2 signs in and owns every agent, 3 funds the payers, RAW_SENDERS send raw transfers. */
const OWNER_INDEX = 2
const FUNDER_INDEX = 3
const RAW_SENDERS = { first: 4, count: 8 }
/** Relayers of the launch phase's one process: as many as launches in flight by default. */
const LAUNCH_RELAYERS = 8
const RELAYERS_PER_PROCESS = 2
// The relayers are the last accounts, after the ones above.
const ACCOUNTS =
  RAW_SENDERS.first +
  RAW_SENDERS.count +
  Math.max(LAUNCH_RELAYERS, RELAYERS_PER_PROCESS * Math.max(...processes))

const cleanup = createCleanup(say)
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping every process, devnet and database of the bench...\n`)
    void cleanup.run().finally(() => process.exit(130))
  })

const serverFor = (k: number, relayers: number) =>
  startServer({
    processes: k,
    relayers,
    accounts: ACCOUNTS,
    ownerIndex: OWNER_INDEX,
    createDatabase: createTemporaryDatabase,
    cleanup,
    say,
  })

async function launchPhase(): Promise<LaunchResult> {
  say(`launch: one process, ${agents} agents over HTTP, ${concurrency} at a time`)
  const server = await serverFor(1, LAUNCH_RELAYERS)
  try {
    return await measureLaunches(server, { agents, concurrency, say })
  } finally {
    await server.stop()
  }
}

async function throughputPhase(k: number): Promise<ThroughputResult> {
  say(`throughput: ${k === 1 ? 'one process' : `AGORA_WORKERS=${k}`}, ${seconds} s per rate`)
  const server = await serverFor(k, RELAYERS_PER_PROCESS * k)
  const receiver = await startWebhookReceiver({ handle: (job) => ({ received: job.input }) })
  const closeReceiver = cleanup.add(() => receiver.close())
  try {
    const parties = await launchParties(server, { webhook: receiver.url, funderIndex: FUNDER_INDEX })
    const { accounts } = server.devnet.manifest
    const senders = accounts.slice(RAW_SENDERS.first, RAW_SENDERS.first + RAW_SENDERS.count)
    say(`  raw ERC-20 transfers from ${senders.length} accounts...`)
    const raw = await measureRawTransfers(server, {
      senders: senders.map((a) => a.privateKey as Hex),
      to: accounts[1]!.address,
      seconds,
    })
    say(`  ${raw.perSec}/s; payments from ${parties.payers.length} payers...`)
    const payments = await measurePayments(server, parties, seconds)
    say(`  ${payments.perSec}/s; jobs...`)
    const jobs = await measureJobs(server, parties, seconds)
    say(`  ${jobs.perSec}/s`)
    return { processes: k, payers: parties.payers.length, raw, payments, jobs }
  } finally {
    await closeReceiver()
    await server.stop()
  }
}

try {
  const launch = flags['skip-launch'] ? undefined : await launchPhase()
  const throughput: ThroughputResult[] = []
  if (!flags['skip-throughput']) for (const k of processes) throughput.push(await throughputPhase(k))
  report({ launch, throughput, seconds, json })
} catch (error) {
  console.error(`bench:scale failed: ${(error as Error).stack ?? error}`)
  process.exitCode = 1
} finally {
  await cleanup.run()
}
// Keep-alive sockets to the stopped servers would hold the process for a few seconds more.
process.exit()
