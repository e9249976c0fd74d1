import { ContractFunctionExecutionError, HttpRequestError, TimeoutError, BaseError as ViemError } from 'viem'
import { describe, expect, test } from 'vitest'
import { isTransientChainError } from './errors.ts'

describe('isTransientChainError', () => {
  test('behavior: judged by type and status, not by digits in the message', () => {
    expect(isTransientChainError(new HttpRequestError({ url: 'http://x', status: 503 }))).toBe(true)
    expect(isTransientChainError(new HttpRequestError({ url: 'http://x' }))).toBe(true)
    expect(isTransientChainError(new HttpRequestError({ url: 'http://x', status: 400 }))).toBe(false)
    expect(isTransientChainError(new TimeoutError({ body: {}, url: 'http://x' }))).toBe(true)
    expect(isTransientChainError(new ViemError('reverted with data 0x4295030429504'))).toBe(false)
    expect(isTransientChainError(new Error('connect ECONNREFUSED 127.0.0.1:8545'))).toBe(true)
    expect(ContractFunctionExecutionError).toBeDefined()
  })
})
