/**
 * The market's refreshes: `schedule` queues one in the background (an agent already queued is not
 * queued twice; one asked for while its refresh runs runs once more after it), at most
 * `concurrency` at a time, so a slow file never holds up the indexer or the other agents; `refresh`
 * runs one now and waits for it (for agents hosted here, whose files are built locally). Refreshes
 * of one agent never overlap. A refresh that asks for a retry (a file not served yet: another
 * runtime's agent is announced on the chain before that runtime has settled its launch) is queued
 * again after each of `retryDelaysMs` in turn.
 */
export type ListingQueue = {
  schedule(chainAgentId: string): void
  refresh(chainAgentId: string): Promise<void>
  /** Resolves once nothing is queued or running. */
  idle(): Promise<void>
  /** Stops what runs (its fetches are aborted), drops what is queued; the queue stays usable. */
  stop(): Promise<void>
}

export type CreateListingQueueParameters = {
  /** One refresh; `signal` aborts when the queue stops. Should not throw (a throw is logged). */
  refresh(chainAgentId: string, signal: AbortSignal): Promise<{ retry?: boolean } | undefined>
  /** Refreshes in the background at once (default 4). */
  concurrency?: number
  /** Waits before the retries a refresh asks for (default 2 s, 10 s, 60 s). */
  retryDelaysMs?: number[]
  log(line: string): void
}

/** @example const queue = createListingQueue({ refresh: (id, signal) => refreshListing(client, id, { signal }), log }) */
export function createListingQueue(parameters: CreateListingQueueParameters): ListingQueue {
  const { concurrency = 4, retryDelaysMs = [2_000, 10_000, 60_000], log } = parameters
  const queued = new Set<string>()
  const running = new Set<string>()
  const again = new Set<string>()
  // The last refresh of each agent (queued or direct): the next one starts after it.
  const tails = new Map<string, Promise<void>>()
  const inFlight = new Set<Promise<void>>()
  // Retries already made of each agent since its last refresh that did not ask for one.
  const retries = new Map<string, number>()
  const timers = new Set<ReturnType<typeof setTimeout>>()
  let idleWaiters: (() => void)[] = []
  let controller = new AbortController()

  function retryLater(chainAgentId: string, wanted: boolean) {
    const made = retries.get(chainAgentId) ?? 0
    if (!wanted || made >= retryDelaysMs.length) return void retries.delete(chainAgentId)
    retries.set(chainAgentId, made + 1)
    const timer = setTimeout(() => {
      timers.delete(timer)
      queue.schedule(chainAgentId)
    }, retryDelaysMs[made])
    timer.unref()
    timers.add(timer)
  }

  function serialized(chainAgentId: string): Promise<void> {
    const signal = controller.signal
    const run = async () => {
      if (signal.aborted) return
      const result = await parameters.refresh(chainAgentId, signal).catch((error: unknown) => {
        log(`market: agent ${chainAgentId} not refreshed: ${String(error)}`)
        return undefined
      })
      if (!signal.aborted) retryLater(chainAgentId, result?.retry === true)
    }
    const next = (tails.get(chainAgentId) ?? Promise.resolve()).then(run)
    tails.set(chainAgentId, next)
    inFlight.add(next)
    void next.finally(() => {
      inFlight.delete(next)
      if (tails.get(chainAgentId) === next) tails.delete(chainAgentId)
    })
    return next
  }

  function pump() {
    for (const chainAgentId of queued) {
      if (running.size >= concurrency) break
      queued.delete(chainAgentId)
      running.add(chainAgentId)
      void serialized(chainAgentId).finally(() => {
        running.delete(chainAgentId)
        if (again.delete(chainAgentId)) queued.add(chainAgentId)
        pump()
      })
    }
    if (queued.size === 0 && running.size === 0) {
      for (const wake of idleWaiters) wake()
      idleWaiters = []
    }
  }

  const queue: ListingQueue = {
    schedule(chainAgentId) {
      if (queued.has(chainAgentId)) return
      if (running.has(chainAgentId)) again.add(chainAgentId)
      else queued.add(chainAgentId)
      pump()
    },
    refresh: (chainAgentId) => serialized(chainAgentId),
    idle() {
      if (queued.size === 0 && running.size === 0) return Promise.resolve()
      return new Promise((resolve) => idleWaiters.push(resolve))
    },
    async stop() {
      queued.clear()
      again.clear()
      controller.abort()
      await Promise.all([...inFlight])
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      retries.clear()
      controller = new AbortController()
    },
  }
  return queue
}
