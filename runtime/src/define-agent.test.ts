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
})
