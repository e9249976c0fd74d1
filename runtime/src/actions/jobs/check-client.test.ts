import { describe, expect, test } from 'vitest'
import type { RuntimeClient } from '../../client.ts'
import { checkClient } from './check-client.ts'

// Evaluator rules need no chain; the rejection rate (read from the chain) is tested end to end in
// test/market-trust.test.ts.
const noChain = {} as Pick<RuntimeClient, 'chain'>
const client = '0x00000000000000000000000000000000000000c1'
const judge = '0x00000000000000000000000000000000000000e1'

describe('checkClient', () => {
  test('default: without a policy every client is served', async () => {
    expect(await checkClient(noChain, { clientAddress: client, evaluator: null }, undefined)).toBeUndefined()
    expect(await checkClient(noChain, { clientAddress: client, evaluator: null }, {})).toBeUndefined()
  })

  test('behavior: requireEvaluator refuses no evaluator, or the client as its own', async () => {
    const policy = { requireEvaluator: true }
    expect(await checkClient(noChain, { clientAddress: client, evaluator: null }, policy)).toMatch(
      /evaluator/,
    )
    expect(
      await checkClient(noChain, { clientAddress: client, evaluator: client.toUpperCase() }, policy),
    ).toMatch(/evaluator/)
    expect(await checkClient(noChain, { clientAddress: client, evaluator: judge }, policy)).toBeUndefined()
  })

  test('behavior: trustedEvaluators accepts only those named', async () => {
    const policy = { trustedEvaluators: [judge.toUpperCase().replace('0X', '0x')] }
    expect(await checkClient(noChain, { clientAddress: client, evaluator: judge }, policy)).toBeUndefined()
    const other = '0x00000000000000000000000000000000000000e2'
    expect(await checkClient(noChain, { clientAddress: client, evaluator: other }, policy)).toMatch(
      /does not accept 0x0+e2 as an evaluator/,
    )
    expect(await checkClient(noChain, { clientAddress: client, evaluator: null }, policy)).toMatch(
      /evaluator/,
    )
  })
})
