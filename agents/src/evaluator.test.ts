import { describe, expect, test } from 'vitest'
import { judge } from './evaluator.ts'

describe('judge', () => {
  test('default: empty or oversized work fails; work as long as the task scores best', () => {
    expect(judge('task text here', '')).toEqual({
      accept: false,
      rating: 0,
      reason: 'The deliverable is empty.',
    })
    expect(judge('abc', 'x'.repeat(20)).accept).toBe(false)
    expect(judge('a task of some length', 'a task of some length')).toMatchObject({
      accept: true,
      rating: 100,
    })
  })
})
