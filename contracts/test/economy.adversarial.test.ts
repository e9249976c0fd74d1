/**
 * Hostile tokens and recipients against the economy: re-entry during token transfers and ETH
 * receipts, tokens that fail transfers, wallets that refuse ETH or burn all gas. Each test checks that
 * the reentrancy guard (not some later check) stopped the attack and that no funds moved twice.
 */
import {
  type Address,
  decodeErrorResult,
  encodeFunctionData,
  getAddress,
  type Hex,
  type LocalAccount,
  parseEventLogs,
  type TransactionReceipt,
  zeroAddress,
  zeroHash,
} from 'viem'
import { beforeAll, describe, expect, test } from 'vitest'
import { agentEconomyAbi } from '../src/generated/AgentEconomy.ts'
import { maliciousTokenAbi, maliciousTokenBytecode } from '../src/generated/MaliciousToken.ts'
import { reentrantReceiverAbi } from '../src/generated/ReentrantReceiver.ts'
import {
  approve,
  balanceOf,
  type CreatedJob,
  type CreateJobOptions,
  contractCall,
  createJob,
  createJobCall,
  deploy,
  type EconomyFixture,
  ETH,
  economyCall,
  economyCalldata,
  economyEvents,
  expectRevert,
  gasCost,
  hashOf,
  isolateEachTest,
  jobIdOf,
  latestTimestamp,
  ReceiverMode,
  readEconomy,
  receiverAgent,
  registerAgent,
  Status,
  send,
  setReceiverMode,
  startEconomyFixture,
  viaReceiver,
} from './economy-fixture.ts'

/** `MaliciousToken.Behavior`. */
const Behavior = { Normal: 0, ReturnFalse: 1, Revert: 2, Reenter: 3 } as const
type BehaviorValue = (typeof Behavior)[keyof typeof Behavior]

let fx: EconomyFixture
let owner: LocalAccount
let client: LocalAccount
let providerOwner: LocalAccount
let providerWallet: LocalAccount
let evaluator: LocalAccount
let stranger: LocalAccount
let providerId: bigint
let token: Address

const supply = 10n ** 30n
const deliverable = hashOf('deliverable')

beforeAll(async () => {
  fx = await startEconomyFixture()
  ;[owner, client, providerOwner, providerWallet, evaluator, stranger] = fx.accounts
  providerId = await registerAgent(fx, providerOwner, providerWallet)
  token = await deploy(fx, owner, maliciousTokenAbi, maliciousTokenBytecode)
  await send(fx, owner, contractCall(token, maliciousTokenAbi, 'mint', [client.address, supply]))
  await approve(fx, client, token)
  await approve(fx, client, fx.usd)
})

isolateEachTest(() => fx)

const job = (jobId: bigint) => readEconomy(fx, 'getJob', [jobId])

async function behave(
  onTransfer: BehaviorValue,
  onTransferFrom: BehaviorValue,
  victim: Address = zeroAddress,
) {
  await send(
    fx,
    owner,
    contractCall(token, maliciousTokenAbi, 'setBehavior', [onTransfer, onTransferFrom, victim]),
  )
}

/** Makes the token call the economy with `data` during transfers (and transferFroms, when asked). */
async function reenterOn(data: Hex, { onTransferFrom = false } = {}) {
  await send(fx, owner, contractCall(token, maliciousTokenAbi, 'setReentry', [fx.economy, data]))
  await behave(
    onTransferFrom ? Behavior.Normal : Behavior.Reenter,
    onTransferFrom ? Behavior.Reenter : Behavior.Normal,
  )
}

/** The call-backs `at` made during the transaction, with the economy error each one met. */
function reentries(receipt: TransactionReceipt, at: Address) {
  const logs = receipt.logs.filter((log) => getAddress(log.address) === at)
  return parseEventLogs({ abi: maliciousTokenAbi, logs, eventName: 'ReentryAttempted' }).map(({ args }) => ({
    success: args.success,
    error: args.success
      ? undefined
      : decodeErrorResult({ abi: agentEconomyAbi, data: args.result }).errorName,
  }))
}

