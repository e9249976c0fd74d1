/**
 * Property-based test of the economy: random sequences of job actions by random (often the wrong)
 * parties, with time jumps, a payee contract that sometimes refuses ETH (and always needs more gas to
 * take it than the payout stipend) and changing minimum job values, run against a model. After every
 * step the chain must match the model exactly: every party's balance in ETH (net of gas) and dUSD,
 * every job, fees, debts, providers' reputation and clients' records (what counts and what does not:
 * declines, jobs between agents of one owner, jobs below the minimum); and per token the economy
 * holds exactly the open budgets plus fees plus debts. A failing call must fail with the error the model predicts and change nothing
 * but its sender's gas. Each run starts from the same chain snapshot and ends by refunding, withdrawing
 * and collecting everything, after which the economy must hold nothing.
 */
import fc from 'fast-check'
import { type Address, type Hex, type LocalAccount, type TransactionReceipt, zeroAddress } from 'viem'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { devUSDAbi } from '../src/generated/DevUSD.ts'
import { reentrantReceiverAbi } from '../src/generated/ReentrantReceiver.ts'
import {
  approve,
  balanceOf,
  type Call,
  contractCall,
  type EconomyFixture,
  ETH,
  economyCall,
  economyEvents,
  gasCost,
  hashOf,
  jobIdOf,
  latestTimestamp,
  maxJobDuration,
  ReceiverMode,
  readEconomy,
  receiverAgent,
  registerAgent,
  revertOf,
  Status,
  send,
  sendReverting,
  setNextTimestamp,
  startEconomyFixture,
  uint88Max,
  viaReceiver,
} from './economy-fixture.ts'

const grace = 3_600n
const runs = 40

/** Someone who calls the economy: an account, or the receiver contract driven by its controller. */
type Party = { name: string; address: Address; sender: LocalAccount; viaReceiver: boolean }
/** A provider agent: its id, where it is paid and who owns it (jobs its owner funds count nowhere). */
type Provider = { id: bigint; payee: Party; owner: Address }

let fx: EconomyFixture
let parties: Party[]
let receiver: Party
let controller: LocalAccount
let providers: Provider[]
let tokens: Address[]
let tracked: Address[]

beforeAll(async () => {
  fx = await startEconomyFixture({ submissionGraceSeconds: Number(grace) })
  const [owner, c1, c2, o1, w1, ev, s, ctl] = fx.accounts
  controller = ctl
  const eoa = (name: string, account: LocalAccount): Party => ({
    name,
    address: account.address,
    sender: account,
    viaReceiver: false,
  })
  const p1 = await registerAgent(fx, o1, w1)
  const r = await receiverAgent(fx, ctl)
  receiver = { name: 'receiver', address: r.receiver, sender: ctl, viaReceiver: true }
  parties = [
    eoa('owner', owner),
    eoa('client1', c1),
    eoa('client2', c2),
    eoa('agentOwner', o1),
    eoa('agentWallet', w1),
    eoa('evaluator', ev),
    eoa('stranger', s),
    receiver,
  ]
  providers = [
    { id: p1, payee: parties[4]!, owner: o1.address },
    // The receiver registered its agent itself: it owns it and is paid as its owner.
    { id: r.agentId, payee: receiver, owner: r.receiver },
  ]
  tokens = [ETH, fx.usd]
  tracked = [...parties.map((party) => party.address), ctl.address, fx.economy]
  for (const account of [owner, c1, c2, o1, w1, ev, s]) await approve(fx, account, fx.usd)
  // The receiver can hire in dUSD too.
  await send(fx, ctl, contractCall(fx.usd, devUSDAbi, 'transfer', [r.receiver, 10n ** 11n]))
  await send(
    fx,
    ctl,
    viaReceiver(r.receiver, contractCall(fx.usd, devUSDAbi, 'approve', [fx.economy, 2n ** 255n])),
  )
})

afterAll(async () => {
  await fx?.devnet.stop()
})

// ------------------------------------------------------------------ actions

