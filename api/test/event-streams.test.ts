import { appendActivities } from '@agora/db'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { problemOf, startTestApi, type TestApi } from './harness.ts'

// Finding 5: anyone could open any number of event streams, and each replayed an agent's whole
// history: 300 streams with `Last-Event-ID: 0` on an agent with 5k events stalled /health for 35 s.

let api: TestApi
let agentId: string
const history = 2_500

/** A request as if from the socket address `ip` (the API keys its per-client caps by it). */
const from = (ip: string) => ({ incoming: { socket: { remoteAddress: ip } } })

/** Reads a stream until it ends or `ms` pass without anything new; the ids of the events read. */
async function readIds(response: Response, ms = 1_500): Promise<{ ids: number[]; ended: boolean }> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  let text = ''
  let ended = false
  for (;;) {
    const next = await Promise.race([
      reader.read(),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), ms)),
    ])
    if (!next) break
    if (next.done) {
      ended = true
      break
    }
    text += next.value
  }
  if (!ended) await reader.cancel()
  return { ids: [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1])), ended }
}

const openStreams = async (app = api.app) =>
  ((await (await app.request('/health')).json()) as { streams: number }).streams

beforeAll(async () => {
  api = await startTestApi()
  const owner = await api.signIn(2)
  const launched = await api.call('POST', '/agents', { name: 'busy' }, owner.token)
  agentId = ((await launched.json()) as { id: string }).id
  // A long history, written straight to the feed.
  await appendActivities(
    api.embedded.db,
    Array.from({ length: history }, (_, n) => ({
      agentId,
      kind: 'job' as const,
      data: { event: 'noise', n },
    })),
  )
})
afterAll(async () => {
  await api?.stop()
})

describe('GET /agents/:id/events limits', () => {
  test('behavior: one client holds at most 10 streams; the next is a 429 with Retry-After', async () => {
    const controllers = Array.from({ length: 10 }, () => new AbortController())
    const open = await Promise.all(
      controllers.map((c) =>
        api.app.request(
          `/agents/${agentId}/events`,
          { headers: { 'last-event-id': '999999999' }, signal: c.signal },
          from('10.0.0.1'),
        ),
      ),
    )
    expect(open.map((r) => r.status)).toEqual(Array(10).fill(200))
    const refused = await api.app.request(`/agents/${agentId}/events`, {}, from('10.0.0.1'))
    expect(await problemOf(refused)).toMatchObject({ status: 429, code: 'RATE_LIMITED' })
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
    // Another client is not affected.
    const other = await api.app.request(
      `/agents/${agentId}/events`,
      { headers: { 'last-event-id': '999999999' } },
      from('10.0.0.2'),
    )
    expect(other.status).toBe(200)
    await other.body!.cancel()
    for (const response of open) await response.body!.cancel()
    await expect.poll(() => openStreams()).toBe(0)
    // Closed streams free their place.
    const again = await api.app.request(
      `/agents/${agentId}/events`,
      { headers: { 'last-event-id': '999999999' } },
      from('10.0.0.1'),
    )
    expect(again.status).toBe(200)
    await again.body!.cancel()
  })

  test('behavior: the total of open streams is capped (configurable)', async () => {
    const app = api.appWith({ eventStreams: { total: 3 } })
    const open = await Promise.all(
      [1, 2, 3].map((n) =>
        app.request(
          `/agents/${agentId}/events`,
          { headers: { 'last-event-id': '999999999' } },
          from(`10.0.1.${n}`),
        ),
      ),
    )
    expect(open.map((r) => r.status)).toEqual([200, 200, 200])
    const refused = await app.request(`/agents/${agentId}/events`, {}, from('10.0.1.9'))
    expect(await problemOf(refused)).toMatchObject({ status: 429, code: 'RATE_LIMITED' })
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/)
    for (const response of open) await response.body!.cancel()
    await expect.poll(() => openStreams(app)).toBe(0)
  })

  test('behavior: one connection replays at most 1,000 stored events, then ends; Last-Event-ID resumes without gaps', async () => {
    const seen: number[] = []
    let last = 0
    for (let round = 0; round < 5; round++) {
      const response = await api.app.request(`/agents/${agentId}/events`, {
        headers: { 'last-event-id': String(last) },
      })
      const { ids, ended } = await readIds(response)
      if (ids.length === 0) break
      expect(ids.length).toBeLessThanOrEqual(1_000)
      // A full page means more is stored: the stream ends so the client comes back for it.
      if (ids.length === 1_000) expect(ended).toBe(true)
      seen.push(...ids)
      last = ids.at(-1)!
    }
    expect(seen.length).toBeGreaterThanOrEqual(history)
    expect(new Set(seen).size).toBe(seen.length)
    expect(seen).toEqual([...seen].sort((a, b) => a - b))
  })

  test('behavior: a consumer that stops reading is dropped instead of held open', async () => {
    const app = api.appWith({ eventStreams: { writeTimeoutMs: 200 } })
    // Never read: the first write waits for a reader that never comes.
    const response = await app.request(`/agents/${agentId}/events`, {}, from('10.0.2.1'))
    expect(response.status).toBe(200)
    expect(await openStreams(app)).toBe(1)
    await expect.poll(() => openStreams(app), { timeout: 5_000 }).toBe(0)
  })
})