const blocked = [{ success: false, error: 'ReentrancyGuardReentrantCall' }]

async function submitted(options: Partial<CreateJobOptions> = {}): Promise<CreatedJob> {
  const created = await createJob(fx, client, { providerId, token, budget: 1_000_000n, ...options })
  await send(fx, providerWallet, economyCall(fx, 'submitJob', [created.jobId, deliverable]))
  return created
}

/** Every economy balance, fee and debt this suite can move, for before/after comparisons. */
async function ledger(extra: Address[] = []) {
  const holders = [fx.economy, client.address, providerWallet.address, evaluator.address, token, ...extra]
  const balances = await Promise.all(holders.map((who) => balanceOf(fx, token, who)))
  const owed = await Promise.all(holders.map((who) => readEconomy(fx, 'owed', [who, token])))
  return { balances, owed, fees: await readEconomy(fx, 'accruedFees', [token]) }
}

describe('malicious token re-entering the economy', () => {
  test('default: re-entering createJob from transferFrom is stopped; one job, one budget', async () => {
    const deadline = (await latestTimestamp(fx)) + 86_400n
    const inner = hashOf('inner')
    await reenterOn(economyCalldata('createJob', [providerId, zeroAddress, token, 5n, deadline, inner]), {
      onTransferFrom: true,
    })
    const outer = await createJob(fx, client, { providerId, token, budget: 7n, deadline, spec: 'outer' })
    expect(reentries(outer.receipt, token)).toEqual(blocked)
    expect((await job(outer.jobId)).status).toBe(Status.Funded)
    expect((await job(jobIdOf(token, providerId, inner))).status).toBe(Status.None)
    expect(await balanceOf(fx, token, fx.economy)).toBe(7n)
  })

  test('behavior: re-entering pay from transferFrom is stopped; paid once', async () => {
    await reenterOn(economyCalldata('pay', [providerId, token, 1n, zeroHash]), { onTransferFrom: true })
    const receipt = await send(fx, client, economyCall(fx, 'pay', [providerId, token, 3n, zeroHash]))
    expect(reentries(receipt, token)).toEqual(blocked)
    expect(await balanceOf(fx, token, providerWallet.address)).toBe(3n)
  })

  /** Each way a job settles, as the call that settles it and who makes it. */
  const settlements = {
    completeJob: {
      status: Status.Completed,
      settle: (id: bigint) => [client, economyCall(fx, 'completeJob', [id, 90, zeroHash])] as const,
    },
    rejectJob: {
      status: Status.Rejected,
      settle: (id: bigint) => [client, economyCall(fx, 'rejectJob', [id, zeroHash])] as const,
    },
    declineJob: {
      status: Status.Declined,
      settle: (id: bigint) => [providerWallet, economyCall(fx, 'declineJob', [id, zeroHash])] as const,
    },
    refundExpired: {
      status: Status.Expired,
      settle: (id: bigint) => [stranger, economyCall(fx, 'refundExpired', [id])] as const,
    },
  } as const

  /** Calls a token would make during a payout to be paid again, or to act on another job. */
  const attacks = {
    'refundExpired(same job)': (same: bigint) => economyCalldata('refundExpired', [same]),
    'completeJob(job it evaluates)': (_: bigint, evaluated: bigint) =>
      economyCalldata('completeJob', [evaluated, 100, zeroHash]),
    'rejectJob(job it evaluates)': (_: bigint, evaluated: bigint) =>
      economyCalldata('rejectJob', [evaluated, zeroHash]),
    'withdrawOwed(token)': () => economyCalldata('withdrawOwed', [token]),
  } as const

  describe.each(Object.keys(settlements) as (keyof typeof settlements)[])('during %s', (path) => {
    test.each(Object.keys(attacks) as (keyof typeof attacks)[])(
      'behavior: %s is stopped, funds move once',
      async (attack) => {
        const { status, settle } = settlements[path]
        const t = await latestTimestamp(fx)
        // The target job, and a second one the token itself evaluates (so it could settle it unguarded).
        const target = await createJob(fx, client, {
          providerId,
          token,
          budget: 1_000_000n,
          deadline: t + 1_000n,
          spec: 'target',
        })
        if (path === 'completeJob' || path === 'rejectJob')
          await send(fx, providerWallet, economyCall(fx, 'submitJob', [target.jobId, deliverable]))
        const evaluated = await submitted({ evaluator: token, budget: 2_000_000n, spec: 'evaluated' })
        if (path === 'refundExpired') await fx.testClient.increaseTime({ seconds: 2_000 })
        await reenterOn(attacks[attack](target.jobId, evaluated.jobId))

        const before = await ledger()
        const [caller, call] = settle(target.jobId)
        const receipt = await send(fx, caller, call)
        expect(reentries(receipt, token)).toEqual(blocked)
        const after = await ledger()

        expect((await job(target.jobId)).status).toBe(status)
        expect((await job(evaluated.jobId)).status).toBe(Status.Submitted)
        // Exactly one budget left the economy: to the provider minus the fee, or back to the client.
        const fee = path === 'completeJob' ? 10_000n : 0n
        const [economyBefore, clientBefore, providerBefore] = before.balances
        const [economyAfter, clientAfter, providerAfter] = after.balances
        expect(economyAfter).toBe(economyBefore! - 1_000_000n + fee)
        expect(after.fees).toBe(before.fees + fee)
        if (path === 'completeJob') {
          expect(providerAfter).toBe(providerBefore! + 990_000n)
          expect(clientAfter).toBe(clientBefore)
        } else {
          expect(clientAfter).toBe(clientBefore! + 1_000_000n)
          expect(providerAfter).toBe(providerBefore)
        }
        expect(after.owed).toEqual(before.owed)
      },
    )
  })

  test('behavior: the token could settle the job it evaluates when not re-entering', async () => {
    // Control for the matrix above: the calls are authorised, so only the guard stopped them.
    const evaluated = await submitted({ evaluator: token })
    await send(
      fx,
      stranger,
      contractCall(token, maliciousTokenAbi, 'execute', [
        fx.economy,
        economyCalldata('completeJob', [evaluated.jobId, 100, zeroHash]),
      ]),
    )
    expect((await job(evaluated.jobId)).status).toBe(Status.Completed)
  })

  test('behavior: a token owed a refund cannot withdraw it twice by re-entering', async () => {
    // The token hires the provider with its own balance, and its refund is deferred.
    await send(fx, owner, contractCall(token, maliciousTokenAbi, 'mint', [token, 500n]))
    const asToken = (target: Address, data: Hex) =>
      contractCall(token, maliciousTokenAbi, 'execute', [target, data])
    await send(
      fx,
      stranger,
      asToken(
        token,
        encodeFunctionData({ abi: maliciousTokenAbi, functionName: 'approve', args: [fx.economy, 500n] }),
      ),
    )
    const deadline = (await latestTimestamp(fx)) + 86_400n
    const specHash = hashOf('by the token')
    await send(
      fx,
      stranger,
      asToken(
        fx.economy,
        economyCalldata('createJob', [providerId, zeroAddress, token, 500n, deadline, specHash]),
      ),
    )
    const jobId = jobIdOf(token, providerId, specHash)
    await behave(Behavior.ReturnFalse, Behavior.Normal, token)
    await send(fx, providerWallet, economyCall(fx, 'declineJob', [jobId, zeroHash]))
    expect(await readEconomy(fx, 'owed', [token, token])).toBe(500n)

    await send(
      fx,
      owner,
      contractCall(token, maliciousTokenAbi, 'setReentry', [
        fx.economy,
        economyCalldata('withdrawOwed', [token]),
      ]),
    )
    await behave(Behavior.Reenter, Behavior.Normal, token)
    const receipt = await send(fx, stranger, asToken(fx.economy, economyCalldata('withdrawOwed', [token])))
    expect(reentries(receipt, token)).toEqual(blocked)
    expect(economyEvents(fx, receipt)).toEqual([
      { eventName: 'OwedWithdrawn', args: { recipient: token, token, amount: 500n } },
    ])
    expect(await balanceOf(fx, token, token)).toBe(500n)
    expect(await balanceOf(fx, token, fx.economy)).toBe(0n)
    expect(await readEconomy(fx, 'owed', [token, token])).toBe(0n)
  })
})