/** A caller: -1 for whoever is entitled to make the call, else an index into `parties`. */
const callerArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant(-1) },
  { weight: 1, arbitrary: fc.nat({ max: 7 }) },
)
/** A job: usually one in the state the action needs (`fit`), sometimes any job at all. */
const jobArb = fc.record({
  fit: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  index: fc.nat({ max: 1_000 }),
})
const tokenArb = fc.nat({ max: 1 })
/** Whether the receiver refuses ETH: more often yes, so that payouts get deferred. */
const refusesArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant(true) },
  { weight: 1, arbitrary: fc.constant(false) },
)
/** A token to withdraw: -1 for one there is something to withdraw in, else an index into `tokens`. */
const withdrawalTokenArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(-1) },
  { weight: 1, arbitrary: tokenArb },
)

const createArb = fc.record({
  kind: fc.constant('create' as const),
  // Mostly the two clients and the receiver contract; sometimes anyone, the providers included.
  caller: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(1, 2, 7) },
    { weight: 1, arbitrary: fc.nat({ max: 7 }) },
  ),
  provider: fc.nat({ max: 1 }),
  evaluator: fc.oneof(
    { weight: 3, arbitrary: fc.constant(-1) },
    { weight: 2, arbitrary: fc.nat({ max: 7 }) },
  ),
  token: tokenArb,
  budget: fc.oneof(
    { weight: 2, arbitrary: fc.bigInt({ min: 1n, max: 1_000n }) },
    { weight: 5, arbitrary: fc.bigInt({ min: 1n, max: 10n ** 9n }) },
    { weight: 1, arbitrary: fc.constant(0n) },
  ),
  deadlineIn: fc.oneof(
    { weight: 8, arbitrary: fc.bigInt({ min: 1n, max: 4n * grace }) },
    { weight: 1, arbitrary: fc.constantFrom(0n, maxJobDuration, maxJobDuration + 1n) },
  ),
  spec: fc.nat({ max: 2 }),
  valueOff: fc.oneof(
    { weight: 8, arbitrary: fc.constant(0n) },
    { weight: 1, arbitrary: fc.constantFrom(-1n, 1n) },
  ),
})

const actionArb = fc.oneof(
  { weight: 2, arbitrary: createArb },
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant('submit' as const), job: jobArb, caller: callerArb }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('decline' as const), job: jobArb, caller: callerArb }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('complete' as const),
      job: jobArb,
      caller: callerArb,
      byEvaluator: fc.boolean(),
      rating: fc.oneof(
        { weight: 6, arbitrary: fc.integer({ min: 0, max: 100 }) },
        { weight: 1, arbitrary: fc.integer({ min: 101, max: 255 }) },
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('reject' as const), job: jobArb, caller: callerArb }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('refund' as const), job: jobArb, caller: fc.nat({ max: 7 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('warp' as const),
      seconds: fc.constantFrom(1n, 60n, grace / 2n, grace, 2n * grace, 86_400n),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('receiverMode' as const), refuse: refusesArb }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('withdrawOwed' as const),
      caller: callerArb,
      token: withdrawalTokenArb,
      // When owed ETH, the receiver first accepts ETH again, as a wallet would once fixed.
      receiverAccepts: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('setMinJobValue' as const),
      caller: callerArb,
      token: tokenArb,
      value: fc.oneof(
        { weight: 2, arbitrary: fc.constant(0n) },
        { weight: 3, arbitrary: fc.bigInt({ min: 1n, max: 10n ** 6n }) },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('withdrawFees' as const),
      caller: callerArb,
      token: withdrawalTokenArb,
      to: fc.nat({ max: 7 }),
    }),
  },
)

type Action = typeof actionArb extends fc.Arbitrary<infer A> ? A : never

// ------------------------------------------------------------------ model

type ModelJob = {
  id: bigint
  client: Address
  provider: Provider
  evaluator: Address
  token: Address
  budget: bigint
  deadline: bigint
  status: number
  sameOwner: boolean
}

type Reputation = {
  completed: number
  rejected: number
  expired: number
  clients: number
  ratingSum: number
  earned: bigint
}

type ClientRecord = {
  completed: number
  rejected: number
  expired: number
  lastProviderId: number
  paid: bigint
}

type Model = {
  now: bigint
  feeBps: bigint
  jobs: ModelJob[]
  balances: Map<string, bigint>
  fees: Map<Address, bigint>
  owed: Map<string, bigint>
  reputation: Map<string, Reputation>
  reputationTokens: Map<bigint, Address[]>
  clientRecords: Map<string, ClientRecord>
  /** `provider:token:client` of every pair with a counted completion. */
  served: Set<string>
  minJobValue: Map<Address, bigint>
  receiverRefuses: boolean
}

