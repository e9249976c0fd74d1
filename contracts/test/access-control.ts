/**
 * "Only X may Y" as a table. Each contract's suite lists its guarded functions once: who may call
 * each, who is refused and with which custom error. `testAccessControl` turns every party of every
 * row into a test case of its own (`behavior: submitJob refuses stranger`), so one refused caller
 * failing does not hide the others, and the contract's roles read in one place.
 */
import type { Address } from 'viem'
import { expect, test } from 'vitest'

/** What a rule sets up for one test: the call to make and what a refused caller gets. */
export type Arranged<call> = {
  call: call
  /** Arguments of the rule's `error` for this caller. */
  errorArgs: readonly unknown[]
  /** Checks that a refused call changed nothing, where the revert alone does not show it. */
  unchanged?: () => Promise<void>
}

/** One guarded function (or one situation of it): who may call it, who may not. */
export type AccessRule<party extends string, call> = {
  /** The function, with the situation when several rows share it: `rejectJob with an evaluator`. */
  fn: string
  /** Parties whose call succeeds. */
  allowed: readonly party[]
  /** Parties whose call reverts with `error`. */
  refused: readonly party[]
  /** The custom error a refused party gets. */
  error: string
  /** Sets up what `fn` acts on (a job, an agent) afresh in each test, for `caller`. */
  arrange(caller: Address): Promise<Arranged<call>>
}

/** How a suite plays its parties and makes its calls. */
export type AccessDriver<party extends string, account extends { address: Address }, call> = {
  /** The account playing `party`, looked up when a test runs (suites create accounts in `beforeAll`). */
  account(party: party): account
  /** Makes `call` from `account`, failing the test unless it succeeded. */
  succeeds(account: account, call: call): Promise<unknown>
  /** The custom error `call` from `account` reverts with; `undefined` when it would succeed. */
  revertOf(account: account, call: call): Promise<{ name: string | undefined; args: unknown } | undefined>
}

/**
 * One test per refused party (the call reverts with the rule's error and arguments) and one per
 * allowed party (the same call succeeds).
 *
 * @example
 * describe('access control', () => {
 *   testAccessControl(
 *     [{ fn: 'mint', allowed: ['deployer'], refused: ['alice'], error: 'DevUSDUnauthorizedMinter',
 *        arrange: async (caller) => ({ call: mintCall(caller), errorArgs: [caller] }) }],
 *     { account: (party) => accounts[party], succeeds: send, revertOf: simulatedRevert },
 *   )
 * })
 */
export function testAccessControl<party extends string, account extends { address: Address }, call>(
  rules: readonly AccessRule<party, call>[],
  driver: AccessDriver<party, account, call>,
): void {
  const refused = rules.flatMap((rule) => rule.refused.map((who) => [rule.fn, who, rule] as const))
  const allowed = rules.flatMap((rule) => rule.allowed.map((who) => [rule.fn, who, rule] as const))

  if (refused.length > 0)
    test.each(refused)('behavior: %s refuses %s', async (fn, who, rule) => {
      const caller = driver.account(who)
      const { call, errorArgs, unchanged } = await rule.arrange(caller.address)
      const reverted = await driver.revertOf(caller, call)
      expect(reverted, `${fn} did not revert for ${who}`).toBeDefined()
      expect(reverted).toEqual({ name: rule.error, args: errorArgs })
      await unchanged?.()
    })

  if (allowed.length > 0)
    test.each(allowed)('behavior: %s allows %s', async (_fn, who, rule) => {
      const caller = driver.account(who)
      const { call } = await rule.arrange(caller.address)
      await driver.succeeds(caller, call)
    })
}
