/** What `npm run bench:scale` prints: a table with the reference figures beside, or one JSON object. */
import { availableParallelism } from 'node:os'
import { IDLE_SECONDS, type LaunchResult, PROGRESS_EVERY, round } from './bench-scale-launch.ts'
import { IN_FLIGHT, PAYERS_PER_PROCESS, type Rate, WARMUP_SECONDS } from './bench-scale-throughput.ts'

export type ThroughputResult = { processes: number; payers: number; raw: Rate; payments: Rate; jobs: Rate }

/** The targets and expectations, printed beside the figures. */
const JOBS_RATIO_TARGET = 0.25
const reference = {
  jobsRatio: `jobs per second as a ratio of raw transfers; target >= ${JOBS_RATIO_TARGET}x`,
  processes: 'on two cores the figure will not grow much with processes; report it honestly',
}

export type ReportParameters = {
  launch?: LaunchResult
  throughput: ThroughputResult[]
  seconds: number
  json: boolean
}

/**
 * Prints the results: with `json`, one JSON object on stdout; otherwise a readable table.
 *
 * @example
 * report({ launch, throughput, seconds: 20, json: false })
 */
export function report(parameters: ReportParameters) {
  const { launch, throughput, seconds } = parameters
  const result = {
    launch: launch ?? null,
    throughput: throughput.map((t) => ({
      processes: t.processes,
      payers: t.payers,
      rawTransfersPerSec: t.raw.perSec,
      paymentsPerSec: t.payments.perSec,
      jobsPerSec: t.jobs.perSec,
      paymentsRatio: round(t.payments.perSec / t.raw.perSec),
      jobsRatio: round(t.jobs.perSec / t.raw.perSec, 3),
      paymentP50Ms: t.payments.p50Ms,
      jobP50Ms: t.jobs.p50Ms,
      counted: { raw: t.raw.count, payments: t.payments.count, jobs: t.jobs.count },
      errors: { raw: t.raw.errors, payments: t.payments.errors, jobs: t.jobs.errors },
      firstErrors: {
        raw: t.raw.firstError ?? null,
        payments: t.payments.firstError ?? null,
        jobs: t.jobs.firstError ?? null,
      },
    })),
    target: { jobsRatio: JOBS_RATIO_TARGET },
    reference,
    setup: {
      seconds,
      warmupSeconds: WARMUP_SECONDS,
      inFlight: IN_FLIGHT,
      payersPerProcess: PAYERS_PER_PROCESS,
      idleSeconds: IDLE_SECONDS,
      cores: availableParallelism(),
      database: 'Postgres',
      node: process.version,
    },
  }
  if (parameters.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`)
    return
  }
  if (launch) printLaunch(launch)
  if (result.throughput.length > 0) printThroughput(result.throughput, seconds)
  console.log(`(Postgres; ${result.setup.cores} cores; node ${process.version})`)
}

const row = (name: string, value: string, note = '') =>
  console.log(`${name.padEnd(34)} ${value.padStart(16)}  ${note}`.trimEnd())

function printLaunch(launch: LaunchResult) {
  console.log(`\nLaunch: one process, ${launch.agents} agents over HTTP, ${launch.concurrency} at a time`)
  row(
    'launches',
    `${launch.launchesPerSec}/s`,
    launch.failed ? `${launch.failed} failed: ${launch.firstError}` : '',
  )
  row('launch request, p50 / p95', `${launch.p50Ms} / ${launch.p95Ms} ms`, 'until it answers')
  row('all active after', `${launch.allActiveSeconds} s`, `the last answer after ${launch.answeredSeconds} s`)
  row(
    'memory per agent (RSS)',
    `${launch.memoryPerAgentKB} KB`,
    `${launch.rssBeforeMB} MB before launching, ${launch.rssAfterMB} MB once all active`,
  )
  row('idle CPU after launching', `${launch.idleCpuPercent}%`, `of one core, over ${IDLE_SECONDS} s`)
  if (launch.ratesByThousand.length > 1)
    row(
      `launches per ${PROGRESS_EVERY}, in turn`,
      `${launch.ratesByThousand[0]} ... ${launch.ratesByThousand.at(-1)}/s`,
      launch.ratesByThousand.join(', '),
    )
  row(
    'devnet: mining one empty block',
    `${launch.emptyBlockMsBefore} -> ${launch.emptyBlockMsAfter} ms`,
    'before launching -> after (anvil rebuilds its whole state trie every block)',
  )
}

type Row = { processes: number; paymentsRatio: number; jobsRatio: number } & Record<string, unknown>

function printThroughput(rows: (Row & { errors: Record<string, number> })[], seconds: number) {
  console.log(
    `\nThroughput over HTTP: ${seconds} s per rate after ${WARMUP_SECONDS} s of warm-up, ${IN_FLIGHT} requests in flight`,
  )
  const width = 16
  const line = (name: string, cells: string[], note = '') =>
    console.log(`${name.padEnd(34)} ${cells.map((c) => c.padStart(width)).join('')}  ${note}`.trimEnd())
  line(
    '',
    rows.map((r) => (r.processes === 1 ? '1 process' : `${r.processes} processes`)),
    'reference',
  )
  line(
    'raw ERC-20 transfers (viem)',
    rows.map((r) => `${r.rawTransfersPerSec}/s`),
    'the chain on this machine',
  )
  line(
    'payments (POST /agents/{id}/pay)',
    rows.map((r) => `${r.paymentsPerSec}/s`),
  )
  line(
    '  payment p50 (sent to confirmed)',
    rows.map((r) => `${r.paymentP50Ms} ms`),
  )
  line(
    '  payments / raw',
    rows.map((r) => `${r.paymentsRatio}x`),
  )
  line(
    'full jobs (hire to completed)',
    rows.map((r) => `${r.jobsPerSec}/s`),
  )
  line(
    '  job p50 (hired to completed)',
    rows.map((r) => `${r.jobP50Ms} ms`),
  )
  line(
    '  jobs / raw',
    rows.map((r) => `${r.jobsRatio}x`),
    `target >= ${JOBS_RATIO_TARGET}x`,
  )
  const failed = rows.filter((r) => Object.values(r.errors).some((n) => n > 0))
  for (const r of failed)
    console.log(
      `errors with ${r.processes} process(es): ${JSON.stringify(r.errors)} ${JSON.stringify(r.firstErrors)}`,
    )
  console.log(`\nReference: ${reference.jobsRatio}.`)
  console.log(`Reference: ${reference.processes}.`)
  const verdict = rows.map((r) => `${r.jobsRatio}x with ${r.processes}`).join(', ')
  const met = rows.every((r) => r.jobsRatio >= JOBS_RATIO_TARGET)
  console.log(`jobs / raw: ${verdict} (target >= ${JOBS_RATIO_TARGET}x, ${met ? 'met' : 'missed'})`)
}
