import type { RuntimeClient } from '../client.ts'
import { recoverIntents } from './recover-intents.ts'
import { repairRollback, rolledBackRelayers } from './repair-rollback.ts'

/** What recovery is doing, as `health()` reports it. */
export type RecoveryStatus = {
  /** True while anything below runs: new transactions of the lanes concerned wait for it. */
  running: boolean
  /** Lanes (a Safe's, the factory's) whose earlier transactions are still being finished. */
  lanes: number
  /** A rolled-back chain is being given back the transactions it lost. */
  replaying: boolean
}

export type OutboxWorkerParameters = {
  /** How often unfinished intents are looked for (default 5 s). */
  intervalMs?: number
  /** Called after a rolled-back chain was given its transactions back. */
  onReplayed?(count: number): Promise<void> | void
}

/**
 * The outbox's background work while the runtime runs: at start and then every `intervalMs`, it
 * gives a rolled-back chain back what it lost (`repairRollback`), then hands every intent nobody is
 * sending to recovery (`recoverIntents`): payments recorded while the chain did not answer, sends
 * interrupted by an outage, what a previous process left.
 *
 * @example
 * const worker = createOutboxWorker(client)
 * const { settled } = worker.start()
 */
export function createOutboxWorker(client: RuntimeClient, parameters: OutboxWorkerParameters = {}) {
  const { outbox } = client
  const intervalMs = parameters.intervalMs ?? 5_000
  let timer: ReturnType<typeof setTimeout> | undefined
  let passing: Promise<unknown> | undefined
  let stopped = true

  async function pass(olderThanMs: number) {
    const replayed = await repairRollback(client)
    if (replayed > 0) await parameters.onReplayed?.(replayed)
    return recoverIntents(client, { olderThanMs })
  }
  const report = (error: unknown) => {
    outbox.log(`transactions: recovery pass failed: ${(error as Error).message.split('\n')[0]}`)
    return undefined
  }
  const schedule = () => {
    if (!stopped) timer = setTimeout(tick, intervalMs)
  }
  const tick = () => {
    if (stopped) return
    passing = pass(intervalMs).catch(report).finally(schedule)
  }

  return {
    /**
     * Starts the work: the first pass now. `settled` resolves once everything it handed out is
     * settled (or given up for now); nothing waits for it unless the caller does.
     */
    start(): { settled: Promise<void> } {
      if (!stopped) return { settled: Promise.resolve() }
      stopped = false
      const first = pass(0).catch(report)
      outbox.recovery.starting = first
      passing = first.finally(() => {
        outbox.recovery.starting = undefined
        schedule()
      })
      return { settled: first.then((recovered) => recovered?.settled) }
    },
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      await passing?.catch(() => {})
    },
    status(): RecoveryStatus {
      const { lanes, replaying, starting } = outbox.recovery
      return {
        running: starting !== undefined || replaying !== undefined || lanes.size > 0,
        lanes: lanes.size,
        replaying: replaying !== undefined,
      }
    },
    /**
     * `status()`, having also asked the chain whether it lost transactions the runtime saw land (a
     * node restored from an older state): then recovery counts as running, and a pass starts now
     * rather than at its time.
     */
    async check(): Promise<RecoveryStatus> {
      const rolled = await rolledBackRelayers(outbox).catch(() => [])
      if (rolled.length === 0) return this.status()
      if (!stopped && !outbox.recovery.replaying && !outbox.recovery.starting) {
        if (timer) clearTimeout(timer)
        tick()
      }
      return { ...this.status(), running: true, replaying: true }
    },
  }
}

export type OutboxWorker = ReturnType<typeof createOutboxWorker>
