import { ChainUnavailableError } from '../errors.ts'
import type { Outbox } from './outbox.ts'

/**
 * Holds `lane` until `work` has settled: recovery finishes a lane's earlier transactions before a new
 * one is built on its state (a Safe's next nonce is only known once they landed).
 */
export function holdLane(outbox: Outbox, lane: string, work: Promise<unknown>): Promise<void> {
  const { lanes } = outbox.recovery
  const held = Promise.all([lanes.get(lane), work.catch(() => {})]).then(() => {})
  lanes.set(lane, held)
  void held.then(() => {
    if (lanes.get(lane) === held) lanes.delete(lane)
  })
  return held
}

/**
 * Waits for the recovery that concerns a new transaction of `lane` (a chain replay, the lane's earlier
 * transactions), at most `recoveryWaitMs`; then refuses with a `ChainUnavailableError` (503: the
 * intent stays recorded and is sent once recovery is over).
 */
export function awaitRecovery(outbox: Outbox, lane: string): Promise<void> | undefined {
  const { starting, replaying, lanes } = outbox.recovery
  const waits = [starting, replaying, lanes.get(lane)].filter((w) => w !== undefined)
  // Nothing to wait for (nearly always): no promise, so a send costs no extra turn of the event loop.
  if (waits.length === 0) return undefined
  return waitOrRefuse(waits, outbox.recoveryWaitMs)
}

async function waitOrRefuse(waits: Promise<unknown>[], ms: number) {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms)
  })
  const outcome = await Promise.race([
    Promise.all(waits).then(
      () => 'done' as const,
      () => 'done' as const,
    ),
    late,
  ])
  clearTimeout(timer)
  if (outcome === 'late')
    throw new ChainUnavailableError(
      'The runtime is still finishing transactions from before a restart or an outage; this one is recorded and goes out once they are done.',
      { meta: { reason: 'recovering' } },
    )
}
