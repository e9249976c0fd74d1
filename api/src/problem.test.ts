import {
  BaseError,
  ConflictError,
  ContractRevertedError,
  NotFoundError,
  PolicyError,
  StorageError,
  ValidationError,
} from '@agora/runtime'
import { describe, expect, test } from 'vitest'
import { HttpError, statusOf, toProblem } from './problem.ts'

describe('toProblem', () => {
  test('default: every code maps to its status, and the body carries the code', () => {
    const cases = [
      [new ValidationError('Nope.'), 'INVALID_ARGUMENT', 400],
      [new BaseError('Nope.', { code: 'FORBIDDEN' }), 'FORBIDDEN', 403],
      [new NotFoundError('Nope.'), 'NOT_FOUND', 404],
      [new ConflictError('Nope.'), 'CONFLICT', 409],
      [new ConflictError('Nope.', { code: 'AGENT_PAUSED' }), 'AGENT_PAUSED', 409],
      [new ValidationError('Nope.', { code: 'INVALID_DEFINITION' }), 'INVALID_DEFINITION', 422],
      [new PolicyError('Nope.'), 'POLICY_REFUSED', 422],
      [new BaseError('Nope.', { code: 'CHAIN_UNAVAILABLE' }), 'CHAIN_UNAVAILABLE', 503],
    ] as const
    for (const [error, code, status] of cases) {
      expect(toProblem(error)).toEqual({
        type: `urn:agora:problem:${code.toLowerCase().replaceAll('_', '-')}`,
        title: expect.any(String),
        status,
        code,
        detail: 'Nope.',
      })
    }
  })

  test('behavior: contract refusals carry the contract error name and arguments', () => {
    const error = new ContractRevertedError('pay', {
      name: 'ERC20InsufficientBalance',
      args: ['0xabc', '0', '1'],
    })
    expect(toProblem(error)).toMatchObject({
      status: 422,
      code: 'CONTRACT_REVERTED',
      detail: 'pay was refused by the contract: ERC20InsufficientBalance(0xabc, 0, 1)',
      contractError: { name: 'ERC20InsufficientBalance', args: ['0xabc', '0', '1'] },
    })
  })

  test('behavior: definition issues become field errors', () => {
    const error = new ValidationError('Invalid.', {
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
      code: 'INTERNAL',
      detail: 'Something went wrong.',
    })
    expect(toProblem(new StorageError('db exploded at 10.0.0.1', { code: 'STORAGE_FAILED' })).detail).toBe(
      'Something went wrong.',
    )
    expect(toProblem('a string')).toMatchObject({ status: 500 })
  })

  test("behavior: the API's own errors keep their field errors", () => {
    const problem = toProblem(new HttpError('INVALID_REQUEST', 'Bad.', [{ path: 'to', message: 'required' }]))
    expect(problem).toEqual({
      type: 'urn:agora:problem:invalid-request',
      title: 'Bad Request',
      status: 400,
      code: 'INVALID_REQUEST',
      detail: 'Bad.',
      errors: [{ path: 'to', message: 'required' }],
    })
  })

  test('behavior: every status in the map is an HTTP error status', () => {
    for (const [code, status] of Object.entries(statusOf)) {
      expect(status, code).toBeGreaterThanOrEqual(400)
      expect(status, code).toBeLessThan(600)
    }
  })
})
