import { describe, expect, test } from 'vitest'
import type { ReputationView } from '../../views/reputation-view.ts'
import { marketScore } from './market-score.ts'

const record = (r: Partial<ReputationView>): ReputationView => ({
  chainAgentId: '1',
  completed: 0,
  rejected: 0,
  expired: 0,
  averageRating: 0,
  clients: 0,
  earned: [],
  asClient: { address: '0x', completed: 0, rejected: 0, expired: 0, paid: [], rejectionRate: 0 },
  ...r,
})

describe('marketScore', () => {
  test('default: no record scores a neutral 50', () => {
    expect(marketScore(null)).toBe(50)
    expect(marketScore(record({}))).toBe(50)
  })

  test('behavior: ratings weigh by distinct clients, not by completions', () => {
    const farmed = record({ completed: 10, clients: 1, averageRating: 100 })
    const earned = record({ completed: 10, clients: 8, averageRating: 90 })
    expect(marketScore(farmed)).toBe(62.5)
    expect(marketScore(earned)).toBeGreaterThan(marketScore(farmed))
  })

  test('behavior: rejections and lapses weigh against the provider', () => {
    const clean = record({ completed: 4, clients: 4, averageRating: 90 })
    const rejected = record({ completed: 4, rejected: 4, clients: 4, averageRating: 90 })
    expect(marketScore(rejected)).toBeLessThan(marketScore(clean))
    expect(marketScore(record({ rejected: 1 }))).toBe(25)
  })
})
