import { describe, expect, test } from 'vitest'
import { toActivityView } from './activity-view.ts'
import { viewerIsAny } from './viewer.ts'

const event = (
  kind: 'job' | 'payment' | 'lifecycle' | 'model' | 'tool' | 'guardrail',
  data: Record<string, unknown>,
) => ({
  id: 1,
  agentId: 'agt_1',
  kind,
  data,
  createdAt: new Date(0),
})

describe('toActivityView', () => {
  test('default: the owner sees an entry whole', () => {
    const paid = event('payment', { event: 'paid', memo: 'secret', amount: { value: '1' } })
    expect(toActivityView(paid, { full: true })).toBe(paid)
  })

  test('behavior: anyone else sees public kinds with their public facts only', () => {
    expect(
      toActivityView(event('payment', { event: 'paid', memo: 'secret', txHash: '0x1' }), { full: false })!
        .data,
    ).toEqual({ event: 'paid', txHash: '0x1' })
    expect(
      toActivityView(event('lifecycle', { event: 'task accepted', taskId: 't', goal: 'secret' }), {
        full: false,
      })!.data,
    ).toEqual({ event: 'task accepted', taskId: 't' })
    expect(
      toActivityView(event('job', { jobId: '1', message: 'log', input: { a: 1 } }), { full: false })!.data,
    ).toEqual({
      jobId: '1',
    })
    for (const kind of ['model', 'tool', 'guardrail'] as const)
      expect(toActivityView(event(kind, { text: 'secret' }), { full: false })).toBeUndefined()
  })
})

describe('viewerIsAny', () => {
  test('default: the operator (no viewer) is anyone; anonymous is no one; addresses compare case-insensitively', () => {
    expect(viewerIsAny(undefined, [])).toBe(true)
    expect(viewerIsAny(null, ['0xab'])).toBe(false)
    expect(viewerIsAny('0xAB', [null, '0xab'])).toBe(true)
    expect(viewerIsAny('0xab', ['0xcd', undefined])).toBe(false)
  })
})
