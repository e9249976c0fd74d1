import { appendActivities, listActivity } from '@agora/db'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { problemOf, startTestApi, type TestApi } from './harness.ts'

// `GET /events`: every agent's activity in one stream, as each caller may see it.

type Entry = { id: number; agentId: string | null; kind: string; data: Record<string, unknown> }

let api: TestApi
let owner: { token: string }
let mine: string
let theirs: string
let lastStored: number

/** Reads a stream's events until `done(events)` holds, then stops reading. */
async function readUntil(response: Response, done: (events: Entry[]) => boolean): Promise<Entry[]> {
  expect(response.status).toBe(200)
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  let text = ''
  let events: Entry[] = []
  while (!done(events)) {
    const next = await reader.read()
    if (next.done) break
    text += next.value
    events = [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!) as Entry)
  }
  await reader.cancel()
  return events
}

const through = (id: number) => (events: Entry[]) => events.some((e) => e.id >= id)
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

beforeAll(async () => {
  api = await startTestApi()
  owner = await api.signIn(2)
  const other = await api.signIn(3)
  const launch = async (name: string, token: string) =>
    ((await (await api.call('POST', '/agents', { name }, token)).json()) as { id: string }).id
  mine = await launch('mine', owner.token)
  theirs = await launch('theirs', other.token)
  // A refusal and a memo of each: what only their owners may read.
  const stored = await appendActivities(api.embedded.db, [
    { agentId: mine, kind: 'guardrail', data: { refused: 'pay', reason: 'over my cap' } },
    { agentId: theirs, kind: 'guardrail', data: { refused: 'pay', reason: 'over their cap' } },
    { agentId: theirs, kind: 'payment', data: { event: 'paid', memo: 'their secret', direction: 'out' } },
    { agentId: mine, kind: 'job', data: { event: 'noise' } },
  ])
  lastStored = stored.at(-1)!.id
})
afterAll(async () => {
  await api?.stop()
})

describe('GET /events', () => {
  test('default: every agent’s entries; the caller’s own in full, the others’ public kinds and facts only', async () => {
    const seen = await readUntil(
      await api.app.request('/events?lastEventId=0', { headers: bearer(owner.token) }),
      through(lastStored),
    )
    const ids = seen.map((e) => e.id)
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    expect(new Set(seen.map((e) => e.agentId))).toEqual(new Set([mine, theirs]))
    const refusals = seen.filter((e) => e.kind === 'guardrail')
    expect(refusals.map((e) => e.data.reason)).toEqual(['over my cap'])
    const payment = seen.find((e) => e.kind === 'payment' && e.agentId === theirs)!
    expect(payment.data).toEqual({ event: 'paid', direction: 'out' })

    const anonymous = await readUntil(await api.app.request('/events?lastEventId=0'), through(lastStored))
    expect(anonymous.filter((e) => e.kind === 'guardrail')).toEqual([])
    expect(anonymous.map((e) => e.id)).toEqual(
      ids.filter((id) => seen.find((e) => e.id === id)!.kind !== 'guardrail'),
    )
  })

  test('behavior: without Last-Event-ID it starts with the latest `recent` entries', async () => {
    const stored = await listActivity(api.embedded.db, { afterId: lastStored - 3, limit: 10 })
    const latest = stored.at(-1)!.id
    const seen = await readUntil(
      await api.app.request('/events?recent=2', { headers: bearer(owner.token) }),
      through(latest),
    )
    expect(seen.map((e) => e.id)).toEqual([latest - 1, latest])
  })

  test('behavior: Last-Event-ID resumes after it, without gaps or repeats, then goes live', async () => {
    const all = await readUntil(
      await api.app.request('/events?lastEventId=0', { headers: bearer(owner.token) }),
      through(lastStored),
    )
    const cut = all[Math.floor(all.length / 2)]!.id
    const response = await api.app.request('/events', {
      headers: { ...bearer(owner.token), 'last-event-id': String(cut) },
    })
    // Live: an entry the runtime records after the stream opened (pausing the agent).
    const paused = await api.call('POST', `/agents/${mine}/pause`, undefined, owner.token)
    expect(paused.status).toBe(200)
    const resumed = await readUntil(response, (events) => events.some((e) => e.data.event === 'paused'))
    const ids = resumed.map((e) => e.id)
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b))
    expect(ids.slice(0, all.filter((e) => e.id > cut).length)).toEqual(
      all.filter((e) => e.id > cut).map((e) => e.id),
    )
    expect(resumed.at(-1)).toMatchObject({ agentId: mine, kind: 'lifecycle', data: { event: 'paused' } })
  })

  test('behavior: a bad id or a `recent` out of range is a 400', async () => {
    expect((await problemOf(await api.app.request('/events?lastEventId=x'))).status).toBe(400)
    expect((await problemOf(await api.app.request('/events?recent=5000'))).status).toBe(400)
  })
})