const key = (...parts: (string | bigint)[]) => parts.join(':')
type ExpectedEvent = { eventName: string; args: Record<string, unknown> }

/** What a step does: the call, and either the error it must revert with or how it changes the model. */
type Step = {
  party: Party
  call: Call
  error?: [string, readonly unknown[]]
  /** Applies the step's effects to the model and returns the economy events it must emit. */
  commit?: () => ExpectedEvent[]
}

function get<K>(map: Map<K, bigint>, k: K): bigint {
  return map.get(k) ?? 0n
}

function move(model: Model, who: Address, token: Address, delta: bigint) {
  model.balances.set(key(who, token), get(model.balances, key(who, token)) + delta)
}

function repOf(model: Model, agentId: bigint, token: Address): Reputation {
  const k = key(agentId, token)
  let rep = model.reputation.get(k)
  if (!rep) {
    rep = { completed: 0, rejected: 0, expired: 0, clients: 0, ratingSum: 0, earned: 0n }
    model.reputation.set(k, rep)
  }
  return rep
}

function recordOf(model: Model, client: Address, token: Address): ClientRecord {
  const k = key(client, token)
  let record = model.clientRecords.get(k)
  if (!record) {
    record = { completed: 0, rejected: 0, expired: 0, lastProviderId: 0, paid: 0n }
    model.clientRecords.set(k, record)
  }
  return record
}

/** The record a counted settlement writes to, listing the token at the agent's first one in it. */
function settleRep(model: Model, agentId: bigint, token: Address): Reputation {
  const rep = repOf(model, agentId, token)
  if (rep.completed + rep.rejected + rep.expired === 0) {
    model.reputationTokens.set(agentId, [...(model.reputationTokens.get(agentId) ?? []), token])
  }
  return rep
}

/** Whether a settling job counts in records: not between one owner's agents, not below the minimum. */
function counts(model: Model, job: ModelJob): boolean {
  return !job.sameOwner && job.budget >= get(model.minJobValue, job.token)
}

/**
 * Pays out of the economy: delivered, or owed. The receiver contract keeps books when it takes ETH,
 * which needs more gas than the payout stipend, so its ETH payouts are always owed.
 */
function payOut(model: Model, to: Address, token: Address, amount: bigint): ExpectedEvent[] {
  if (token === ETH && to === receiver.address) {
    model.owed.set(key(to, token), get(model.owed, key(to, token)) + amount)
    return [{ eventName: 'PaymentDeferred', args: { recipient: to, token, amount } }]
  }
  move(model, fx.economy, token, -amount)
  move(model, to, token, amount)
  return []
}

function pick(caller: number, rightful: Party): Party {
  return caller < 0 ? rightful : parties[caller]!
}

/** The job `choice` designates: among those in `statuses` when it asks for a fit and there are some. */
function jobAt(
  model: Model,
  choice: { fit: boolean; index: number },
  statuses: number[],
): ModelJob | undefined {
  const fitting = model.jobs.filter((job) => statuses.includes(job.status))
  const pool = choice.fit && fitting.length > 0 ? fitting : model.jobs
  return pool.length === 0 ? undefined : pool[choice.index % pool.length]
}

/** A job id nobody created, for actions drawn before any job exists. */
const unknownJob = 1n

