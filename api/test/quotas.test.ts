import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { problemOf, startTestApi, type TestApi } from './harness.ts'

// Finding 3: anyone who signs in made the relayer pay without limit: a fresh, unfunded key launched
// 20 agents in 449 ms at 433k gas each. Launches, transactions and gas are counted per owner.

let api: TestApi

beforeAll(async () => {
  api = await startTestApi()
})
afterAll(async () => {
  await api?.stop()
})

describe('per-owner quotas', () => {
  test('behavior: a fresh key launches 20 agents a day; the rest are 429 with Retry-After, and nothing is launched for them', async () => {
    const { token, address } = await api.signIn(7)
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, n) => api.call('POST', '/agents', { name: `spam-${n}` }, token)),
    )
    const statuses = responses.map((r) => r.status)
    expect(statuses.filter((s) => s === 201)).toHaveLength(20)
    expect(statuses.filter((s) => s === 429)).toHaveLength(10)
    for (const response of responses.filter((r) => r.status === 429)) {
      expect(await problemOf(response)).toMatchObject({ code: 'QUOTA_EXCEEDED' })
      const retryAfter = Number(response.headers.get('retry-after'))
      expect(retryAfter).toBeGreaterThan(0)
      expect(retryAfter).toBeLessThanOrEqual(24 * 3_600)
    }
    const { agents } = (await (await api.app.request(`/agents?owner=${address}`)).json()) as {
      agents: unknown[]
    }
    expect(agents).toHaveLength(20)
    // Another owner is not affected.
    const other = await api.signIn(8)
    expect((await api.call('POST', '/agents', { name: 'other-owner' }, other.token)).status).toBe(201)
  })
})
