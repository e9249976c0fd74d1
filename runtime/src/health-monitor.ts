import { listActivity as listActivityRows } from '@agora/db'
import type { RuntimeClient } from './client.ts'
import type { OutboxWorker } from './outbox/outbox-worker.ts'
import type { RuntimeHealth } from './runtime.ts'

/** What the monitor reads; the runtime adds who this process is. */
type CheckedHealth = Omit<RuntimeHealth, 'shard' | 'followsChain'>

/**
 * `health()` without a chain call or a query per request: the chain's head, a database round trip
 * and the check for a rolled-back chain are read at most once per `maxAgeMs` (default 1 s),
 * whatever the number of callers; a caller finding them older gets the last answer at once while
 * a fresh one is read in the background (the first caller waits for the first). Recovery's own
 * state is in memory and always current.
 *
 * @example
 * const health = createHealthMonitor(client, worker)
 * const { block, database, recovery } = await health.read()
 */
export function createHealthMonitor(
  client: Pick<RuntimeClient, 'chain' | 'db'>,
  worker: Pick<OutboxWorker, 'check' | 'status'>,
  maxAgeMs = 1_000,
) {
  let last: { at: number; value: CheckedHealth } | undefined
  let reading: Promise<CheckedHealth> | undefined

  async function probe(): Promise<CheckedHealth> {
    const [block, database, recovery] = await Promise.all([
      client.chain.publicClient.getBlockNumber({ cacheTime: 0 }).then(Number, () => null),
      listActivityRows(client.db, { limit: 1 }).then(
        () => 'ok' as const,
        () => 'unavailable' as const,
      ),
      worker.check().catch(() => worker.status()),
    ])
    return { chainId: client.chain.chainId, block, database, recovery }
  }

  function refresh(): Promise<CheckedHealth> {
    reading ??= probe()
      .then((value) => {
        last = { at: Date.now(), value }
        return value
      })
      .finally(() => {
        reading = undefined
      })
    return reading
  }

  return {
    async read(): Promise<CheckedHealth> {
      const known = last
      if (!known) return refresh()
      if (Date.now() - known.at > maxAgeMs) void refresh().catch(() => {})
      // A rolled-back chain found by the last check counts until a check finds it given back.
      const recovery = known.value.recovery.replaying ? known.value.recovery : worker.status()
      return { ...known.value, recovery }
    },
  }
}