/** The step `action` takes at time `t`, as the contract's specification says it behaves. */
function plan(model: Model, action: Exclude<Action, { kind: 'warp' | 'receiverMode' }>, t: bigint): Step {
  switch (action.kind) {
    case 'create': {
      const party = parties[action.caller]!
      const provider = providers[action.provider]!
      const token = tokens[action.token]!
      const { budget } = action
      const evaluator = action.evaluator < 0 ? zeroAddress : parties[action.evaluator]!.address
      const deadline = t + action.deadlineIn
      const specHash = hashOf(`spec-${action.spec}`)
      const id = jobIdOf(party.address, provider.id, specHash)
      const value =
        token === ETH
          ? budget + action.valueOff < 0n
            ? 1n
            : budget + action.valueOff
          : action.valueOff === 0n
            ? 0n
            : 1n
      const call = economyCall(
        fx,
        'createJob',
        [provider.id, evaluator, token, budget, deadline, specHash],
        value,
      )
      const step = { party, call }
      if (budget === 0n) return { ...step, error: ['EconomyZeroAmount', []] }
      if (deadline <= t || deadline > t + maxJobDuration)
        return { ...step, error: ['EconomyInvalidDeadline', [deadline]] }
      if (party.address === provider.payee.address)
        return { ...step, error: ['EconomySelfDealing', [provider.id, party.address]] }
      if (evaluator === provider.payee.address)
        return { ...step, error: ['EconomyInvalidEvaluator', [evaluator]] }
      if (model.jobs.some((job) => job.id === id)) return { ...step, error: ['EconomyJobExists', [id]] }
      const expected = token === ETH ? budget : 0n
      if (value !== expected) return { ...step, error: ['EconomyValueMismatch', [expected, value]] }
      return {
        ...step,
        commit: () => {
          model.jobs.push({
            id,
            client: party.address,
            provider,
            evaluator,
            token,
            budget,
            deadline,
            status: Status.Funded,
            // Nobody here is a contract answering Safe's `isOwner`: only the owner itself is the same owner.
            sameOwner: party.address === provider.owner,
          })
          // ETH comes from whoever sends the transaction; tokens from the caller.
          move(model, token === ETH ? party.sender.address : party.address, token, -budget)
          move(model, fx.economy, token, budget)
          return [
            {
              eventName: 'JobCreated',
              args: {
                jobId: id,
                client: party.address,
                providerId: provider.id,
                evaluator,
                token,
                budget,
                deadline,
                specHash,
              },
            },
          ]
        },
      }
    }
    case 'submit':
    case 'decline': {
      const job = jobAt(model, action.job, [Status.Funded])
      const party = pick(action.caller, job?.provider.payee ?? parties[0]!)
      const reason = hashOf(action.kind)
      const id = job?.id ?? unknownJob
      const call =
        action.kind === 'submit'
          ? economyCall(fx, 'submitJob', [id, reason])
          : economyCall(fx, 'declineJob', [id, reason])
      if (!job) return { party, call, error: ['EconomyJobNotFound', [id]] }
      if (job.status !== Status.Funded)
        return { party, call, error: ['EconomyInvalidStatus', [id, job.status]] }
      if (party.address !== job.provider.payee.address)
        return { party, call, error: ['EconomyNotProvider', [id, party.address]] }
      if (action.kind === 'submit') {
        if (t > job.deadline) return { party, call, error: ['EconomyDeadlinePassed', [id, job.deadline]] }
        return {
          party,
          call,
          commit: () => {
            job.status = Status.Submitted
            return [
              {
                eventName: 'JobSubmitted',
                args: { jobId: id, providerId: job.provider.id, deliverableHash: reason },
              },
            ]
          },
        }
      }
      return {
        party,
        call,
        commit: () => {
          job.status = Status.Declined
          return [
            {
              eventName: 'JobDeclined',
              args: { jobId: id, providerId: job.provider.id, reasonHash: reason },
            },
            ...payOut(model, job.client, job.token, job.budget),
          ]
        },
      }
    }
    case 'complete': {
      const job = jobAt(model, action.job, [Status.Submitted])
      const id = job?.id ?? unknownJob
      const entitled =
        job && action.byEvaluator && job.evaluator !== zeroAddress
          ? job.evaluator
          : (job?.client ?? zeroAddress)
      const party = pick(action.caller, parties.find((p) => p.address === entitled) ?? parties[1]!)
      const feedback = hashOf('feedback')
      const call = economyCall(fx, 'completeJob', [id, action.rating, feedback])
      if (!job) return { party, call, error: ['EconomyJobNotFound', [id]] }
      if (job.status !== Status.Submitted)
        return { party, call, error: ['EconomyInvalidStatus', [id, job.status]] }
      if (party.address !== job.client && party.address !== job.evaluator)
        return { party, call, error: ['EconomyNotClientOrEvaluator', [id, party.address]] }
      if (action.rating > 100) return { party, call, error: ['EconomyInvalidRating', [action.rating]] }
      return {
        party,
        call,
        commit: () => {
          job.status = Status.Completed
          const fee = (job.budget * model.feeBps) / 10_000n
          const payout = job.budget - fee
          model.fees.set(job.token, get(model.fees, job.token) + fee)
          if (counts(model, job)) {
            const rep = settleRep(model, job.provider.id, job.token)
            rep.completed += 1
            rep.ratingSum += action.rating
            // `earned` saturates rather than overflow.
            const earned = rep.earned + payout
            // biome-ignore lint/complexity/useMathMinMax: bigints, which Math.min does not take
            rep.earned = earned > uint88Max ? uint88Max : earned
            const record = recordOf(model, job.client, job.token)
            record.completed += 1
            record.paid += job.budget
            record.lastProviderId = Number(job.provider.id)
            const pair = key(job.provider.id, job.token, job.client)
            if (!model.served.has(pair)) {
              model.served.add(pair)
              rep.clients += 1
            }
          }
          const payee = job.provider.payee.address
          return [
            {
              eventName: 'JobCompleted',
              args: {
                jobId: id,
                providerId: job.provider.id,
                client: job.client,
                payee,
                payout,
                fee,
                rating: action.rating,
                feedbackHash: feedback,
              },
            },
            ...payOut(model, payee, job.token, payout),
          ]
        },
      }
    }
    case 'reject': {
      const job = jobAt(model, action.job, [Status.Submitted])
      const id = job?.id ?? unknownJob
      const entitled = job ? (job.evaluator !== zeroAddress ? job.evaluator : job.client) : zeroAddress
      const party = pick(action.caller, parties.find((p) => p.address === entitled) ?? parties[1]!)
      const reason = hashOf('reject')
      const call = economyCall(fx, 'rejectJob', [id, reason])
      if (!job) return { party, call, error: ['EconomyJobNotFound', [id]] }
      if (job.status !== Status.Submitted)
        return { party, call, error: ['EconomyInvalidStatus', [id, job.status]] }
      if (job.evaluator !== zeroAddress && party.address !== job.evaluator)
        return { party, call, error: ['EconomyNotEvaluator', [id, party.address]] }
      if (job.evaluator === zeroAddress && party.address !== job.client)
        return { party, call, error: ['EconomyNotClient', [id, party.address]] }
      return {
        party,
        call,
        commit: () => {
          job.status = Status.Rejected
          if (counts(model, job)) {
            settleRep(model, job.provider.id, job.token).rejected += 1
            recordOf(model, job.client, job.token).rejected += 1
          }
          return [
            {
              eventName: 'JobRejected',
              args: { jobId: id, providerId: job.provider.id, by: party.address, reasonHash: reason },
            },
            ...payOut(model, job.client, job.token, job.budget),
          ]
        },
      }
    }
    case 'refund': {
      const job = jobAt(model, action.job, [Status.Funded, Status.Submitted])
      const id = job?.id ?? unknownJob
      const party = parties[action.caller]!
      const call = economyCall(fx, 'refundExpired', [id])
      if (!job) return { party, call, error: ['EconomyJobNotFound', [id]] }
      const submitted = job.status === Status.Submitted
      if (job.status !== Status.Funded && !submitted)
        return { party, call, error: ['EconomyInvalidStatus', [id, job.status]] }
      const after = submitted ? job.deadline + grace : job.deadline
      if (t <= after) return { party, call, error: ['EconomyNotExpired', [id, after]] }
      return {
        party,
        call,
        commit: () => {
          job.status = Status.Expired
          // Undelivered: on the provider's record; delivered and never evaluated: on the client's.
          if (counts(model, job)) {
            if (submitted) recordOf(model, job.client, job.token).expired += 1
            else settleRep(model, job.provider.id, job.token).expired += 1
          }
          return [
            {
              eventName: 'JobExpired',
              args: { jobId: id, providerId: job.provider.id, by: party.address, afterSubmission: submitted },
            },
            ...payOut(model, job.client, job.token, job.budget),
          ]
        },
      }
    }
    case 'withdrawOwed': {
      const owing = (p: Party) => tokens.find((token) => get(model.owed, key(p.address, token)) > 0n)
      const party = pick(action.caller, parties.find((p) => owing(p) !== undefined) ?? receiver)
      const token = action.token < 0 ? (owing(party) ?? ETH) : tokens[action.token]!
      const amount = get(model.owed, key(party.address, token))
      const call = economyCall(fx, 'withdrawOwed', [token])
      if (amount === 0n) return { party, call, error: ['EconomyNothingOwed', [party.address, token]] }
      if (token === ETH && party === receiver && model.receiverRefuses)
        return { party, call, error: ['EconomyTransferFailed', [token, party.address, amount]] }
      return {
        party,
        call,
        commit: () => {
          model.owed.set(key(party.address, token), 0n)
          move(model, fx.economy, token, -amount)
          move(model, party.address, token, amount)
          return [{ eventName: 'OwedWithdrawn', args: { recipient: party.address, token, amount } }]
        },
      }
    }
    case 'setMinJobValue': {
      const party = pick(action.caller, parties[0]!)
      const token = tokens[action.token]!
      const call = economyCall(fx, 'setMinJobValue', [token, action.value])
      if (party !== parties[0]) return { party, call, error: ['OwnableUnauthorizedAccount', [party.address]] }
      return {
        party,
        call,
        commit: () => {
          model.minJobValue.set(token, action.value)
          return [{ eventName: 'MinJobValueSet', args: { token, minJobValue: action.value } }]
        },
      }
    }
    case 'withdrawFees': {
      const token =
        action.token < 0 ? (tokens.find((t) => get(model.fees, t) > 0n) ?? ETH) : tokens[action.token]!
      const party = pick(action.caller, parties[0]!)
      const to = parties[action.to]!.address
      const amount = get(model.fees, token)
      const call = economyCall(fx, 'withdrawFees', [token, to])
      if (party !== parties[0]) return { party, call, error: ['OwnableUnauthorizedAccount', [party.address]] }
      if (amount === 0n) return { party, call, error: ['EconomyNothingOwed', [to, token]] }
      if (token === ETH && to === receiver.address && model.receiverRefuses)
        return { party, call, error: ['EconomyTransferFailed', [token, to, amount]] }
      return {
        party,
        call,
        commit: () => {
          model.fees.set(token, 0n)
          move(model, fx.economy, token, -amount)
          move(model, to, token, amount)
          return [{ eventName: 'FeesWithdrawn', args: { token, to, amount } }]
        },
      }
    }
  }
}