describe('token failing transfers', () => {
  test('default: a payout the token refuses is deferred; jobs in other tokens are unaffected', async () => {
    const bad = await submitted({ spec: 'bad' })
    const inUsd = await submitted({ token: fx.usd, spec: 'usd' })
    const inEth = await submitted({ token: ETH, spec: 'eth' })
    await behave(Behavior.ReturnFalse, Behavior.ReturnFalse)

    const receipt = await send(fx, client, economyCall(fx, 'completeJob', [bad.jobId, 40, zeroHash]))
    expect(economyEvents(fx, receipt)).toEqual([
      expect.objectContaining({ eventName: 'JobCompleted' }),
      { eventName: 'PaymentDeferred', args: { recipient: providerWallet.address, token, amount: 990_000n } },
    ])
    expect((await job(bad.jobId)).status).toBe(Status.Completed)
    expect(await readEconomy(fx, 'reputationIn', [providerId, token])).toMatchObject({
      completed: 1,
      ratingSum: 40,
    })
    expect(await readEconomy(fx, 'owed', [providerWallet.address, token])).toBe(990_000n)
    expect(await readEconomy(fx, 'accruedFees', [token])).toBe(10_000n)
    expect(await balanceOf(fx, token, fx.economy)).toBe(1_000_000n)

    const usdBefore = await balanceOf(fx, fx.usd, providerWallet.address)
    const ethBefore = await balanceOf(fx, ETH, providerWallet.address)
    await send(fx, client, economyCall(fx, 'completeJob', [inUsd.jobId, 90, zeroHash]))
    await send(fx, client, economyCall(fx, 'completeJob', [inEth.jobId, 90, zeroHash]))
    expect(await balanceOf(fx, fx.usd, providerWallet.address)).toBe(usdBefore + 990_000n)
    expect(await balanceOf(fx, ETH, providerWallet.address)).toBe(ethBefore + 990_000n)

    // Fees: the broken token's cannot leave yet, the others can.
    await expectRevert(
      fx,
      owner,
      economyCall(fx, 'withdrawFees', [token, owner.address]),
      'SafeERC20FailedOperation',
      [token],
    )
    await send(fx, owner, economyCall(fx, 'withdrawFees', [fx.usd, owner.address]))
    await send(fx, owner, economyCall(fx, 'withdrawFees', [ETH, owner.address]))

    // Withdrawing the debt fails while the token is broken, keeps it, and succeeds once it heals.
    const withdraw = economyCall(fx, 'withdrawOwed', [token])
    await expectRevert(fx, providerWallet, withdraw, 'SafeERC20FailedOperation', [token])
    await behave(Behavior.Normal, Behavior.Normal)
    await send(fx, providerWallet, withdraw)
    await send(fx, owner, economyCall(fx, 'withdrawFees', [token, owner.address]))
    expect(await balanceOf(fx, token, providerWallet.address)).toBe(990_000n)
    expect(await balanceOf(fx, token, fx.economy)).toBe(0n)
  })

  test('behavior: refunds the token reverts on are deferred to the client', async () => {
    const t = await latestTimestamp(fx)
    const rejected = await submitted({ spec: 'rejected', budget: 11n })
    const expired = await createJob(fx, client, {
      providerId,
      token,
      budget: 13n,
      deadline: t + 100n,
      spec: 'expired',
    })
    const declined = await createJob(fx, client, { providerId, token, budget: 17n, spec: 'declined' })
    await behave(Behavior.Revert, Behavior.Normal, client.address)
    await send(fx, client, economyCall(fx, 'rejectJob', [rejected.jobId, zeroHash]))
    await send(fx, providerWallet, economyCall(fx, 'declineJob', [declined.jobId, zeroHash]))
    await fx.testClient.increaseTime({ seconds: 200 })
    const receipt = await send(fx, stranger, economyCall(fx, 'refundExpired', [expired.jobId]))
    expect(economyEvents(fx, receipt).at(-1)).toEqual({
      eventName: 'PaymentDeferred',
      args: { recipient: client.address, token, amount: 13n },
    })
    expect(await readEconomy(fx, 'owed', [client.address, token])).toBe(41n)
    // The rejection and the lapse count against the provider; the decline does not.
    expect(await readEconomy(fx, 'reputationOf', [providerId])).toEqual([0n, 1n, 1n, 0n, 0n])
    await behave(Behavior.Normal, Behavior.Normal)
    const clientBefore = await balanceOf(fx, token, client.address)
    await send(fx, client, economyCall(fx, 'withdrawOwed', [token]))
    expect(await balanceOf(fx, token, client.address)).toBe(clientBefore + 41n)
    expect(await balanceOf(fx, token, fx.economy)).toBe(0n)
  })

  test('behavior: a token failing transferFrom cannot fund a job or a payment', async () => {
    const { call, specHash } = await createJobCall(fx, { providerId, token, budget: 9n })
    const pay = economyCall(fx, 'pay', [providerId, token, 9n, zeroHash])
    await behave(Behavior.Normal, Behavior.ReturnFalse)
    await expectRevert(fx, client, call, 'SafeERC20FailedOperation', [token])
    await expectRevert(fx, client, pay, 'SafeERC20FailedOperation', [token])
    await behave(Behavior.Normal, Behavior.Revert)
    await expectRevert(fx, client, call, 'MaliciousTokenRefused', [fx.economy, 9n])
    await expectRevert(fx, client, pay, 'MaliciousTokenRefused', [providerWallet.address, 9n])
    expect((await job(jobIdOf(client.address, providerId, specHash))).status).toBe(Status.None)
  })
})

