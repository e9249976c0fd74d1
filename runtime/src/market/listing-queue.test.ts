import { describe, expect, test } from 'vitest'
import { createListingQueue } from './listing-queue.ts'

/** A refresh that waits until released, recording what ran and how many ran at once. */
function gatedRefresh() {
  const started: string[] = []
  const gates = new Map<string, () => void>()
  let running = 0
  let most = 0
  return {
    started,
    get most() {
      return most
    },
    release(id: string) {
      gates.get(id)?.()
      gates.delete(id)
    },
    refresh: async (id: string, signal: AbortSignal): Promise<undefined> => {
      started.push(id)
      running++
      most = Math.max(most, running)
      await new Promise<void>((resolve) => {
        gates.set(id, resolve)
        signal.addEventListener('abort', () => resolve())
      })
      running--
      return undefined
    },
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5))

describe('createListingQueue', () => {
  test('default: deduplicated, at most `concurrency` at once', async () => {
    const gated = gatedRefresh()
    const queue = createListingQueue({ refresh: gated.refresh, concurrency: 2, log: () => {} })
    for (const id of ['1', '2', '3', '3', '4', '1']) queue.schedule(id)
    await tick()
    // 1 was asked for again while it ran: it runs once more after.
    expect(gated.started).toEqual(['1', '2'])
    for (const id of ['1', '2', '3', '4', '1']) {
      gated.release(id)
      await tick()
    }
    await queue.idle()
    expect(gated.started).toEqual(['1', '2', '3', '4', '1'])
    expect(gated.most).toBe(2)
  })

  test('behavior: `refresh` runs now, past the queue, but never beside a refresh of the same agent', async () => {
    const gated = gatedRefresh()
    const queue = createListingQueue({ refresh: gated.refresh, concurrency: 1, log: () => {} })
    queue.schedule('1')
    queue.schedule('2')
    await tick()
    const direct = queue.refresh('3')
    const same = queue.refresh('1')
    await tick()
    expect(gated.started).toEqual(['1', '3'])
    gated.release('3')
    await direct
    gated.release('1')
    await tick()
    // The direct refresh of 1 follows the queued one at once; the queue goes on with 2.
    expect(gated.started).toEqual(['1', '3', '1', '2'])
    gated.release('1')
    await same
    gated.release('2')
    await queue.idle()
  })

  test('behavior: `stop` aborts what runs and drops what is queued; a throw is logged', async () => {
    const gated = gatedRefresh()
    const lines: string[] = []
    const queue = createListingQueue({ refresh: gated.refresh, concurrency: 1, log: (l) => lines.push(l) })
    queue.schedule('1')
    queue.schedule('2')
    await tick()
    await queue.stop()
    await queue.idle()
    expect(gated.started).toEqual(['1'])

    const failing = createListingQueue({
      refresh: async () => {
        throw new Error('boom')
      },
      log: (l) => lines.push(l),
    })
    await failing.refresh('9')
    expect(lines).toEqual(['market: agent 9 not refreshed: Error: boom'])
  })

  test('behavior: a refresh that asks for a retry is queued again after each delay, then left', async () => {
    const runs: number[] = []
    let wanted = true
    const queue = createListingQueue({
      refresh: async () => {
        runs.push(Date.now())
        return { retry: wanted }
      },
      retryDelaysMs: [20, 20],
      log: () => {},
    })
    queue.schedule('1')
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(runs).toHaveLength(3)
    // A refresh that succeeds starts the count again.
    wanted = false
    await queue.refresh('1')
    wanted = true
    queue.schedule('1')
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(runs).toHaveLength(7)
    await queue.stop()
  })
})