// ------------------------------------------------------------------ running

async function transact(
  model: Model,
  party: Party,
  call: Call,
  reverts: boolean,
): Promise<TransactionReceipt> {
  const wrapped = party.viaReceiver ? viaReceiver(party.address, call) : call
  const receipt = reverts
    ? await sendReverting(fx, party.sender, wrapped)
    : await send(fx, party.sender, wrapped)
  move(model, party.sender.address, ETH, -gasCost(receipt))
  return receipt
}

/** How often each outcome (`function: ok` or `function: Error`) and each deferral occurred, over all runs. */
const outcomes = new Map<string, number>()

function tally(outcome: string) {
  outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
}

async function setReceiverRefuses(model: Model, refuse: boolean): Promise<void> {
  const mode = refuse ? ReceiverMode.Refuse : ReceiverMode.Accept
  const receipt = await send(
    fx,
    controller,
    contractCall(receiver.address, reentrantReceiverAbi, 'setMode', [mode]),
  )
  move(model, controller.address, ETH, -gasCost(receipt))
  model.receiverRefuses = refuse
}

async function run(model: Model, action: Action, trace: string[]): Promise<void> {
  if (action.kind === 'warp') {
    model.now += action.seconds
    return
  }
  model.now += 1n
  await setNextTimestamp(fx, model.now)
  if (action.kind === 'receiverMode') return setReceiverRefuses(model, action.refuse)
  const receiverOwed = get(model.owed, key(receiver.address, ETH)) > 0n
  if (action.kind === 'withdrawOwed' && action.receiverAccepts && model.receiverRefuses && receiverOwed) {
    await setReceiverRefuses(model, false)
    model.now += 1n
    await setNextTimestamp(fx, model.now)
  }
  const step = plan(model, action, model.now)
  trace.push(`${step.party.name}: ${step.call.functionName} -> ${step.error?.[0] ?? 'ok'}`)
  tally(`${step.call.functionName}: ${step.error?.[0] ?? 'ok'}`)
  if (step.error) {
    const [errorName, args] = step.error
    const wrapped = step.party.viaReceiver ? viaReceiver(step.party.address, step.call) : step.call
    const reverted = await revertOf(fx, step.party.sender, wrapped)
    expect({ errorName: reverted?.errorName, args: reverted?.args ?? [] }).toEqual({ errorName, args })
    await transact(model, step.party, step.call, true)
    return
  }
  const receipt = await transact(model, step.party, step.call, false)
  const events = step.commit!()
  expect(economyEvents(fx, receipt)).toEqual(events)
  for (const event of events) if (event.eventName === 'PaymentDeferred') tally('PaymentDeferred')
}

