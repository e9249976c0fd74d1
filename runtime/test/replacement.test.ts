import type { Devnet } from '@agora/contracts'
import { type Db, getIntentByKey, txVersionsOf } from '@agora/db'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createRuntime } from '../src/create-runtime.ts'
import { defineAgent } from '../src/define-agent.ts'
import type { AgentHandle, Runtime } from '../src/runtime.ts'
import { devnetClients, openDatabase, withDevnet } from './harness.ts'

/**
 * Issue 10, finding 1: a transaction that does not land (underpriced, or lost by the node) is
 * repaired after a while by a replacement: the same call at the same nonce with higher fees. Every
 * version stays watched, so whichever lands settles the intent, exactly once.
 */
describe('stuck transactions', () => {
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
      masterKey: new Uint8Array(32).fill(3),
      relayerKeys: [devnet.manifest.accounts[17]!.privateKey],
      pollIntervalMs: 50,
      stuckAfterMs: 1_000,
      log: () => {},
    })
    await runtime.start()
    const owner = devnet.manifest.accounts[1]!.address
    payer = await runtime.launch(defineAgent({ name: 'stuck-payer' }), { owner })
    const payee = await runtime.launch(defineAgent({ name: 'stuck-payee' }), { owner })
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

  /** Starts a payment with mining off; resolves once the runtime replaced its transaction. */
  async function payUntilReplaced(key: string) {
    await rpc('evm_setAutomine', [false])
    const paying = payer.pay({ to: payeeId, amount: '1', idempotencyKey: key })
    const intentKey = `pay:${payer.id}:${key}`
    await expect
      .poll(async () => txVersionsOf((await getIntentByKey(db, intentKey))!).length, {
        timeout: 20_000,
        interval: 100,
      })
      .toBeGreaterThanOrEqual(2)
    const versions = txVersionsOf((await getIntentByKey(db, intentKey))!)
    return { paying, intentKey, first: versions[0]!, latest: versions.at(-1)! }
  }

  test('behavior: a transaction left unmined is replaced at the same nonce with higher fees, and lands once', async () => {
    const { paying, intentKey, first, latest } = await payUntilReplaced('replaced')
    const [original, replacement] = await Promise.all([
      chain()
        .publicClient.getTransaction({ hash: first.txHash as Hex })
        .catch(() => undefined),
      chain().publicClient.getTransaction({ hash: latest.txHash as Hex }),
    ])
    expect(replacement.maxFeePerGas!).toBeGreaterThan(original?.maxFeePerGas ?? 0n)
    await rpc('evm_setAutomine', [true])
    await rpc('evm_mine')
    const payment = await paying
    expect(payment.status).toBe('confirmed')
    const intent = (await getIntentByKey(db, intentKey))!
    expect(intent.status).toBe('confirmed')
    expect(payment.txHash).toBe(latest.txHash)
  })

  test('behavior: when an earlier version lands instead of the replacement, that one settles the intent', async () => {
    const { paying, intentKey, first, latest } = await payUntilReplaced('original-lands')
    // The node loses the replacement and gets the original back (another node had kept it).
    await rpc('anvil_dropTransaction', [latest.txHash])
    await rpc('eth_sendRawTransaction', [first.rawTx])
    await rpc('evm_setAutomine', [true])
    await rpc('evm_mine')
    const payment = await paying
    expect(payment.status).toBe('confirmed')
    expect(payment.txHash).toBe(first.txHash)
    const intent = (await getIntentByKey(db, intentKey))!
    expect(intent.txHash).toBe(first.txHash)
    expect(intent.rawTx).toBe(first.rawTx)
  })
})
