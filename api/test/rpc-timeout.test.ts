import { randomBytes } from 'node:crypto'
import { type Devnet, startDevnet } from '@agora/contracts'
import { createDb } from '@agora/db'
import { createRuntime, type Runtime } from '@agora/runtime'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createApp } from '../src/app.ts'
import { apiHelpers, domain, origin, problemOf } from './harness.ts'
import { type RpcProxy, startRpcProxy } from './rpc-proxy.ts'

// Issue 10, finding 14: an RPC that timed out reached the API as viem's own error, which the API
// could only answer with a 500. Whatever the chain does under an action, the answer is a 503
// (CHAIN_UNAVAILABLE: worth retrying).

let devnet: Devnet
let proxy: RpcProxy
let runtime: Runtime
let close: () => Promise<void>
let helpers: ReturnType<typeof apiHelpers>
let agentId: string

beforeAll(async () => {
  devnet = await startDevnet({ log: () => {} })
  proxy = await startRpcProxy(devnet.rpcUrl)
  const database = await createDb()
  runtime = await createRuntime({
    chain: { rpcUrl: proxy.url, manifest: devnet.manifest },
    db: database.db,
    masterKey: randomBytes(32),
    relayerKeys: [devnet.manifest.accounts[11]!.privateKey],
    rpcTimeoutMs: 300,
    log: () => {},
  })
  await runtime.start()
  helpers = apiHelpers(createApp({ runtime, db: database.db, domain, origin, log: () => {} }), devnet)
  const { token } = await helpers.signIn(2)
  const launched = await helpers.call('POST', '/agents', { name: 'timed-out' }, token)
  agentId = ((await launched.json()) as { id: string }).id
  close = async () => {
    await runtime.stop()
    await database.close()
  }
})
afterAll(async () => {
  proxy?.heal()
  await close?.()
  await proxy?.close()
  await devnet?.stop()
})

describe('the chain failing under a request', () => {
  test.each([
    ['frozen (the request times out)', { kind: 'frozen' } as const],
    ['answering HTTP 503', { kind: 'error', status: 503 } as const],
  ])('behavior: an RPC %s answers 503 CHAIN_UNAVAILABLE, not 500', async (_, fault) => {
    proxy.fault(fault)
    try {
      const response = await helpers.call('GET', `/agents/${agentId}/balances`)
      expect(response.status).toBe(503)
      expect(await problemOf(response)).toMatchObject({ code: 'CHAIN_UNAVAILABLE' })
    } finally {
      proxy.heal()
    }
  })
})