/**
 * Ends a run by settling everything: every open job is refunded once refundable, every debt withdrawn
 * (the receiver accepting ETH again) and every fee collected, after which the economy must hold nothing.
 */
async function drain(model: Model, trace: string[]): Promise<void> {
  trace.push('drain:')
  await run(model, { kind: 'warp', seconds: maxJobDuration + grace + 1n }, trace)
  for (const [index, job] of model.jobs.entries()) {
    if (job.status !== Status.Funded && job.status !== Status.Submitted) continue
    await run(model, { kind: 'refund', job: { fit: false, index }, caller: 6 }, trace)
    await checkInvariants(model)
  }
  for (const [caller, party] of parties.entries()) {
    for (const [token, address] of tokens.entries()) {
      if (get(model.owed, key(party.address, address)) === 0n) continue
      await run(model, { kind: 'withdrawOwed', caller, token, receiverAccepts: true }, trace)
      await checkInvariants(model)
    }
  }
  for (const [token, address] of tokens.entries()) {
    if (get(model.fees, address) === 0n) continue
    await run(model, { kind: 'withdrawFees', caller: 0, token, to: 0 }, trace)
    await checkInvariants(model)
  }
  for (const token of tokens) expect(await balanceOf(fx, token, fx.economy)).toBe(0n)
}

