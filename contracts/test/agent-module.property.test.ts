/**
 * Property-based test of the agent module's spending limits: random sequences of the agent's
 * payments (alone or batched, in dUSD and ETH), the owner's policy changes (cap, budget, period, a
 * limit removed), pauses, and time passing (`evm_increaseTime`, and jumps to the very edges of a
 * budget window), run against a model of the module's fixed windows: the first counted spend opens a
 * window, later windows start whole periods after it, and a policy change keeps what the open window
 * has spent. After every step the chain must match the model (the agent's nonce and switches, each
 * limit, each window as `spentOf` reports it, the balances of the Safe and the payee), a refused
 * step must fail with the error the model predicts and change nothing, and the counted spends since
 * the window (and the policy) began, read from the payments that actually moved money, never exceed
 * the budget in force. Each run ends with the owner taking the Safe's whole balance out.
 */
import fc from 'fast-check'
import { type Address, type Hex, type LocalAccount, parseEther, parseEventLogs, parseUnits } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { agentEconomyAbi } from '../src/generated/AgentEconomy.ts'
import { agentModuleAbi } from '../src/generated/AgentModule.ts'
import { devUSDAbi } from '../src/generated/DevUSD.ts'
import { policyChange, type TokenLimit, unlimited } from './agent-module-calls.ts'
import { agentOf, executeCall, moduleOf, ownerSets, sendAsAgent, spentOf } from './agent-module-fixture.ts'
import {
  balanceOf,
  contractCall,
  type EconomyFixture,
  ETH,
  economyCall,
  hashOf,
  launchAgent,
  registerAgent,
  revertOf,
  send,
  sendFromSafe,
  sendReverting,
  setNextTimestamp,
  startEconomyFixture,
} from './economy-fixture.ts'

const runs = 30
const periods = [0, 60, 3_600, 86_400] as const

let fx: EconomyFixture
let owner: LocalAccount
let relayer: LocalAccount
let payee: Address
let providerId: bigint
let safe: Address
let tokens: [Address, Address]
const agentKey = privateKeyToAccount(hashOf('property test: agent key'))
/** The policy the agent was launched with, per token (in base units: tiny, so the Safe never runs dry). */
const initial = { perCall: 500n, perPeriod: 1_000n, period: 3_600 }

beforeAll(async () => {
  fx = await startEconomyFixture()
  let providerOwner: LocalAccount
  let providerWallet: LocalAccount
  ;[, owner, relayer, providerOwner, providerWallet] = fx.accounts
  payee = providerWallet.address
  providerId = await registerAgent(fx, providerOwner, providerWallet)
  tokens = [fx.usd, ETH]
  ;({ safe } = await launchAgent(fx, owner, {
    agentKey: agentKey.address,
    policy: policyChange({ setLimits: tokens.map((token) => ({ token, ...initial })) }),
  }))
  await send(fx, owner, contractCall(fx.usd, devUSDAbi, 'transfer', [safe, parseUnits('1000', 6)]))
  await fx.testClient.setBalance({ address: safe, value: parseEther('1') })
  // The agent approved the economy once, before any budget counted (approvals spend nothing).
  await sendAsAgent(fx, relayer, agentKey, safe, [
    contractCall(fx.usd, devUSDAbi, 'approve', [fx.economy, unlimited]),
  ])
})

afterAll(async () => {
  await fx?.devnet.stop()
})

// ------------------------------------------------------------------ actions

/**
 * An amount: a number, or one placed on an edge of the policy as it stands when the step runs (the
 * cap, what the open window has left, one more than either).
 */
const amountArb = fc.oneof(
  { weight: 6, arbitrary: fc.bigInt({ min: 1n, max: 400n }) },
  { weight: 2, arbitrary: fc.bigInt({ min: 401n, max: 1_200n }) },
  { weight: 3, arbitrary: fc.constantFrom('cap', 'capPlusOne', 'rest', 'restPlusOne') },
  { weight: 1, arbitrary: fc.constant(0n) },
)
const tokenArb = fc.nat({ max: 1 })

