import type { Devnet } from '@agora/contracts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { defineAgent } from '../src/define-agent.ts'
import type { AgentHandle, Runtime } from '../src/runtime.ts'
import { devnetClients, openRuntime, withDevnet } from './harness.ts'

/** Resolves `promise`, or rejects saying what hung after `ms`. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} hung for ${ms} ms`)), ms)),
  ])
}

/**
 * Issue 10, finding 1: a transaction the node refused had already taken its relayer nonce and its
 * Safe nonce, so every later transaction of that relayer waited behind a gap and the Safe's next one
 * failed (GS026). One relayer carries everything here.
 */
describe('nonces', () => {
  let devnet: Devnet
  let runtime: Runtime
  let close: () => Promise<void>
  let first: AgentHandle
  let second: AgentHandle
  let payeeId: string
  const chain = () => devnetClients(devnet)
  const relayerIndex = 13

  beforeAll(async () => {
    devnet = await withDevnet()
    ;({ runtime, close } = await openRuntime(devnet, { name: 'pglite' }, [], [relayerIndex]))
    const owner = devnet.manifest.accounts[1]!.address
    first = await runtime.launch(defineAgent({ name: 'first' }), { owner })
    second = await runtime.launch(defineAgent({ name: 'second' }), { owner })
    const payee = await runtime.launch(defineAgent({ name: 'payee' }), { owner })
    payeeId = (await payee.info()).chainAgentId!
    await chain().fund((await first.info()).safe!, '10')
    await chain().fund((await second.info()).safe!, '10')
    // Approvals and learned gas out of the way: each payment below is one Safe transaction.
    await first.pay({ to: payeeId, amount: '1' })
    await second.pay({ to: payeeId, amount: '1' })
  })
  afterAll(async () => {
    await close?.()
    await devnet?.stop()
  })

  test('behavior: a transaction the node refuses takes neither a relayer nonce nor a Safe nonce', async () => {
    const { publicClient } = chain()
    const setLimit = (gas: bigint) =>
      publicClient.request({
        method: 'evm_setBlockGasLimit' as never,
        params: [`0x${gas.toString(16)}`] as never,
      })
    await setLimit(150_000n) // below what a payment's transaction asks for: the node refuses it
    const refused = await within(
      20_000,
      'the refused payment',
      first.pay({ to: payeeId, amount: '1' }).then(
        (view) => view,
        (error: unknown) => error,
      ),
    )
    await setLimit(30_000_000n)
    expect(refused).not.toHaveProperty('status', 'confirmed')
    // Another agent on the same relayer: no nonce gap in front of it.
    const other = await within(
      20_000,
      'the next payment of the relayer',
      second.pay({ to: payeeId, amount: '1' }),
    )
    expect(other.status).toBe('confirmed')
    // The refused agent's next payment: its Safe nonce was not spent on the refused one.
    const again = await within(
      20_000,
      "the refused agent's next payment",
      first.pay({ to: payeeId, amount: '1' }),
    )
    expect(again.status).toBe('confirmed')
    const relayer = devnet.manifest.accounts[relayerIndex]!.address
    const [latest, pending] = await Promise.all([
      publicClient.getTransactionCount({ address: relayer, blockTag: 'latest' }),
      publicClient.getTransactionCount({ address: relayer, blockTag: 'pending' }),
    ])
    expect(pending).toBe(latest)
  })
})