async function snapshotModel(): Promise<Model> {
  const balances = new Map<string, bigint>()
  await Promise.all(
    tracked.flatMap((who) =>
      tokens.map(async (token) => balances.set(key(who, token), await balanceOf(fx, token, who))),
    ),
  )
  const receiverMode = await fx.publicClient.readContract({
    address: receiver.address,
    abi: reentrantReceiverAbi,
    functionName: 'mode',
  })
  return {
    now: await latestTimestamp(fx),
    feeBps: fx.feeBps,
    jobs: [],
    balances,
    fees: new Map(),
    owed: new Map(),
    reputation: new Map(),
    reputationTokens: new Map(),
    clientRecords: new Map(),
    served: new Set(),
    minJobValue: new Map(),
    receiverRefuses: receiverMode === ReceiverMode.Refuse,
  }
}

/** Checks the chain against the model, and the economy's solvency in every token. */
async function checkInvariants(model: Model): Promise<void> {
  const [balances, fees, owed, jobs, reputations, listed, aggregates, records, minimums] = await Promise.all([
    Promise.all(tracked.flatMap((who) => tokens.map((token) => balanceOf(fx, token, who)))),
    Promise.all(tokens.map((token) => readEconomy(fx, 'accruedFees', [token]))),
    Promise.all(parties.flatMap((p) => tokens.map((token) => readEconomy(fx, 'owed', [p.address, token])))),
    Promise.all(
      model.jobs.map(async (job) => ({
        ...(await readEconomy(fx, 'getJob', [job.id])),
        refundableAfter: await readEconomy(fx, 'refundableAfter', [job.id]),
      })),
    ),
    Promise.all(
      providers.flatMap((p) => tokens.map((token) => readEconomy(fx, 'reputationIn', [p.id, token]))),
    ),
    Promise.all(providers.map((p) => readEconomy(fx, 'reputationTokens', [p.id]))),
    Promise.all(providers.map((p) => readEconomy(fx, 'reputationOf', [p.id]))),
    Promise.all(
      parties.flatMap((p) => tokens.map((token) => readEconomy(fx, 'clientRecordIn', [p.address, token]))),
    ),
    Promise.all(tokens.map((token) => readEconomy(fx, 'minJobValue', [token]))),
  ])

  expect(balances).toEqual(
    tracked.flatMap((who) => tokens.map((token) => get(model.balances, key(who, token)))),
  )
  expect(fees).toEqual(tokens.map((token) => get(model.fees, token)))
  expect(owed).toEqual(parties.flatMap((p) => tokens.map((token) => get(model.owed, key(p.address, token)))))
  const isOpen = (job: ModelJob) => job.status === Status.Funded || job.status === Status.Submitted
  expect(jobs).toEqual(
    model.jobs.map((job) => ({
      client: job.client,
      providerId: Number(job.provider.id),
      deadline: Number(job.deadline),
      status: job.status,
      sameOwner: job.sameOwner,
      // A settled job's amount is cleared (it is in the events).
      token: isOpen(job) ? job.token : ETH,
      budget: isOpen(job) ? job.budget : 0n,
      evaluator: job.evaluator,
      refundableAfter:
        job.status === Status.Funded
          ? job.deadline
          : job.status === Status.Submitted
            ? job.deadline + grace
            : 0n,
    })),
  )
  expect(reputations).toEqual(
    providers.flatMap((p) => tokens.map((token) => ({ ...repOf(model, p.id, token) }))),
  )
  expect(listed).toEqual(providers.map((p) => model.reputationTokens.get(p.id) ?? []))
  expect(aggregates).toEqual(
    providers.map((p) => {
      const reps = tokens.map((token) => repOf(model, p.id, token))
      const sum = (field: 'completed' | 'rejected' | 'expired' | 'clients' | 'ratingSum') =>
        BigInt(reps.reduce((total, rep) => total + rep[field], 0))
      const completed = sum('completed')
      return [
        completed,
        sum('rejected'),
        sum('expired'),
        sum('clients'),
        completed === 0n ? 0n : (sum('ratingSum') * 100n) / completed,
      ]
    }),
  )

  expect(records).toEqual(
    parties.flatMap((p) => tokens.map((token) => ({ ...recordOf(model, p.address, token) }))),
  )
  expect(minimums).toEqual(tokens.map((token) => get(model.minJobValue, token)))

  // Solvency: the economy holds exactly the open budgets, the fees and the debts, token by token.
  for (const [i, token] of tokens.entries()) {
    const open = model.jobs
      .filter(
        (job) => job.token === token && (job.status === Status.Funded || job.status === Status.Submitted),
      )
      .reduce((total, job) => total + job.budget, 0n)
    const debts = parties.reduce((total, p) => total + get(model.owed, key(p.address, token)), 0n)
    const economyBalance = balances[tracked.indexOf(fx.economy) * tokens.length + i]
    expect(economyBalance).toBe(open + fees[i]! + debts)
  }
}