const actionArb = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({ kind: fc.constant('spend' as const), token: tokenArb, amount: amountArb }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('batch' as const),
      payments: fc.array(fc.record({ token: tokenArb, amount: amountArb }), { minLength: 2, maxLength: 4 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('policy' as const),
      token: tokenArb,
      perCall: fc.oneof(fc.bigInt({ min: 0n, max: 800n }), fc.constant(unlimited)),
      perPeriod: fc.oneof(fc.bigInt({ min: 0n, max: 2_000n }), fc.constant(unlimited)),
      period: fc.constantFrom(...periods),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('removeLimit' as const), token: tokenArb }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('warp' as const),
      seconds: fc.constantFrom(1, 30, 59, 60, 61, 1_800, 3_599, 3_600, 3_601, 86_400, 200_000),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('edge' as const),
      token: tokenArb,
      offset: fc.constantFrom(-1, 0, 1),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('pause' as const), paused: fc.boolean() }) },
)

type Action = typeof actionArb extends fc.Arbitrary<infer A> ? A : never
type Amount = bigint | 'cap' | 'capPlusOne' | 'rest' | 'restPlusOne'

// ------------------------------------------------------------------ model

type Limit = { perCall: bigint; perPeriod: bigint; period: number; enabled: boolean }
type Window = { amount: bigint; start: bigint }
type Model = {
  /** The latest block's timestamp. */
  now: bigint
  nonce: bigint
  paused: boolean
  limits: Map<Address, Limit>
  /** `start` 0: no counted spend yet. */
  windows: Map<Address, Window>
  /** When each token's limit last changed. */
  policySince: Map<Address, bigint>
  /** Every counted spend that moved money. */
  counted: { token: Address; at: bigint; amount: bigint }[]
  balances: Map<string, bigint>
}

const disabled: Limit = { perCall: 0n, perPeriod: 0n, period: 0, enabled: false }
const limitOf = (model: Model, token: Address) => model.limits.get(token) ?? disabled
const windowOf = (model: Model, token: Address) => model.windows.get(token) ?? { amount: 0n, start: 0n }
const balanceKey = (who: Address, token: Address) => `${who}:${token}`

/** The module's `_rolled`: the window open at `t`. */
function rolled(window: Window, period: number, t: bigint): Window {
  if (window.start === 0n) return { amount: 0n, start: t }
  if (period === 0 || t < window.start + BigInt(period)) return window
  return { amount: 0n, start: t - ((t - window.start) % BigInt(period)) }
}

function resolve(model: Model, token: Address, amount: Amount, t: bigint): bigint {
  if (typeof amount === 'bigint') return amount
  const limit = limitOf(model, token)
  const rest = limit.perPeriod - rolled(windowOf(model, token), limit.period, t).amount
  const edge = { cap: limit.perCall, capPlusOne: limit.perCall + 1n, rest, restPlusOne: rest + 1n }[amount]
  // Edges are clamped to what a test amount can be (the Safe holds little; uint96 caps are "none").
  return edge < 0n ? 0n : edge > 2_000n ? 2_000n : edge
}

type Payment = { token: Address; amount: bigint }
type Prediction = { error: [string, readonly unknown[]] } | { windows: Map<Address, Window> }

/** What `execute` of `payments` at `t` does, as the module (and then the economy) decide, in order. */
function predict(model: Model, payments: Payment[], t: bigint): Prediction {
  if (model.paused) return { error: ['ModulePaused', [safe]] }
  const windows = new Map(model.windows)
  for (const { token, amount } of payments) {
    const limit = limitOf(model, token)
    if (!limit.enabled) return { error: ['ModuleTokenNotAllowed', [safe, token]] }
    if (amount > limit.perCall) return { error: ['ModuleOverCallCap', [safe, token, amount, limit.perCall]] }
    if (limit.period !== 0) {
      const open = rolled(windows.get(token) ?? { amount: 0n, start: 0n }, limit.period, t)
      const total = open.amount + amount
      if (total > limit.perPeriod)
        return { error: ['ModuleOverBudget', [safe, token, total, limit.perPeriod]] }
      windows.set(token, { amount: total, start: open.start })
    }
    // The module let it through; the economy refuses a zero payment.
    if (amount === 0n) return { error: ['EconomyZeroAmount', []] }
  }
  return { windows }
}

const outcomes = new Map<string, number>()
function reached(outcome: string) {
  outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
}

/** Mines the next block one second after the latest (so the model knows every timestamp). */
async function nextSecond(model: Model): Promise<bigint> {
  model.now += 1n
  await setNextTimestamp(fx, model.now)
  return model.now
}

