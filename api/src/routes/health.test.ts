import type { Db } from '@agora/db'
import type { Runtime, RuntimeHealth } from '@agora/runtime'
import { describe, expect, test } from 'vitest'
import { createApp } from '../app.ts'

/** The API over a runtime that reports `health` (and names its contracts; nothing else is asked of it here). */
function appReporting(health: RuntimeHealth) {
  const runtime = {
    chainId: 31337,
    manifest: { contracts: {} },
    health: async () => health,
  } as unknown as Runtime
  return createApp({ runtime, db: {} as Db, domain: 'api.test', log: () => {} })
}

const idle = { running: false, lanes: 0, replaying: false }

describe('GET /health', () => {
  test('default: ok when the chain and the database answer and nothing is being recovered', async () => {
    const response = await appReporting({
      chainId: 31337,
      block: 12,
      database: 'ok',
      recovery: idle,
      shard: 2,
      followsChain: true,
    }).request('/health')
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      status: 'ok',
      recovery: idle,
      shard: 2,
      followsChain: true,
    })
  })

  test('behavior: degraded, saying so, while recovery finishes earlier transactions (the API still serves)', async () => {
    const recovery = { running: true, lanes: 2, replaying: true }
    const response = await appReporting({
      chainId: 31337,
      block: 12,
      database: 'ok',
      recovery,
      shard: 0,
      followsChain: false,
    }).request('/health')
    expect(response.status).toBe(503)
    expect(await response.json()).toMatchObject({ status: 'degraded', block: 12, database: 'ok', recovery })
  })
})
