import { describe, expect, test } from 'vitest'
import { createBatcher, createGroupWriter } from './batcher.ts'

describe('createBatcher', () => {
  test('default: calls in one tick share one flush and its result', async () => {
    const flushed: number[][] = []
    const sum = createBatcher(async (items: number[]) => {
      flushed.push(items)
      return items.reduce((a, b) => a + b, 0)
    })
    expect(await Promise.all([sum(1), sum(2), sum(3)])).toEqual([6, 6, 6])
    expect(await sum(4)).toBe(4)
    expect(flushed).toEqual([[1, 2, 3], [4]])
  })
})

describe('createGroupWriter', () => {
  test('default: one write for the group, each caller gets its own result', async () => {
    const writes: string[][] = []
    const write = createGroupWriter(async (items: string[]) => {
      writes.push(items)
      return items.map((item) => item.toUpperCase())
    })
    expect(await Promise.all([write('a'), write('b'), write('c')])).toEqual(['A', 'B', 'C'])
    expect(writes).toEqual([['a', 'b', 'c']])
  })

  test('behavior: a failed group is written item by item, so only the bad item fails', async () => {
    const writes: string[][] = []
    const write = createGroupWriter(async (items: string[]) => {
      writes.push(items)
      if (items.includes('bad')) throw new Error('bad item')
      return items.map((item) => item.length)
    })
    const results = await Promise.allSettled([write('ok'), write('bad'), write('fine')])
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      2,
      'bad item',
      4,
    ])
    expect(writes).toEqual([['ok', 'bad', 'fine'], ['ok'], ['bad'], ['fine']])
  })
})