test('property: random job histories keep the economy solvent and match the model', {
  timeout: 600_000,
}, async () => {
  let steps = 0
  await fc.assert(
    // A few jobs first, so that most later actions have something to act on.
    fc.asyncProperty(
      refusesArb,
      fc.array(createArb, { minLength: 2, maxLength: 4 }),
      fc.array(actionArb, { minLength: 8, maxLength: 36, size: 'max' }),
      async (refusing, opening, rest) => {
        const actions: Action[] = [...opening, ...rest]
        const snapshot: Hex = await fx.testClient.snapshot()
        const trace: string[] = [`receiver ${refusing ? 'refuses' : 'accepts'} ETH`]
        try {
          if (refusing)
            await send(
              fx,
              controller,
              contractCall(receiver.address, reentrantReceiverAbi, 'setMode', [ReceiverMode.Refuse]),
            )
          const model = await snapshotModel()
          await checkInvariants(model)
          for (const action of actions) {
            await run(model, action, trace)
            await checkInvariants(model)
            steps += 1
          }
          await drain(model, trace)
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error)
          throw new Error(`${reason}\nafter steps:\n  ${trace.join('\n  ')}`, { cause: error })
        } finally {
          await fx.testClient.revert({ id: snapshot })
        }
      },
    ),
    { numRuns: runs },
  )
  expect(steps).toBeGreaterThanOrEqual(runs * 8)
  // The generator must keep reaching every successful path, deferred payouts included.
  const reached = [...outcomes.keys()].filter(
    (outcome) => outcome.endsWith(': ok') || outcome === 'PaymentDeferred',
  )
  expect(reached.sort()).toEqual([
    'PaymentDeferred',
    'completeJob: ok',
    'createJob: ok',
    'declineJob: ok',
    'refundExpired: ok',
    'rejectJob: ok',
    'setMinJobValue: ok',
    'submitJob: ok',
    'withdrawFees: ok',
    'withdrawOwed: ok',
  ])
})
