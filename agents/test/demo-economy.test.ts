import { describe, expect, test } from 'vitest'
import { runDemoEconomy } from '../src/demo-economy.ts'

describe('runDemoEconomy', () => {
  test('behavior: with no model the orchestrator hires all three for real, and the books balance', async () => {
    const lines: string[] = []
    const { steps, ledger } = await runDemoEconomy({ say: (l) => lines.push(l), model: undefined })
    expect(steps.map((s) => [s.step, (s.detail as { status: string }).status])).toEqual([
      ['summarize', 'completed'],
      ['translate', 'completed'],
      ['judge', 'completed'],
      ['tip', 'confirmed'],
    ])
    const by = Object.fromEntries(ledger.map((l) => [l.name, l]))
    // Prices minus the 1% fee, plus the tip; the orchestrator paid 2 + 1.5 + 0.5 + 0.25 of its 25.
    expect(by.summarizer).toMatchObject({ dUSD: 2.23, completed: 1 })
    expect(by.translator).toMatchObject({ dUSD: 1.485, completed: 1 })
    expect(by.evaluator).toMatchObject({ dUSD: 0.495, completed: 1 })
    expect(by.orchestrator).toMatchObject({ dUSD: 20.75 })
    expect(lines.some((l) => l.includes('no model configured'))).toBe(true)
  })
})
