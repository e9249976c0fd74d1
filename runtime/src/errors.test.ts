import { type BaseError, StorageError } from '@agora/db'
import { ContractFunctionExecutionError, HttpRequestError, TimeoutError, BaseError as ViemError } from 'viem'
import { describe, expect, test } from 'vitest'
import { ChainUnavailableError, isTransientChainError, toRuntimeError, withErrorBoundary } from './errors.ts'

describe('isTransientChainError', () => {
  test('behavior: judged by type and status, not by digits in the message', () => {
    expect(isTransientChainError(new HttpRequestError({ url: 'http://x', status: 503 }))).toBe(true)
    expect(isTransientChainError(new HttpRequestError({ url: 'http://x' }))).toBe(true)
    expect(isTransientChainError(new HttpRequestError({ url: 'http://x', status: 400 }))).toBe(false)
    // A node (or a proxy before it) failing with a 500 did not refuse anything: worth retrying.
    expect(isTransientChainError(new HttpRequestError({ url: 'http://x', status: 500 }))).toBe(true)
    expect(isTransientChainError(new HttpRequestError({ url: 'http://x', status: 408 }))).toBe(true)
    expect(isTransientChainError(new TimeoutError({ body: {}, url: 'http://x' }))).toBe(true)
    expect(isTransientChainError(new ViemError('reverted with data 0x4295030429504'))).toBe(false)
    expect(isTransientChainError(new Error('connect ECONNREFUSED 127.0.0.1:8545'))).toBe(true)
    expect(ContractFunctionExecutionError).toBeDefined()
  })
})

describe('toRuntimeError', () => {
  test('behavior: an RPC timeout is a ChainUnavailableError (503), not a foreign error (500)', () => {
    const error = toRuntimeError(new TimeoutError({ body: {}, url: 'http://x' }), 'reading balances')
    expect(error).toBeInstanceOf(ChainUnavailableError)
    expect((error as BaseError).code).toBe('CHAIN_UNAVAILABLE')
  })

  test('behavior: a lost database connection is a StorageError DB_UNREACHABLE, found among the causes', () => {
    for (const code of ['57P01', 'CONNECTION_CLOSED', 'ECONNRESET']) {
      const lost = new Error('Failed query: select 1', { cause: Object.assign(new Error('gone'), { code }) })
      const error = toRuntimeError(lost, 'paying')
      expect(error).toBeInstanceOf(StorageError)
      expect((error as BaseError).code).toBe('DB_UNREACHABLE')
    }
  })

  test('behavior: ours and unknown errors pass through unchanged', () => {
    const ours = new ChainUnavailableError('down')
    expect(toRuntimeError(ours, 'x')).toBe(ours)
    const bug = new TypeError('undefined is not a function')
    expect(toRuntimeError(bug, 'x')).toBe(bug)
  })
})

describe('withErrorBoundary', () => {
  test('default: foreign errors thrown or rejected by methods, and by the handles they return, are wrapped', async () => {
    const timeout = () => new TimeoutError({ body: {}, url: 'http://x' })
    const target = withErrorBoundary(
      {
        version: 1,
        sync: () => {
          throw timeout()
        },
        async later() {
          throw timeout()
        },
        handle: () => ({
          async read() {
            throw timeout()
          },
        }),
        async open() {
          return {
            async read() {
              throw timeout()
            },
          }
        },
      },
      ['handle', 'open'],
    )
    expect(target.version).toBe(1)
    expect(() => target.sync()).toThrow(ChainUnavailableError)
    await expect(target.later()).rejects.toBeInstanceOf(ChainUnavailableError)
    await expect(target.handle().read()).rejects.toBeInstanceOf(ChainUnavailableError)
    await expect((await target.open()).read()).rejects.toBeInstanceOf(ChainUnavailableError)
  })
})