describe('reentrant ETH receiver', () => {
  /** A receiver contract acting as a client: it funds an ETH job for the provider. */
  async function receiverClient(budget: bigint, options: Partial<CreateJobOptions> = {}) {
    const { receiver } = await receiverAgent(fx, stranger)
    const { call, specHash, deadline } = await createJobCall(fx, { providerId, budget, ...options })
    await send(fx, stranger, viaReceiver(receiver, call))
    return { receiver, jobId: jobIdOf(receiver, providerId, specHash), deadline }
  }

  const receiverRead = (receiver: Address, functionName: 'receivedCount' | 'receivedTotal') =>
    fx.publicClient.readContract({ address: receiver, abi: reentrantReceiverAbi, functionName })

  test('default: a client re-entering refundExpired on its refund is refunded once', async () => {
    const { receiver, jobId, deadline } = await receiverClient(10n ** 17n)
    await setReceiverMode(fx, stranger, receiver, ReceiverMode.Reenter, {
      target: fx.economy,
      data: economyCalldata('refundExpired', [jobId]),
    })
    await fx.testClient.setNextBlockTimestamp({ timestamp: deadline + 1n })
    // The refund carries only the ETH stipend: too little to re-enter and keep books, so it is owed.
    const receipt = await send(fx, evaluator, economyCall(fx, 'refundExpired', [jobId]))
    expect(reentries(receipt, receiver)).toEqual([])
    expect(economyEvents(fx, receipt).at(-1)).toEqual({
      eventName: 'PaymentDeferred',
      args: { recipient: receiver, token: ETH, amount: 10n ** 17n },
    })
    // Withdrawing carries all the gas: the re-entry is made, and the guard stops it.
    const withdrawn = await send(fx, stranger, viaReceiver(receiver, economyCall(fx, 'withdrawOwed', [ETH])))
    expect(reentries(withdrawn, receiver)).toEqual(blocked)
    expect(await receiverRead(receiver, 'receivedCount')).toBe(1n)
    expect(await balanceOf(fx, ETH, receiver)).toBe(10n ** 17n)
    expect(await balanceOf(fx, ETH, fx.economy)).toBe(0n)
    expect(await readEconomy(fx, 'owed', [receiver, ETH])).toBe(0n)
  })

  test('behavior: a client failing on re-entry is owed its refund and cannot withdraw it twice', async () => {
    const { receiver, jobId } = await receiverClient(10n ** 15n)
    await send(fx, providerWallet, economyCall(fx, 'submitJob', [jobId, deliverable]))
    await setReceiverMode(fx, stranger, receiver, ReceiverMode.ReenterStrict, {
      target: fx.economy,
      data: economyCalldata('withdrawOwed', [ETH]),
    })
    const rejected = await send(
      fx,
      stranger,
      viaReceiver(receiver, economyCall(fx, 'rejectJob', [jobId, zeroHash])),
    )
    expect(economyEvents(fx, rejected).at(-1)).toEqual({
      eventName: 'PaymentDeferred',
      args: { recipient: receiver, token: ETH, amount: 10n ** 15n },
    })
    expect((await job(jobId)).status).toBe(Status.Rejected)

    // Strict: the blocked re-entry fails the receipt, so the withdrawal fails and the debt stays.
    const withdraw = viaReceiver(receiver, economyCall(fx, 'withdrawOwed', [ETH]))
    await expectRevert(fx, stranger, withdraw, 'EconomyTransferFailed', [ETH, receiver, 10n ** 15n])
    expect(await readEconomy(fx, 'owed', [receiver, ETH])).toBe(10n ** 15n)

    // Lenient: the re-entry is still blocked, and the debt is paid once.
    await setReceiverMode(fx, stranger, receiver, ReceiverMode.Reenter)
    const receipt = await send(fx, stranger, withdraw)
    expect(reentries(receipt, receiver)).toEqual(blocked)
    expect(economyEvents(fx, receipt)).toEqual([
      { eventName: 'OwedWithdrawn', args: { recipient: receiver, token: ETH, amount: 10n ** 15n } },
    ])
    expect(await balanceOf(fx, ETH, receiver)).toBe(10n ** 15n)
    expect(await receiverRead(receiver, 'receivedCount')).toBe(1n)
    expect(await balanceOf(fx, ETH, fx.economy)).toBe(0n)
    await expectRevert(fx, stranger, withdraw, 'EconomyNothingOwed', [receiver, ETH])
  })

  test('behavior: a provider re-entering completeJob on its payout is paid once', async () => {
    const { receiver, agentId } = await receiverAgent(fx, stranger)
    const created = await createJob(fx, client, {
      providerId: agentId,
      budget: 10n ** 18n,
      evaluator: evaluator.address,
    })
    await send(
      fx,
      stranger,
      viaReceiver(receiver, economyCall(fx, 'submitJob', [created.jobId, deliverable])),
    )
    // A second job it could try to settle for itself.
    const other = await createJob(fx, client, { providerId: agentId, budget: 10n ** 18n, spec: 'other' })
    await setReceiverMode(fx, stranger, receiver, ReceiverMode.Reenter, {
      target: fx.economy,
      data: economyCalldata('refundExpired', [other.jobId]),
    })
    const receipt = await send(fx, evaluator, economyCall(fx, 'completeJob', [created.jobId, 99, zeroHash]))
    // Within the stipend it cannot re-enter: the payout is owed; withdrawing it, the guard stops it.
    expect(reentries(receipt, receiver)).toEqual([])
    expect(await readEconomy(fx, 'owed', [receiver, ETH])).toBe(99n * 10n ** 16n)
    const withdrawn = await send(fx, stranger, viaReceiver(receiver, economyCall(fx, 'withdrawOwed', [ETH])))
    expect(reentries(withdrawn, receiver)).toEqual(blocked)
    expect(await balanceOf(fx, ETH, receiver)).toBe(99n * 10n ** 16n)
    expect(await receiverRead(receiver, 'receivedCount')).toBe(1n)
    expect(await balanceOf(fx, ETH, fx.economy)).toBe(10n ** 16n + 10n ** 18n)
    expect((await job(other.jobId)).status).toBe(Status.Funded)
  })

  test('behavior: a payee re-entering pay is owed the payment, and re-enters in vain when withdrawing', async () => {
    const { receiver, agentId } = await receiverAgent(fx, stranger)
    await setReceiverMode(fx, stranger, receiver, ReceiverMode.ReenterStrict, {
      target: fx.economy,
      data: economyCalldata('pay', [agentId, ETH, 0n, zeroHash]),
    })
    const paid = await send(fx, client, economyCall(fx, 'pay', [agentId, ETH, 5n, zeroHash], 5n))
    expect(reentries(paid, receiver)).toEqual([])
    expect(economyEvents(fx, paid).map((event) => event.eventName)).toEqual(['Paid', 'PaymentDeferred'])
    const withdraw = viaReceiver(receiver, economyCall(fx, 'withdrawOwed', [ETH]))
    // Strict: the blocked re-entry fails the receipt, so the withdrawal fails and the debt stays.
    await expectRevert(fx, stranger, withdraw, 'EconomyTransferFailed', [ETH, receiver, 5n])
    await setReceiverMode(fx, stranger, receiver, ReceiverMode.Reenter)
    const receipt = await send(fx, stranger, withdraw)
    expect(reentries(receipt, receiver)).toEqual(blocked)
    expect(await balanceOf(fx, ETH, receiver)).toBe(5n)
    expect(await readEconomy(fx, 'owed', [receiver, ETH])).toBe(0n)
  })

  test('behavior: a provider wallet refusing ETH is owed its payout and withdraws it later', async () => {
    const { receiver, agentId } = await receiverAgent(fx, stranger)
    const created = await createJob(fx, client, { providerId: agentId, budget: 2_000n })
    await send(
      fx,
      stranger,
      viaReceiver(receiver, economyCall(fx, 'submitJob', [created.jobId, deliverable])),
    )
    await setReceiverMode(fx, stranger, receiver, ReceiverMode.Refuse)
    const receipt = await send(fx, client, economyCall(fx, 'completeJob', [created.jobId, 75, zeroHash]))
    expect(economyEvents(fx, receipt)).toEqual([
      expect.objectContaining({
        eventName: 'JobCompleted',
        args: expect.objectContaining({ payee: receiver }),
      }),
      { eventName: 'PaymentDeferred', args: { recipient: receiver, token: ETH, amount: 1_980n } },
    ])
    await setReceiverMode(fx, stranger, receiver, ReceiverMode.Accept)
    await send(fx, stranger, viaReceiver(receiver, economyCall(fx, 'withdrawOwed', [ETH])))
    expect(await balanceOf(fx, ETH, receiver)).toBe(1_980n)
    expect(await balanceOf(fx, ETH, fx.economy)).toBe(20n)
  })

  test('behavior: a payee burning all gas cannot block the settlement', async () => {
    const { receiver, agentId } = await receiverAgent(fx, stranger)
    const created = await createJob(fx, client, { providerId: agentId, budget: 2_000n })
    await send(
      fx,
      stranger,
      viaReceiver(receiver, economyCall(fx, 'submitJob', [created.jobId, deliverable])),
    )
    await setReceiverMode(fx, stranger, receiver, ReceiverMode.BurnGas)
    const before = await balanceOf(fx, ETH, client.address)
    const receipt = await send(fx, client, economyCall(fx, 'completeJob', [created.jobId, 75, zeroHash]))
    expect(economyEvents(fx, receipt).at(-1)).toEqual({
      eventName: 'PaymentDeferred',
      args: { recipient: receiver, token: ETH, amount: 1_980n },
    })
    expect((await job(created.jobId)).status).toBe(Status.Completed)
    // The burn costs the caller gas (bounded by what it chose to send), never the settlement.
    expect(await balanceOf(fx, ETH, client.address)).toBe(before - gasCost(receipt))
    expect(receipt.gasUsed).toBeLessThan(3_000_000n)
  })
})
