import type { Db } from '@agora/db'
import { type PublicClient, zeroAddress } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, test } from 'vitest'
import { gasCaps, gasLimit, learnGas } from './gas.ts'
import { createOutbox } from './outbox.ts'

/** An outbox over a node that answers gas questions with the figures given. */
function outboxWith(node: { estimate: bigint; blockGasLimit?: bigint }) {
  const db = {} as Db // gas is worked out from the node alone
  const publicClient = {
    estimateGas: async () => node.estimate,
    call: async () => ({ data: '0x' }),
    getBlock: async () => ({ gasLimit: node.blockGasLimit ?? 30_000_000n }),
  } as unknown as PublicClient
  const relayer = privateKeyToAccount(`0x${'1'.repeat(64)}`)
  return createOutbox({ publicClient, chainId: 31337, db, relayers: [relayer] })
}

const call = { to: zeroAddress, data: '0x' as const }

describe('learnGas', () => {
  test('behavior: learned from what succeeded, never above the cap, however much a call burned', async () => {
    const outbox = outboxWith({ estimate: 90_000n })
    learnGas(outbox, 'declineJob', 95_000n)
    expect(outbox.gasUsed.get('declineJob')).toBe(95_000n)
    // A counterparty burning everything it is given: the figure stops at the cap.
    learnGas(outbox, 'declineJob', 29_000_000n)
    expect(outbox.gasUsed.get('declineJob')).toBe(gasCaps.declineJob)
  })
})

describe('gasLimit', () => {
  test('default: the first call of a kind is estimated, with room for what a simulation cannot see', async () => {
    const outbox = outboxWith({ estimate: 90_000n })
    expect(await gasLimit(outbox, 'pay', zeroAddress, call)).toBe(280_000n)
  })

  test('behavior: the limit never grows past the cap, whatever was learned, for one call or a batch', async () => {
    const outbox = outboxWith({ estimate: 90_000n })
    for (let round = 0; round < 10; round++) {
      const limit = await gasLimit(outbox, 'declineJob', zeroAddress, call)
      expect(limit).toBeLessThanOrEqual(gasCaps.declineJob)
      learnGas(outbox, 'declineJob', limit) // a griefer burns every unit, and the call still succeeds
    }
    learnGas(outbox, 'pay', 300_000n)
    expect(await gasLimit(outbox, 'pay', zeroAddress, call, 16)).toBe(gasCaps.pay * 16n)
  })

  test('behavior: never above the block gas limit; a call that needs more is refused before any nonce', async () => {
    const outbox = outboxWith({ estimate: 90_000n, blockGasLimit: 1_000_000n })
    learnGas(outbox, 'pay', 80_000n)
    expect(await gasLimit(outbox, 'pay', zeroAddress, call, 16)).toBe(1_000_000n)
    const greedy = outboxWith({ estimate: 3_000_000n })
    await expect(gasLimit(greedy, 'launch', zeroAddress, call)).rejects.toThrow(/more than its cap/)
  })
})