async function pay(model: Model, planned: { token: number; amount: Amount }[], trace: string[]) {
  const t = await nextSecond(model)
  const payments = planned.map(({ token, amount }) => ({
    token: tokens[token]!,
    amount: resolve(model, tokens[token]!, amount, t),
  }))
  trace.push(
    `pay ${payments.map((p) => `${p.amount} ${p.token === ETH ? 'ETH' : 'dUSD'}`).join(', ')} at ${t}`,
  )
  const calls = payments.map(({ token, amount }, i) =>
    economyCall(fx, 'pay', [providerId, token, amount, hashOf(`payment ${i}`)], token === ETH ? amount : 0n),
  )
  const call = await executeCall(fx, agentKey, safe, calls)
  const prediction = predict(model, payments, t)
  const simulated = await revertOf(fx, relayer, call)
  if ('error' in prediction) {
    const [errorName, args] = prediction.error
    expect({ errorName: simulated?.errorName, args: simulated?.args ?? [] }).toEqual({ errorName, args })
    await sendReverting(fx, relayer, call)
    reached(errorName)
    return
  }
  expect(simulated).toBeUndefined()
  const receipt = await send(fx, relayer, call)
  expect((await fx.publicClient.getBlock({ blockNumber: receipt.blockNumber })).timestamp).toBe(t)
  expect(
    parseEventLogs({ abi: agentEconomyAbi, logs: receipt.logs, eventName: 'Paid' }).map((e) => e.args.amount),
  ).toEqual(payments.map((p) => p.amount))
  reached(payments.length > 1 ? 'batch paid' : 'paid')
  model.nonce += 1n
  for (const { token, amount } of payments) {
    const limit = limitOf(model, token)
    const before = windowOf(model, token)
    if (limit.period !== 0) {
      model.counted.push({ token, at: t, amount })
      if (before.start !== 0n && t >= before.start + BigInt(limit.period)) reached('window rolled over')
    }
    model.balances.set(balanceKey(safe, token), model.balances.get(balanceKey(safe, token))! - amount)
    model.balances.set(balanceKey(payee, token), model.balances.get(balanceKey(payee, token))! + amount)
  }
  model.windows = prediction.windows
  // The budget held: what moved since the window (and the policy) began is within it.
  for (const token of new Set(payments.map((p) => p.token))) {
    const limit = limitOf(model, token)
    if (limit.period === 0) continue
    const { periodStart } = await spentOf(fx, safe, token)
    expect(periodStart <= t && t < periodStart + BigInt(limit.period)).toBe(true)
    const since = [periodStart, model.policySince.get(token) ?? 0n].reduce((a, b) => (a > b ? a : b))
    const spent = model.counted
      .filter((spend) => spend.token === token && spend.at >= since)
      .reduce((total, spend) => total + spend.amount, 0n)
    expect(spent).toBeLessThanOrEqual(limit.perPeriod)
  }
}

async function run(model: Model, action: Action, trace: string[]) {
  switch (action.kind) {
    case 'spend':
      return pay(model, [action], trace)
    case 'batch':
      return pay(model, action.payments, trace)
    case 'policy': {
      const token = tokens[action.token]!
      const limit: TokenLimit = {
        token,
        perCall: action.perCall,
        perPeriod: action.perPeriod,
        period: action.period,
      }
      trace.push(`owner sets ${JSON.stringify(limit, (_, v) => (typeof v === 'bigint' ? `${v}` : v))}`)
      await nextSecond(model)
      await ownerSets(fx, safe, owner, { configure: policyChange({ setLimits: [limit] }) })
      model.limits.set(token, {
        perCall: limit.perCall,
        perPeriod: limit.perPeriod,
        period: limit.period,
        enabled: true,
      })
      model.policySince.set(token, model.now)
      return reached('policy set')
    }
    case 'removeLimit': {
      const token = tokens[action.token]!
      trace.push(`owner removes the ${token === ETH ? 'ETH' : 'dUSD'} limit`)
      await nextSecond(model)
      await ownerSets(fx, safe, owner, { configure: policyChange({ removeLimits: [token] }) })
      model.limits.set(token, disabled)
      model.policySince.set(token, model.now)
      return reached('limit removed')
    }
    case 'pause': {
      trace.push(action.paused ? 'owner pauses' : 'owner resumes')
      await nextSecond(model)
      await ownerSets(fx, safe, owner, { setPaused: action.paused })
      model.paused = action.paused
      return reached(action.paused ? 'paused' : 'resumed')
    }
    case 'warp': {
      trace.push(`${action.seconds} s pass`)
      await fx.testClient.increaseTime({ seconds: action.seconds })
      await fx.testClient.mine({ blocks: 1 })
      const now = (await fx.publicClient.getBlock()).timestamp
      expect(now).toBeGreaterThanOrEqual(model.now + BigInt(action.seconds))
      model.now = now
      return
    }
    case 'edge': {
      // The next block lands just before, at or just after the end of the token's open window.
      const token = tokens[action.token]!
      const { period } = limitOf(model, token)
      const { start } = windowOf(model, token)
      if (period === 0 || start === 0n) return
      const end = start + BigInt(period)
      const target = end + BigInt(action.offset) - 1n
      if (target <= model.now) return
      trace.push(`to ${action.offset} s from the window's end (${end})`)
      await setNextTimestamp(fx, target)
      await fx.testClient.mine({ blocks: 1 })
      model.now = target
      return reached('window edge')
    }
  }
}

