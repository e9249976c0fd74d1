import { describe, expect, test } from 'vitest'
import { z } from 'zod'
import { defineAgent } from './define-agent.ts'

describe('defineAgent', () => {
  test('error: a bad model config or a prompt offering without a model is refused at definition time', () => {
    expect(() => defineAgent({ name: 'x', model: { provider: 'openai', model: 'gpt' } })).toThrow(
      /invalid model: .*apiKey/,
    )
    expect(() =>
      defineAgent({
        name: 'y',
        offerings: [
          {
            name: 'o',
            description: 'd',
            price: '1',
            token: 'dUSD',
            input: z.object({}),
            output: z.object({}),
            prompt: 'hi',
          },
        ],
      }),
    ).toThrow(/needs an output schema and the agent a model/)
  })

  test('behavior: an agent with a model and no limits gets the default ones; its own limits stand', () => {
    const model = { provider: 'ollama', model: 'llama3.1' }
    expect(defineAgent({ name: 'a', model }).policy).toEqual({
      perJobCap: '5',
      budget: { amount: '20', period: 'day' },
    })
    expect(defineAgent({ name: 'b', model, policy: { allowedCounterparties: ['7'] } }).policy).toEqual({
      allowedCounterparties: ['7'],
      perJobCap: '5',
      budget: { amount: '20', period: 'day' },
    })
    expect(defineAgent({ name: 'c', model, policy: { perJobCap: '500' } }).policy).toEqual({
      perJobCap: '500',
    })
    expect(defineAgent({ name: 'd' }).policy).toEqual({})
    expect(() => defineAgent({ name: 'e', model, policy: { token: 'ETH' } })).toThrow(
      /has a model and no spending limits in ETH/,
    )
  })

  test('behavior: allowed counterparties are agent ids, addresses or host names', () => {
    const allowed = ['7', `0x${'aB'.repeat(20)}`, 'api.example.com', '127.0.0.1', 'localhost']
    expect(defineAgent({ name: 's', policy: { allowedCounterparties: allowed } }).policy).toEqual({
      allowedCounterparties: allowed,
    })
    for (const entry of ['https://api.example.com', 'api.example.com:443', '0x12', '-x.example', 'a..b', ''])
      expect(() => defineAgent({ name: 't', policy: { allowedCounterparties: [entry] } }), entry).toThrow(
        /policy.allowedCounterparties.0: must be an on-chain agent id, an address \(0x…\) or a host name/,
      )
  })

  test('behavior: a provider policy is validated where it is written', () => {
    expect(
      defineAgent({ name: 'p', providerPolicy: { maxRejectionRate: 0.2, requireEvaluator: true } })
        .providerPolicy,
    ).toEqual({ maxRejectionRate: 0.2, requireEvaluator: true })
    expect(() => defineAgent({ name: 'q', providerPolicy: { maxRejectionRate: 1.5 } })).toThrow(
      /providerPolicy.maxRejectionRate/,
    )
    expect(() => defineAgent({ name: 'r', providerPolicy: { trustedEvaluators: ['bob'] } })).toThrow(
      /must be an address/,
    )
  })
})
