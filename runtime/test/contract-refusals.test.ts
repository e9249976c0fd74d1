import type { Devnet } from '@agora/contracts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { defineAgent } from '../src/define-agent.ts'
import { BaseError } from '../src/errors.ts'
import type { AgentHandle, Runtime } from '../src/runtime.ts'
import { devnetClients, openRuntime, withDevnet } from './harness.ts'

describe('contract refusals', () => {
  let devnet: Devnet
  let runtime: Runtime
  let close: () => Promise<void>
  let payer: AgentHandle
  let payee: AgentHandle

  beforeAll(async () => {
    devnet = await withDevnet()
    ;({ runtime, close } = await openRuntime(devnet, { name: 'pglite' }, []))
    const owner = devnet.manifest.accounts[1]!.address
    payer = await runtime.launch(
      defineAgent({ name: 'payer', policy: { budget: { amount: '1.5', period: 'day' } } }),
      { owner },
    )
    payee = await runtime.launch(defineAgent({ name: 'payee' }), { owner })
  })
  afterAll(async () => {
    await close?.()
    await devnet?.stop()
  })

  test('behavior: a payment the token refuses is decoded from inside the Safe, and nothing moves', async () => {
    const to = (await payee.info()).chainAgentId!
    // The payer's Safe holds no dUSD: the token's own custom error explains the refusal.
    const error = await payer.pay({ to, amount: '1' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BaseError)
    expect((error as BaseError).code).toBe('CONTRACT_REVERTED')
    expect((error as BaseError).shortMessage).toMatch(
      /^pay was refused by the contract: ERC20InsufficientBalance\(0x/,
    )
    const [payment] = await payer.payments()
    expect(payment?.status).toBe('failed')
    expect(await devnetClients(devnet).dUSD((await payee.info()).safeAddress!)).toBe(0n)
    // The failed payment gave its amount back to the budget (1 + 1 would be over 1.5): the chain refuses
    // the next one, not the policy.
    await expect(payer.pay({ to, amount: '1', idempotencyKey: 'again' })).rejects.toThrow(
      /ERC20InsufficientBalance/,
    )
    // Retrying it is refused as failed, and spends nothing either.
    await expect(payer.pay({ to, amount: '1', idempotencyKey: 'again' })).rejects.toThrow(/already failed/)
    await expect(payer.pay({ to, amount: '2' })).rejects.toThrow(/budget of 1.5 per day \(0 spent\)/)
  })

  test('behavior: unknown payees and bad amounts are refused before anything is recorded', async () => {
    const recorded = (await payer.payments()).length
    await expect(payer.pay({ to: '424242', amount: '1' })).rejects.toThrow(/IdentityUnknownAgent\(424242\)/)
    await expect(payer.pay({ to: 'alice', amount: '1' })).rejects.toThrow(/not an agent id/)
    await expect(payer.pay({ to: '1', amount: '-1' })).rejects.toThrow(/is not an amount/)
    await expect(payer.pay({ to: '1', amount: '0.0000001' })).rejects.toThrow(/dUSD has 6 decimals/)
    await expect(payer.pay({ to: '1', amount: '1', token: 'DOGE' })).rejects.toThrow(/Unknown token "DOGE"/)
    expect(await payer.payments()).toHaveLength(recorded)
  })
})

describe('isTransientChainError', () => {
  test('behavior: judged by type and status, not by digits in the message', async () => {
    const { isTransientChainError } = await import('../src/errors.ts')
    const {
      HttpRequestError,
      TimeoutError,
      ContractFunctionExecutionError,
      BaseError: ViemError,
    } = await import('viem')
    expect(isTransientChainError(new HttpRequestError({ url: 'http://x', status: 503 }))).toBe(true)
    expect(isTransientChainError(new HttpRequestError({ url: 'http://x' }))).toBe(true)
    expect(isTransientChainError(new HttpRequestError({ url: 'http://x', status: 400 }))).toBe(false)
    expect(isTransientChainError(new TimeoutError({ body: {}, url: 'http://x' }))).toBe(true)
    expect(isTransientChainError(new ViemError('reverted with data 0x4295030429504'))).toBe(false)
    expect(isTransientChainError(new Error('connect ECONNREFUSED 127.0.0.1:8545'))).toBe(true)
    expect(ContractFunctionExecutionError).toBeDefined()
  })
})