// ------------------------------------------------------------------ checks

async function snapshotModel(): Promise<Model> {
  const balances = new Map<string, bigint>()
  for (const who of [safe, payee])
    for (const token of tokens) balances.set(balanceKey(who, token), await balanceOf(fx, token, who))
  const limits = new Map<Address, Limit>()
  const windows = new Map<Address, Window>()
  for (const token of tokens) {
    limits.set(token, { ...initial, enabled: true })
    windows.set(token, { amount: 0n, start: 0n })
  }
  return {
    now: (await fx.publicClient.getBlock()).timestamp,
    nonce: (await agentOf(fx, safe)).nonce,
    paused: false,
    limits,
    windows,
    policySince: new Map(),
    counted: [],
    balances,
  }
}

async function checkInvariants(model: Model) {
  const now = (await fx.publicClient.getBlock()).timestamp
  expect(now).toBe(model.now)
  expect(await agentOf(fx, safe)).toEqual({
    key: agentKey.address,
    nonce: model.nonce,
    paused: model.paused,
    restricted: false,
  })
  for (const token of tokens) {
    const limit = limitOf(model, token)
    expect(
      await fx.publicClient.readContract({
        address: moduleOf(fx),
        abi: agentModuleAbi,
        functionName: 'limitOf',
        args: [safe, token],
      }),
    ).toEqual(limit)
    // `spentOf` reports the window open now, under the period in force (none once removed).
    const open = rolled(windowOf(model, token), limit.period, now)
    expect(await spentOf(fx, safe, token)).toEqual({ amount: open.amount, periodStart: open.start })
    for (const who of [safe, payee])
      expect(await balanceOf(fx, token, who)).toBe(model.balances.get(balanceKey(who, token)))
  }
}

test('property: random spends, policy changes, pauses and time keep every window within its budget', {
  timeout: 600_000,
}, async () => {
  let steps = 0
  await fc.assert(
    fc.asyncProperty(fc.array(actionArb, { minLength: 5, maxLength: 30 }), async (actions) => {
      const snapshot: Hex = await fx.testClient.snapshot()
      const trace: string[] = []
      try {
        const model = await snapshotModel()
        await checkInvariants(model)
        for (const action of actions) {
          await run(model, action, trace)
          await checkInvariants(model)
          steps += 1
        }
        // Whatever the agent's state, the owner takes everything out through the Safe.
        for (const token of tokens) {
          const balance = await balanceOf(fx, token, safe)
          const ownerBefore = await balanceOf(fx, token, owner.address)
          const receipt = await sendFromSafe(
            fx,
            safe,
            owner,
            token === ETH
              ? { to: owner.address, value: balance, data: '0x' }
              : contractCall(fx.usd, devUSDAbi, 'transfer', [owner.address, balance]),
          )
          expect(await balanceOf(fx, token, safe)).toBe(0n)
          const gas = token === ETH ? receipt.gasUsed * receipt.effectiveGasPrice : 0n
          expect(await balanceOf(fx, token, owner.address)).toBe(ownerBefore + balance - gas)
        }
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error)
        throw new Error(`${reason}\nafter steps:\n  ${trace.join('\n  ')}`, { cause: error })
      } finally {
        await fx.testClient.revert({ id: snapshot })
      }
    }),
    { numRuns: runs },
  )
  expect(steps).toBeGreaterThanOrEqual(runs * 5)
  // The generator must keep reaching every outcome: each refusal, rollovers, edges, batches.
  expect([...outcomes.keys()].sort()).toEqual(
    [
      'EconomyZeroAmount',
      'ModuleOverBudget',
      'ModuleOverCallCap',
      'ModulePaused',
      'ModuleTokenNotAllowed',
      'batch paid',
      'limit removed',
      'paid',
      'paused',
      'policy set',
      'resumed',
      'window edge',
      'window rolled over',
    ].sort(),
  )
})
