import { sessionLocks } from '@agora/db'
import type { RuntimeClient } from '../client.ts'

export type LeadershipParameters = {
  /** The lease's name among the database's session locks. */
  name: string
  /** What the leader runs, once, when it takes the lease. */
  lead(): Promise<void>
  /** How often a process that does not lead tries to take the lease (default 2 s). */
  retryMs?: number
}

/**
 * Work that one process among those sharing the database does (following the chain): a session
 * lock is its lease. A process takes it at `start`, or later the moment the leader dies or stops,
 * trying every `retryMs`. On PGlite (one process) it always leads.
 *
 * @example
 * const leadership = createLeadership(client, { name: 'agora:indexer', lead: () => indexer.start() })
 * await leadership.start()
 */
export function createLeadership(
  client: Pick<RuntimeClient, 'db' | 'log'>,
  parameters: LeadershipParameters,
) {
  const locks = sessionLocks(client.db)
  const names = [parameters.name]
  let timer: ReturnType<typeof setTimeout> | undefined
  let state: 'stopped' | 'waiting' | 'leading' = 'stopped'
  let leading: Promise<void> | undefined

  async function attempt(): Promise<void> {
    if (state !== 'waiting') return
    const refused = await locks.take(names).catch(() => names)
    if (state !== 'waiting') {
      if (refused.length === 0) await locks.release(names)
      return
    }
    if (refused.length > 0) {
      timer = setTimeout(() => void attempt(), parameters.retryMs ?? 2_000)
      return
    }
    state = 'leading'
    client.log(`runtime: this process leads ${parameters.name}`)
    leading = parameters.lead()
    await leading
  }

  return {
    /** Takes the lease now if it is free (and waits for `lead` to start), or keeps trying. */
    async start(): Promise<void> {
      if (state !== 'stopped') return
      state = 'waiting'
      await attempt()
    },
    get leading(): boolean {
      return state === 'leading'
    },
    /** Stops trying; a leader gives the lease back (after `stopLead`, which the caller runs). */
    async stop(stopLead: () => Promise<void>): Promise<void> {
      if (timer) clearTimeout(timer)
      const led = state === 'leading'
      state = 'stopped'
      if (!led) return
      await leading?.catch(() => {})
      await stopLead()
      await locks.release(names)
    },
  }
}

export type Leadership = ReturnType<typeof createLeadership>
