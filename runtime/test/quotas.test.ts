import { randomBytes } from 'node:crypto'
import type { Devnet } from '@agora/contracts'
import { BaseError } from '@agora/db'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createRuntime } from '../src/create-runtime.ts'
import { defineAgent } from '../src/define-agent.ts'
import type { Runtime } from '../src/runtime.ts'
import { type Adapter, adapters, devnetClients, openDatabase, withDevnet } from './harness.ts'

// Finding 3: what the relayer pays for is counted per owner, launches, transactions and gas per
// period, from the database: a restart does not hand out a fresh allowance.

type Quotas = { launches?: number; transactions?: number; gas?: bigint; periodMs?: number }

async function quotaErrorOf(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(BaseError)
  expect((error as BaseError).code).toBe('QUOTA_EXCEEDED')
  return error as BaseError
}

describe.each(adapters)('quotas on $name', (adapter: Adapter) => {
  let devnet: Devnet
  let database: Awaited<ReturnType<typeof openDatabase>>
  const masterKey = randomBytes(32)
  const open = async (quotas: Quotas) => {
    const runtime = await createRuntime({
      chain: { rpcUrl: devnet.rpcUrl, manifest: devnet.manifest },
      db: database.db,
      masterKey,
      relayerKeys: [16, 17].map((i) => devnet.manifest.accounts[i]!.privateKey),
      pollIntervalMs: 50,
      log: () => {},
      quotas,
    } as Parameters<typeof createRuntime>[0])
    await runtime.start()
    return runtime
  }

  beforeAll(async () => {
    if (adapter.skip) return
    devnet = await withDevnet()
    database = await openDatabase(adapter)
  })
  afterAll(async () => {
    await database?.close()
    await devnet?.stop()
  })

  test.skipIf(adapter.skip)(
    'behavior: launches and transactions per owner are capped, also across a restart; retries are not counted twice',
    async () => {
      const owner = devnet.manifest.accounts[3]!.address
      const quotas = { launches: 2, transactions: 4 }
      let runtime: Runtime = await open(quotas)
      const payer = await runtime.launch(defineAgent({ name: 'q-payer' }), { owner })
      const payee = await runtime.launch(defineAgent({ name: 'q-payee' }), { owner })
      const refused = await quotaErrorOf(runtime.launch(defineAgent({ name: 'q-third' }), { owner }))
      expect(refused.meta).toMatchObject({ quota: 'launches', retryAfterSeconds: expect.any(Number) })
      expect(refused.meta!.retryAfterSeconds as number).toBeGreaterThan(0)
      expect(refused.meta!.retryAfterSeconds as number).toBeLessThanOrEqual(86_400)
      // The refused launch left nothing behind: its name is free for later.
      expect((await runtime.listAgents({ owner })).agents.map((a) => a.name).sort()).toEqual([
        'q-payee',
        'q-payer',
      ])

      await devnetClients(devnet).fund((await payer.info()).safe!, '10')
      const to = (await payee.info()).chainAgentId!
      await payer.pay({ to, amount: '1', idempotencyKey: 'q1' })
      await payer.pay({ to, amount: '1', idempotencyKey: 'q2' })
      const over = await quotaErrorOf(payer.pay({ to, amount: '1', idempotencyKey: 'q3' }))
      expect(over.meta).toMatchObject({ quota: 'transactions' })
      // A retry of a payment already counted is answered, not refused.
      expect((await payer.pay({ to, amount: '1', idempotencyKey: 'q2' })).status).toBe('confirmed')

      // Another owner has an allowance of its own.
      const other = devnet.manifest.accounts[4]!.address
      await runtime.launch(defineAgent({ name: 'q-other' }), { owner: other })

      // A restart reads what was spent from the database.
      await runtime.stop()
      runtime = await open(quotas)
      await quotaErrorOf(runtime.agent(payer.id).pay({ to, amount: '1', idempotencyKey: 'q4' }))
      await quotaErrorOf(runtime.launch(defineAgent({ name: 'q-fourth' }), { owner }))
      expect(await devnetClients(devnet).dUSD((await payer.info()).safe!)).toBe(8_000_000n)
      await runtime.stop()
    },
  )

  test.skipIf(adapter.skip)("behavior: the gas used by an owner's transactions is capped", async () => {
    const owner = devnet.manifest.accounts[5]!.address
    // A launch uses about 433k gas: two fit under 1M, a third does not.
    const runtime = await open({ gas: 1_000_000n })
    await runtime.launch(defineAgent({ name: 'g-1' }), { owner })
    await runtime.launch(defineAgent({ name: 'g-2' }), { owner })
    const refused = await quotaErrorOf(runtime.launch(defineAgent({ name: 'g-3' }), { owner }))
    expect(refused.meta).toMatchObject({ quota: 'gas' })
    await runtime.stop()
  })
})
