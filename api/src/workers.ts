import cluster, { type Worker } from 'node:cluster'
import type { Config } from './config.ts'

/** A worker that ends sooner than this after its start counts as failing to start. */
const quickExitMs = 10_000

/**
 * `AGORA_WORKERS=n`: runs the API as n processes on one Postgres database and one port, process i
 * serving shard i of the agents with every n-th relayer key (`RELAYER_KEYS`). Connections are
 * spread over the processes by node's cluster; a request for an agent another process serves is
 * forwarded to it. A process that dies is replaced at once: the new one takes its shard over (the
 * dead one's locks went with its connections), finishes what it left, and serves its agents again.
 * SIGINT or SIGTERM stops them all. Runs until it ends the process.
 *
 * @example
 * if (config.workers > 1 && cluster.isPrimary) await superviseWorkers(config)
 */
export async function superviseWorkers(
  config: Config,
  log = (line: string) => console.log(line),
): Promise<never> {
  const n = config.workers
  const keys = config.mode === 'chain' ? config.relayerKeys : []
  const shardOf = new Map<number, number>()
  const startedAt = new Map<number, number>()
  const quickExits = new Map<number, number>()
  let stopping = false

  const fork = (shard: number) => {
    const worker = cluster.fork({
      AGORA_WORKERS: '',
      AGORA_SHARD: String(shard),
      RELAYER_KEYS: keys.filter((_, i) => i % n === shard).join(','),
    })
    shardOf.set(worker.id, shard)
    startedAt.set(worker.id, Date.now())
  }
  cluster.on('exit', (worker: Worker, code, signal) => {
    const shard = shardOf.get(worker.id)!
    if (stopping) return
    const quick = Date.now() - (startedAt.get(worker.id) ?? 0) < quickExitMs
    const exits = quick ? (quickExits.get(shard) ?? 0) + 1 : 0
    quickExits.set(shard, exits)
    // A process that cannot start (a bad key, a database down) is started again, less and less often.
    const delay = Math.min(30_000, exits === 0 ? 0 : 500 * 2 ** exits)
    log(
      `workers: process ${worker.process.pid} (shard ${shard}) ended (${signal ?? `exit ${code}`}); another takes shard ${shard} over${delay ? ` in ${delay / 1000} s` : ''}`,
    )
    setTimeout(() => !stopping && fork(shard), delay)
  })
  log(`workers: starting ${n} processes on one database, shards 0-${n - 1}`)
  for (let shard = 0; shard < n; shard++) fork(shard)

  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    log(`\n${signal}: stopping ${Object.keys(cluster.workers ?? {}).length} processes`)
    const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined)
    await Promise.race([
      Promise.all(
        alive.map(
          (w) =>
            new Promise<void>((resolve) => {
              w.once('exit', () => resolve())
              w.process.kill('SIGTERM')
            }),
        ),
      ),
      new Promise((resolve) => setTimeout(resolve, 30_000)),
    ])
    process.exit(0)
  }
  process.once('SIGINT', () => void stop('SIGINT'))
  process.once('SIGTERM', () => void stop('SIGTERM'))
  return new Promise<never>(() => {})
}
