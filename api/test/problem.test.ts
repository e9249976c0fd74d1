import { BaseError } from '@agora/runtime'
import { describe, expect, test } from 'vitest'
import { HttpProblem, toProblem } from '../src/problem.ts'

describe('toProblem', () => {
  test('default: runtime codes map to their statuses', () => {
    const cases = [
      ['INVALID_ARGUMENT', 400],
      ['FORBIDDEN', 403],
      ['NOT_FOUND', 404],
      ['CONFLICT', 409],
      ['INVALID_DEFINITION', 422],
      ['POLICY_REFUSED', 422],
      ['CONTRACT_REVERTED', 422],
      ['CHAIN_UNAVAILABLE', 503],
    ] as const
    for (const [code, status] of cases) {
      expect(toProblem(new BaseError('Nope.', { code }))).toEqual({
        type: `urn:agora:problem:${code.toLowerCase().replaceAll('_', '-')}`,
        title: expect.any(String),
        status,
        detail: 'Nope.',
      })
    }
  })

  test('behavior: definition issues become field errors', () => {
    const error = new BaseError('Invalid.', {
      code: 'INVALID_DEFINITION',
      meta: { issues: [{ path: ['offerings', '0', 'price'], message: 'must be more than zero' }] },
    })
    expect(toProblem(error).errors).toEqual([
      { path: 'offerings.0.price', message: 'must be more than zero' },
    ])
  })

  test('behavior: unexpected errors are a 500 that reveals nothing', () => {
    expect(toProblem(new Error('password=hunter2'))).toMatchObject({
      status: 500,
      detail: 'Something went wrong.',
    })
    expect(toProblem(new BaseError('db exploded at 10.0.0.1', { code: 'STORAGE_FAILED' })).detail).toBe(
      'Something went wrong.',
    )
    expect(toProblem('a string')).toMatchObject({ status: 500 })
  })

  test("behavior: the API's own problems keep status and field errors", () => {
    const problem = toProblem(
      new HttpProblem(400, 'INVALID_REQUEST', 'Bad.', [{ path: 'to', message: 'required' }]),
    )
    expect(problem).toEqual({
      type: 'urn:agora:problem:invalid-request',
      title: 'Bad Request',
      status: 400,
      detail: 'Bad.',
      errors: [{ path: 'to', message: 'required' }],
    })
  })
})
