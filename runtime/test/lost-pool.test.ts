import type { Devnet } from '@agora/contracts'
import { type Db, getIntentByKey } from '@agora/db'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createRuntime } from '../src/create-runtime.ts'
import { defineAgent } from '../src/define-agent.ts'
import type { AgentHandle, Runtime } from '../src/runtime.ts'
import { devnetClients, openDatabase, withDevnet } from './harness.ts'

/**
 * A node restarted from a saved state has lost what was only in its pool. A payment sent and lost
 * that way left the Safe's cached nonce (the agent module's for it, or the Safe's own) one ahead of
 * the chain's: the next payment of that Safe was refused (`ModuleBadNonce`, `GS026`) and marked
 * failed, although the repair of stuck transactions sent the lost one again moments later. It waits
 * instead (pending), and goes out after it.
 */
describe('a node that lost sent transactions from its pool', () => {
  let devnet: Devnet
  let runtime: Runtime
  let db: Db
  let close: () => Promise<void>
  let payer: AgentHandle
  let payeeId: string
  const chain = () => devnetClients(devnet)
  const rpc = (method: string, params: unknown[] = []) =>
    chain().publicClient.request({ method: method as never, params: params as never })

  beforeAll(async () => {
    devnet = await withDevnet()
    const database = await openDatabase({ name: 'pglite' })
    db = database.db
    runtime = await createRuntime({
      chain: { rpcUrl: devnet.rpcUrl, manifest: devnet.manifest },
      db,
      masterKey: new Uint8Array(32).fill(5),
      relayerKeys: [devnet.manifest.accounts[15]!.privateKey],
      pollIntervalMs: 50,
      // Long enough that the next payment is judged before the lost one is sent again.
      stuckAfterMs: 8_000,
      log: () => {},
    })
    await runtime.start()
    const owner = devnet.manifest.accounts[1]!.address
    payer = await runtime.launch(defineAgent({ name: 'lost-pool-payer' }), { owner })
    const payee = await runtime.launch(defineAgent({ name: 'lost-pool-payee' }), { owner })
    payeeId = (await payee.info()).chainAgentId!
    await chain().fund((await payer.info()).safe!, '10')
    await payer.pay({ to: payeeId, amount: '1' })
    close = async () => {
      await runtime.stop()
      await database.close()
    }
  })
  afterAll(async () => {
    await rpc('evm_setAutomine', [true]).catch(() => {})
    await close?.()
    await devnet?.stop()
  })

  test('behavior: the next payment of the Safe waits (pending, not failed), then both land once', async () => {
    const safe = (await payer.info()).safe!
    const before = await chain().dUSD(safe)
    await rpc('evm_setAutomine', [false])
    const first = payer.pay({ to: payeeId, amount: '1', idempotencyKey: 'lost' })
    const firstKey = `pay:${payer.id}:lost`
    await expect
      .poll(async () => (await getIntentByKey(db, firstKey))?.status, { timeout: 20_000, interval: 50 })
      .toBe('sent')
    const lost = (await getIntentByKey(db, firstKey))!.txHash!
    await expect
      .poll(
        async () =>
          chain()
            .publicClient.getTransaction({ hash: lost as `0x${string}` })
            .then(
              () => true,
              () => false,
            ),
        {
          timeout: 10_000,
          interval: 50,
        },
      )
      .toBe(true)
    // The node forgets it, as one restarted from its saved state does; it mines again.
    await rpc('anvil_dropTransaction', [lost])
    await rpc('evm_setAutomine', [true])

    // Refused by the node (the Safe's nonce is one ahead of the chain's): not failed, pending.
    const second = await payer.pay({ to: payeeId, amount: '1', idempotencyKey: 'after-lost' })
    expect(second.status).toBe('pending')
    expect((await getIntentByKey(db, `pay:${payer.id}:after-lost`))!.status).toBe('pending')

    // The lost one is sent again once it counts as stuck; then the second goes out after it.
    expect((await first).status).toBe('confirmed')
    await expect
      .poll(
        async () => (await payer.pay({ to: payeeId, amount: '1', idempotencyKey: 'after-lost' })).status,
        { timeout: 30_000, interval: 500 },
      )
      .toBe('confirmed')
    expect(before - (await chain().dUSD(safe))).toBe(2_000_000n)
  })
})
