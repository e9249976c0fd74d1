import type { Devnet } from '@agora/contracts'
import { BaseError } from '@agora/db'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { defineAgent } from '../src/define-agent.ts'
import { ContractRevertedError } from '../src/errors.ts'
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
    expect(error).toBeInstanceOf(ContractRevertedError)
    expect((error as BaseError).code).toBe('CONTRACT_REVERTED')
    expect((error as BaseError).shortMessage).toMatch(
      /^pay was refused by the contract: ERC20InsufficientBalance\(0x/,
    )
    expect((error as ContractRevertedError).contractError.name).toBe('ERC20InsufficientBalance')
    expect((error as ContractRevertedError).contractError.args[0]).toMatch(/^0x/)
    const [payment] = await payer.payments()
    expect(payment?.status).toBe('failed')
    expect(await devnetClients(devnet).dUSD((await payee.info()).safe!)).toBe(0n)
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
    const unknown = await payer.pay({ to: '424242', amount: '1' }).catch((e: unknown) => e)
    expect(unknown).toBeInstanceOf(ContractRevertedError)
    expect((unknown as ContractRevertedError).message).toMatch(/IdentityUnknownAgent\(424242\)/)
    expect((unknown as ContractRevertedError).contractError).toEqual({
      name: 'IdentityUnknownAgent',
      args: ['424242'],
    })
    await expect(payer.pay({ to: 'alice', amount: '1' })).rejects.toThrow(/not an agent id/)
    await expect(payer.pay({ to: '1', amount: '-1' })).rejects.toThrow(/is not an amount/)
    await expect(payer.pay({ to: '1', amount: '0.0000001' })).rejects.toThrow(/dUSD has 6 decimals/)
    await expect(payer.pay({ to: '1', amount: '1', token: 'DOGE' })).rejects.toThrow(/Unknown token "DOGE"/)
    expect(await payer.payments()).toHaveLength(recorded)
  })
})
