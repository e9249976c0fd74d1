import {
  type Address,
  BaseError,
  decodeErrorResult,
  encodeDeployData,
  type Hex,
  type LocalAccount,
  zeroAddress,
  zeroHash,
} from 'viem'
import { beforeAll, describe, expect, test } from 'vitest'
import { agentEconomyAbi, agentEconomyBytecode } from '../src/generated/AgentEconomy.ts'
import { agentIdentityRegistryAbi } from '../src/generated/AgentIdentityRegistry.ts'
import { maliciousTokenAbi, maliciousTokenBytecode } from '../src/generated/MaliciousToken.ts'
import { testERC1271WalletAbi, testERC1271WalletBytecode } from '../src/generated/TestERC1271Wallet.ts'
import { type AccessRule, testAccessControl } from './access-control.ts'
import {
  approve,
  balanceOf,
  bindWallet,
  type Call,
  type CreatedJob,
  type CreateJobOptions,
  contractCall,
  createJob,
  createJobCall,
  deploy,
  type EconomyFixture,
  ETH,
  economyCall,
  economyEvents,
  expectRevert,
  gasCost,
  hashOf,
  isolateEachTest,
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
  setNextTimestamp,
  setReceiverMode,
  startEconomyFixture,
  uint40Max,
  uint48Max,
  uint88Max,
  uint96Max,
  viaReceiver,
} from './economy-fixture.ts'

let fx: EconomyFixture
let owner: LocalAccount
let client: LocalAccount
let providerOwner: LocalAccount
let providerWallet: LocalAccount
let evaluator: LocalAccount
let stranger: LocalAccount
let plainOwner: LocalAccount
/** An agent with a bound wallet: its payment address is `providerWallet`. */
let providerId: bigint
/** An agent without a wallet: its payment address is its owner, `plainOwner`. */
let plainId: bigint

const unknownAgent = 999_999n
const memo = hashOf('invoice-1')
const deliverable = hashOf('deliverable')
const feedback = hashOf('feedback')
const reason = hashOf('reason')

beforeAll(async () => {
  fx = await startEconomyFixture()
  ;[owner, client, providerOwner, providerWallet, evaluator, stranger, plainOwner] = fx.accounts
  providerId = await registerAgent(fx, providerOwner, providerWallet)
  plainId = await registerAgent(fx, plainOwner)
  for (const account of [client, evaluator, stranger, providerWallet, plainOwner])
    await approve(fx, account, fx.usd)
})

isolateEachTest(() => fx)

const job = (jobId: bigint) => readEconomy(fx, 'getJob', [jobId])
const reputation = (agentId: bigint, token: Address) => readEconomy(fx, 'reputationIn', [agentId, token])
const noReputation = { completed: 0, rejected: 0, expired: 0, clients: 0, ratingSum: 0, earned: 0n }
const clientRecord = (who: Address, token: Address) => readEconomy(fx, 'clientRecordIn', [who, token])
const noRecord = { completed: 0, rejected: 0, expired: 0, lastProviderId: 0, paid: 0n }

/** Creates a job from `client` for the bound-wallet provider, with `options` over the defaults. */
function hire(options: Partial<CreateJobOptions> = {}, from: LocalAccount = client): Promise<CreatedJob> {
  return createJob(fx, from, { providerId, ...options })
}

async function submitted(options: Partial<CreateJobOptions> = {}): Promise<CreatedJob> {
  const created = await hire(options)
  await send(fx, providerWallet, economyCall(fx, 'submitJob', [created.jobId, deliverable]))
  return created
}

async function deployToken(): Promise<Address> {
  return deploy(fx, owner, maliciousTokenAbi, maliciousTokenBytecode)
}

async function mint(token: Address, to: Address, amount: bigint): Promise<void> {
  await send(fx, owner, contractCall(token, maliciousTokenAbi, 'mint', [to, amount]))
}

/** A contract wallet with no `receive`: it refuses ETH. Bound to a fresh agent. */
async function agentWithEthRefusingWallet(): Promise<{ agentId: bigint; wallet: Address }> {
  const wallet = await deploy(fx, owner, testERC1271WalletAbi, testERC1271WalletBytecode, [stranger.address])
  const agentId = await registerAgent(fx, providerOwner)
  await bindWallet(fx, providerOwner, agentId, wallet, stranger)
  return { agentId, wallet }
}

/** Completes an ETH and a dUSD job, so the economy holds fees in both. */
async function collectFees(): Promise<{ eth: bigint; usd: bigint }> {
  const inEth = await submitted({ budget: 10n ** 18n, spec: 'eth' })
  const inUsd = await submitted({ token: fx.usd, budget: 3_000_000n, spec: 'usd' })
  await send(fx, client, economyCall(fx, 'completeJob', [inEth.jobId, 50, feedback]))
  await send(fx, client, economyCall(fx, 'completeJob', [inUsd.jobId, 50, feedback]))
  return { eth: 10n ** 16n, usd: 30_000n }
}

/** The custom error a deployment of the economy with `args` reverts with. */
async function deploymentError(args: readonly unknown[]) {
  const data = encodeDeployData({ abi: agentEconomyAbi, bytecode: agentEconomyBytecode, args } as never)
  const error = await fx.publicClient.call({ account: owner, data }).then(
    () => undefined,
    (error: unknown) => error,
  )
  expect(error).toBeInstanceOf(BaseError)
  const raw = (error as BaseError).walk(
    (cause) => typeof (cause as { data?: unknown }).data === 'string',
  ) as unknown as { data: Hex }
  const { errorName, args: errorArgs } = decodeErrorResult({ abi: agentEconomyAbi, data: raw.data })
  return { errorName, args: errorArgs }
}

describe('constructor', () => {
  test('default: settings and constants', async () => {
    expect(await readEconomy(fx, 'identity', [])).toBe(fx.registry)
    expect(await readEconomy(fx, 'submissionGrace', [])).toBe(fx.grace)
    expect(await readEconomy(fx, 'feeBps', [])).toBe(Number(fx.feeBps))
    expect(await readEconomy(fx, 'owner', [])).toBe(owner.address)
    expect(await readEconomy(fx, 'MAX_FEE_BPS', [])).toBe(500)
    expect(await readEconomy(fx, 'MAX_RATING', [])).toBe(100)
    expect(await readEconomy(fx, 'MAX_JOB_DURATION', [])).toBe(maxJobDuration)
  })

  test('behavior: a fee above the cap is refused, the cap itself accepted', async () => {
    expect(await deploymentError([fx.registry, 60n, 501, owner.address])).toEqual({
      errorName: 'EconomyFeeTooHigh',
      args: [501, 500],
    })
    const capped = await deploy(fx, owner, agentEconomyAbi, agentEconomyBytecode, [
      fx.registry,
      60n,
      500,
      stranger.address,
    ])
    const read = { address: capped, abi: agentEconomyAbi } as const
    expect(await fx.publicClient.readContract({ ...read, functionName: 'feeBps' })).toBe(500)
    expect(await fx.publicClient.readContract({ ...read, functionName: 'owner' })).toBe(stranger.address)
  })

  test('behavior: a zero owner is refused', async () => {
    expect(await deploymentError([fx.registry, 60n, 100, zeroAddress])).toEqual({
      errorName: 'OwnableInvalidOwner',
      args: [zeroAddress],
    })
  })
})

describe('pay', () => {
  test('default: ETH to the bound wallet, with memo', async () => {
    const before = await balanceOf(fx, ETH, providerWallet.address)
    const receipt = await send(fx, client, economyCall(fx, 'pay', [providerId, ETH, 12_345n, memo], 12_345n))
    expect(economyEvents(fx, receipt)).toEqual([
      {
        eventName: 'Paid',
        args: {
          toAgentId: providerId,
          from: client.address,
          token: ETH,
          to: providerWallet.address,
          amount: 12_345n,
          memo,
        },
      },
    ])
    expect(await balanceOf(fx, ETH, providerWallet.address)).toBe(before + 12_345n)
    expect(await balanceOf(fx, ETH, fx.economy)).toBe(0n)
  })

  test('behavior: ERC-20 pulled from the payer straight to the payee', async () => {
    const payer = await balanceOf(fx, fx.usd, client.address)
    const payee = await balanceOf(fx, fx.usd, providerWallet.address)
    const receipt = await send(fx, client, economyCall(fx, 'pay', [providerId, fx.usd, 5_000_000n, zeroHash]))
    expect(economyEvents(fx, receipt)).toEqual([
      {
        eventName: 'Paid',
        args: {
          toAgentId: providerId,
          from: client.address,
          token: fx.usd,
          to: providerWallet.address,
          amount: 5_000_000n,
          memo: zeroHash,
        },
      },
    ])
    expect(await balanceOf(fx, fx.usd, client.address)).toBe(payer - 5_000_000n)
    expect(await balanceOf(fx, fx.usd, providerWallet.address)).toBe(payee + 5_000_000n)
    expect(await balanceOf(fx, fx.usd, fx.economy)).toBe(0n)
  })

  test('behavior: an agent without a wallet is paid at its owner', async () => {
    const before = await balanceOf(fx, ETH, plainOwner.address)
    const receipt = await send(fx, client, economyCall(fx, 'pay', [plainId, ETH, 7n, memo], 7n))
    expect(economyEvents(fx, receipt)[0]?.args).toMatchObject({ to: plainOwner.address, amount: 7n })
    expect(await balanceOf(fx, ETH, plainOwner.address)).toBe(before + 7n)
  })

  test('behavior: zero amount refused', async () => {
    await expectRevert(fx, client, economyCall(fx, 'pay', [providerId, ETH, 0n, memo]), 'EconomyZeroAmount')
    await expectRevert(
      fx,
      client,
      economyCall(fx, 'pay', [providerId, fx.usd, 0n, memo]),
      'EconomyZeroAmount',
    )
  })

  test('behavior: ETH value must equal the amount, both ways', async () => {
    await expectRevert(
      fx,
      client,
      economyCall(fx, 'pay', [providerId, ETH, 10n, memo], 9n),
      'EconomyValueMismatch',
      [10n, 9n],
    )
    await expectRevert(
      fx,
      client,
      economyCall(fx, 'pay', [providerId, ETH, 10n, memo], 11n),
      'EconomyValueMismatch',
      [10n, 11n],
    )
  })

  test('behavior: ETH sent with an ERC-20 payment refused', async () => {
    await expectRevert(
      fx,
      client,
      economyCall(fx, 'pay', [providerId, fx.usd, 10n, memo], 1n),
      'EconomyValueMismatch',
      [0n, 1n],
    )
  })

  test('behavior: unknown agent refused by the registry', async () => {
    await expectRevert(
      fx,
      client,
      economyCall(fx, 'pay', [unknownAgent, ETH, 1n, memo], 1n),
      'IdentityUnknownAgent',
      [unknownAgent],
    )
  })

  test('behavior: a wallet refusing ETH is paid all the same: the payment is owed to it', async () => {
    const { agentId, wallet } = await agentWithEthRefusingWallet()
    const receipt = await send(fx, client, economyCall(fx, 'pay', [agentId, ETH, 3n, memo], 3n))
    expect(economyEvents(fx, receipt)).toEqual([
      {
        eventName: 'Paid',
        args: { toAgentId: agentId, from: client.address, token: ETH, to: wallet, amount: 3n, memo },
      },
      { eventName: 'PaymentDeferred', args: { recipient: wallet, token: ETH, amount: 3n } },
    ])
    expect(await readEconomy(fx, 'owed', [wallet, ETH])).toBe(3n)
    expect(await balanceOf(fx, ETH, fx.economy)).toBe(3n)
    // The same wallet takes tokens.
    await send(fx, client, economyCall(fx, 'pay', [agentId, fx.usd, 3n, memo]))
    expect(await balanceOf(fx, fx.usd, wallet)).toBe(3n)
  })

  test('behavior: ERC-20 without allowance refused by the token', async () => {
    await expectRevert(
      fx,
      owner,
      economyCall(fx, 'pay', [providerId, fx.usd, 1n, memo]),
      'ERC20InsufficientAllowance',
      [fx.economy, 0n, 1n],
    )
  })
})

describe('createJob', () => {
  test('default: ETH job escrowed, id from client, provider and spec', async () => {
    const economyBefore = await balanceOf(fx, ETH, fx.economy)
    const clientBefore = await balanceOf(fx, ETH, client.address)
    const { call, deadline, specHash } = await createJobCall(fx, {
      providerId,
      budget: 10n ** 15n,
      spec: 'default',
    })
    const expectedId = jobIdOf(client.address, providerId, specHash)
    const { result } = await fx.publicClient.simulateContract({ ...call, account: client } as never)
    expect(result).toBe(expectedId)
    expect(await readEconomy(fx, 'jobIdOf', [client.address, providerId, specHash])).toBe(expectedId)

    const receipt = await send(fx, client, call)
    expect(economyEvents(fx, receipt)).toEqual([
      {
        eventName: 'JobCreated',
        args: {
          jobId: expectedId,
          client: client.address,
          providerId,
          evaluator: zeroAddress,
          token: ETH,
          budget: 10n ** 15n,
          deadline,
          specHash,
        },
      },
    ])
    expect(await job(expectedId)).toEqual({
      client: client.address,
      providerId: Number(providerId),
      deadline: Number(deadline),
      status: Status.Funded,
      sameOwner: false,
      token: ETH,
      budget: 10n ** 15n,
      evaluator: zeroAddress,
    })
    expect(await balanceOf(fx, ETH, fx.economy)).toBe(economyBefore + 10n ** 15n)
    expect(await balanceOf(fx, ETH, client.address)).toBe(clientBefore - 10n ** 15n - gasCost(receipt))
    expect(await readEconomy(fx, 'refundableAfter', [expectedId])).toBe(deadline)
  })

  test('behavior: ERC-20 job with an evaluator pulls the budget', async () => {
    const before = await balanceOf(fx, fx.usd, client.address)
    const created = await hire({ token: fx.usd, budget: 2_500_000n, evaluator: evaluator.address })
    expect(economyEvents(fx, created.receipt)[0]?.args).toMatchObject({
      evaluator: evaluator.address,
      token: fx.usd,
      budget: 2_500_000n,
    })
    expect(await job(created.jobId)).toMatchObject({
      evaluator: evaluator.address,
      token: fx.usd,
      budget: 2_500_000n,
      status: Status.Funded,
    })
    expect(await balanceOf(fx, fx.usd, client.address)).toBe(before - 2_500_000n)
    expect(await balanceOf(fx, fx.usd, fx.economy)).toBe(2_500_000n)
  })

  test('behavior: zero budget refused', async () => {
    const { call } = await createJobCall(fx, { providerId, budget: 0n })
    await expectRevert(fx, client, call, 'EconomyZeroAmount')
  })

  test('behavior: budget above uint96 refused, uint96 max accepted', async () => {
    const tooLarge = await createJobCall(fx, { providerId, token: fx.usd, budget: uint96Max + 1n })
    await expectRevert(fx, client, tooLarge.call, 'EconomyAmountTooLarge', [uint96Max + 1n])
    const token = await deployToken()
    await mint(token, client.address, uint96Max)
    await approve(fx, client, token)
    const created = await hire({ token, budget: uint96Max })
    expect((await job(created.jobId)).budget).toBe(uint96Max)
  })

  test('behavior: provider id above uint40 refused', async () => {
    const { call } = await createJobCall(fx, { providerId: uint40Max + 1n })
    await expectRevert(fx, client, call, 'EconomyAgentIdTooLarge', [uint40Max + 1n])
  })

  test('behavior: deadline must be in the future and within MAX_JOB_DURATION', async () => {
    const t = (await latestTimestamp(fx)) + 100n
    await setNextTimestamp(fx, t)
    for (const deadline of [t - 1n, t, t + maxJobDuration + 1n]) {
      const { call } = await createJobCall(fx, { providerId, deadline })
      await expectRevert(fx, client, call, 'EconomyInvalidDeadline', [deadline])
    }
    const earliest = await hire({ deadline: t + 1n, spec: 'earliest' })
    expect((await job(earliest.jobId)).deadline).toBe(Number(t + 1n))
    await setNextTimestamp(fx, t + 10n)
    const latest = await hire({ deadline: t + 10n + maxJobDuration, spec: 'latest' })
    expect((await job(latest.jobId)).deadline).toBe(Number(t + 10n + maxJobDuration))
  })

  test('behavior: hiring yourself refused (bound wallet or owner as payment address)', async () => {
    const byWallet = await createJobCall(fx, { providerId })
    await expectRevert(fx, providerWallet, byWallet.call, 'EconomySelfDealing', [
      providerId,
      providerWallet.address,
    ])
    const byOwner = await createJobCall(fx, { providerId: plainId })
    await expectRevert(fx, plainOwner, byOwner.call, 'EconomySelfDealing', [plainId, plainOwner.address])
  })

  test('behavior: the provider cannot be the evaluator', async () => {
    const { call } = await createJobCall(fx, { providerId, evaluator: providerWallet.address })
    await expectRevert(fx, client, call, 'EconomyInvalidEvaluator', [providerWallet.address])
  })

  test('behavior: unknown provider refused by the registry', async () => {
    const { call } = await createJobCall(fx, { providerId: unknownAgent })
    await expectRevert(fx, client, call, 'IdentityUnknownAgent', [unknownAgent])
  })

  test('behavior: value must match, both ways and for ERC-20', async () => {
    const short = await createJobCall(fx, { providerId, budget: 100n, value: 99n })
    await expectRevert(fx, client, short.call, 'EconomyValueMismatch', [100n, 99n])
    const over = await createJobCall(fx, { providerId, budget: 100n, value: 101n })
    await expectRevert(fx, client, over.call, 'EconomyValueMismatch', [100n, 101n])
    const erc20 = await createJobCall(fx, { providerId, token: fx.usd, budget: 100n, value: 1n })
    await expectRevert(fx, client, erc20.call, 'EconomyValueMismatch', [0n, 1n])
  })

  test('behavior: the same spec cannot fund a second job, even once the first settled', async () => {
    const first = await hire({ spec: 'once' })
    const again = await createJobCall(fx, { providerId, spec: 'once' })
    await expectRevert(fx, client, again.call, 'EconomyJobExists', [first.jobId])
    await send(fx, providerWallet, economyCall(fx, 'declineJob', [first.jobId, reason]))
    await expectRevert(fx, client, again.call, 'EconomyJobExists', [first.jobId])
  })

  test('behavior: the same spec with another client or provider is another job', async () => {
    const first = await hire({ spec: 'shared' })
    const otherClient = await hire({ spec: 'shared' }, stranger)
    const otherProvider = await createJob(fx, client, { providerId: plainId, spec: 'shared' })
    expect(new Set([first.jobId, otherClient.jobId, otherProvider.jobId]).size).toBe(3)
  })

  test('behavior: a token address without code is refused (no job funded with nothing)', async () => {
    const { call } = await createJobCall(fx, { providerId, token: stranger.address, budget: 1n })
    await expectRevert(fx, client, call, 'SafeERC20FailedOperation', [stranger.address])
    await expectRevert(
      fx,
      client,
      economyCall(fx, 'pay', [providerId, stranger.address, 1n, memo]),
      'SafeERC20FailedOperation',
      [stranger.address],
    )
  })

  test('behavior: ERC-20 without allowance refused, nothing stored', async () => {
    const { call, specHash } = await createJobCall(fx, { providerId, token: fx.usd, budget: 1n })
    await expectRevert(fx, owner, call, 'ERC20InsufficientAllowance', [fx.economy, 0n, 1n])
    expect((await job(jobIdOf(owner.address, providerId, specHash))).status).toBe(Status.None)
  })
})

describe('submitJob', () => {
  test('default: the provider wallet submits its deliverable', async () => {
    const created = await hire()
    const receipt = await send(fx, providerWallet, economyCall(fx, 'submitJob', [created.jobId, deliverable]))
    expect(economyEvents(fx, receipt)).toEqual([
      { eventName: 'JobSubmitted', args: { jobId: created.jobId, providerId, deliverableHash: deliverable } },
    ])
    expect((await job(created.jobId)).status).toBe(Status.Submitted)
    expect(await readEconomy(fx, 'refundableAfter', [created.jobId])).toBe(created.deadline + fx.grace)
  })

  test('behavior: an agent without a wallet submits as its owner', async () => {
    const created = await createJob(fx, client, { providerId: plainId })
    await send(fx, plainOwner, economyCall(fx, 'submitJob', [created.jobId, deliverable]))
    expect((await job(created.jobId)).status).toBe(Status.Submitted)
  })

  test('behavior: a rebound wallet takes over the job', async () => {
    const created = await hire()
    await bindWallet(fx, providerOwner, providerId, stranger.address, stranger)
    const call = economyCall(fx, 'submitJob', [created.jobId, deliverable])
    await expectRevert(fx, providerWallet, call, 'EconomyNotProvider', [
      created.jobId,
      providerWallet.address,
    ])
    await send(fx, stranger, call)
  })

  test('behavior: only a funded job can be submitted', async () => {
    const created = await submitted()
    await expectRevert(
      fx,
      providerWallet,
      economyCall(fx, 'submitJob', [created.jobId, deliverable]),
      'EconomyInvalidStatus',
      [created.jobId, Status.Submitted],
    )
  })

  test('behavior: unknown job', async () => {
    await expectRevert(
      fx,
      providerWallet,
      economyCall(fx, 'submitJob', [42n, deliverable]),
      'EconomyJobNotFound',
      [42n],
    )
  })

  test('behavior: submission allowed at the deadline, refused after it', async () => {
    const t = (await latestTimestamp(fx)) + 10n
    const late = await hire({ deadline: t + 100n, spec: 'late' })
    const onTime = await hire({ deadline: t + 100n, spec: 'on-time' })
    await setNextTimestamp(fx, t + 100n)
    await send(fx, providerWallet, economyCall(fx, 'submitJob', [onTime.jobId, deliverable]))
    await setNextTimestamp(fx, t + 101n)
    await expectRevert(
      fx,
      providerWallet,
      economyCall(fx, 'submitJob', [late.jobId, deliverable]),
      'EconomyDeadlinePassed',
      [late.jobId, t + 100n],
    )
  })
})

describe('declineJob', () => {
  test('default: the client is refunded; the decline counts in no record', async () => {
    const created = await hire({ budget: 10n ** 16n })
    const clientBefore = await balanceOf(fx, ETH, client.address)
    const receipt = await send(fx, providerWallet, economyCall(fx, 'declineJob', [created.jobId, reason]))
    expect(economyEvents(fx, receipt)).toEqual([
      { eventName: 'JobDeclined', args: { jobId: created.jobId, providerId, reasonHash: reason } },
    ])
    expect((await job(created.jobId)).status).toBe(Status.Declined)
    expect(await balanceOf(fx, ETH, client.address)).toBe(clientBefore + 10n ** 16n)
    expect(await balanceOf(fx, ETH, fx.economy)).toBe(0n)
    expect(await reputation(providerId, ETH)).toEqual(noReputation)
    expect(await clientRecord(client.address, ETH)).toEqual(noRecord)
    expect(await readEconomy(fx, 'reputationTokens', [providerId])).toEqual([])
    expect(await readEconomy(fx, 'refundableAfter', [created.jobId])).toBe(0n)
  })

  test('behavior: ERC-20 refund, even after the deadline', async () => {
    const created = await hire({ token: fx.usd, budget: 777n })
    const before = await balanceOf(fx, fx.usd, client.address)
    await fx.testClient.increaseTime({ seconds: 2 * 86_400 })
    await send(fx, providerWallet, economyCall(fx, 'declineJob', [created.jobId, reason]))
    expect(await balanceOf(fx, fx.usd, client.address)).toBe(before + 777n)
    expect(await reputation(providerId, fx.usd)).toEqual(noReputation)
  })

  test('behavior: only a funded job can be declined', async () => {
    const created = await submitted()
    const call = economyCall(fx, 'declineJob', [created.jobId, reason])
    await expectRevert(fx, providerWallet, call, 'EconomyInvalidStatus', [created.jobId, Status.Submitted])
    await expectRevert(
      fx,
      providerWallet,
      economyCall(fx, 'declineJob', [1n, reason]),
      'EconomyJobNotFound',
      [1n],
    )
  })
})

describe('completeJob', () => {
  test('default: the client completes, the provider is paid minus the fee and rated', async () => {
    const budget = 10n ** 18n
    const created = await submitted({ budget })
    const fee = (budget * fx.feeBps) / 10_000n
    const payeeBefore = await balanceOf(fx, ETH, providerWallet.address)
    const receipt = await send(fx, client, economyCall(fx, 'completeJob', [created.jobId, 87, feedback]))
    expect(economyEvents(fx, receipt)).toEqual([
      {
        eventName: 'JobCompleted',
        args: {
          jobId: created.jobId,
          providerId,
          client: client.address,
          payee: providerWallet.address,
          payout: budget - fee,
          fee,
          rating: 87,
          feedbackHash: feedback,
        },
      },
    ])
    expect(fee).toBe(10n ** 16n)
    // Settled: parties, deadline and outcome stay; the amount (in the events) is cleared.
    expect(await job(created.jobId)).toEqual({
      client: client.address,
      providerId: Number(providerId),
      deadline: Number(created.deadline),
      status: Status.Completed,
      sameOwner: false,
      token: zeroAddress,
      budget: 0n,
      evaluator: zeroAddress,
    })
    expect(await balanceOf(fx, ETH, providerWallet.address)).toBe(payeeBefore + budget - fee)
    expect(await balanceOf(fx, ETH, fx.economy)).toBe(fee)
    expect(await readEconomy(fx, 'accruedFees', [ETH])).toBe(fee)
    expect(await reputation(providerId, ETH)).toEqual({
      ...noReputation,
      completed: 1,
      clients: 1,
      ratingSum: 87,
      earned: budget - fee,
    })
    expect(await clientRecord(client.address, ETH)).toEqual({
      ...noRecord,
      completed: 1,
      lastProviderId: Number(providerId),
      paid: budget,
    })
    expect(await readEconomy(fx, 'earned', [providerId, ETH])).toBe(budget - fee)
    expect(await readEconomy(fx, 'reputationOf', [providerId])).toEqual([1n, 0n, 0n, 1n, 8700n])
    expect(await readEconomy(fx, 'refundableAfter', [created.jobId])).toBe(0n)
  })

  test('behavior: the evaluator completes an ERC-20 job; the client still may', async () => {
    const byEvaluator = await submitted({
      token: fx.usd,
      budget: 1_000_000n,
      evaluator: evaluator.address,
      spec: 'e',
    })
    const byClient = await submitted({
      token: fx.usd,
      budget: 1_000_000n,
      evaluator: evaluator.address,
      spec: 'c',
    })
    const before = await balanceOf(fx, fx.usd, providerWallet.address)
    await send(fx, evaluator, economyCall(fx, 'completeJob', [byEvaluator.jobId, 100, feedback]))
    await send(fx, client, economyCall(fx, 'completeJob', [byClient.jobId, 0, zeroHash]))
    expect(await balanceOf(fx, fx.usd, providerWallet.address)).toBe(before + 2n * 990_000n)
    expect(await readEconomy(fx, 'accruedFees', [fx.usd])).toBe(20_000n)
    expect(await reputation(providerId, fx.usd)).toEqual({
      ...noReputation,
      completed: 2,
      clients: 1,
      ratingSum: 100,
      earned: 1_980_000n,
    })
    // Completed by its evaluator or by itself, the job is on the client's record.
    expect(await clientRecord(client.address, fx.usd)).toMatchObject({ completed: 2, paid: 2_000_000n })
    expect(await clientRecord(evaluator.address, fx.usd)).toEqual(noRecord)
  })

  test('behavior: rating above 100 refused', async () => {
    const created = await submitted()
    for (const rating of [101, 255]) {
      await expectRevert(
        fx,
        client,
        economyCall(fx, 'completeJob', [created.jobId, rating, feedback]),
        'EconomyInvalidRating',
        [rating],
      )
    }
  })

  test('behavior: only a submitted job can be completed, once', async () => {
    const funded = await hire({ spec: 'funded' })
    const call = economyCall(fx, 'completeJob', [funded.jobId, 50, feedback])
    await expectRevert(fx, client, call, 'EconomyInvalidStatus', [funded.jobId, Status.Funded])
    const done = await submitted({ spec: 'done' })
    await send(fx, client, economyCall(fx, 'completeJob', [done.jobId, 50, feedback]))
    await expectRevert(
      fx,
      client,
      economyCall(fx, 'completeJob', [done.jobId, 50, feedback]),
      'EconomyInvalidStatus',
      [done.jobId, Status.Completed],
    )
    await expectRevert(fx, client, economyCall(fx, 'completeJob', [5n, 50, feedback]), 'EconomyJobNotFound', [
      5n,
    ])
  })

  test.each([1n, 99n, 100n, 199n, 10_001n, 123_456_789n, 10n ** 12n])(
    'behavior: fee on a budget of %s is rounded down, payout is the rest',
    async (budget) => {
      const created = await submitted({ token: fx.usd, budget })
      const receipt = await send(fx, client, economyCall(fx, 'completeJob', [created.jobId, 50, feedback]))
      const fee = (budget * fx.feeBps) / 10_000n
      expect(economyEvents(fx, receipt)[0]?.args).toMatchObject({ payout: budget - fee, fee })
      expect(await readEconomy(fx, 'accruedFees', [fx.usd])).toBe(fee)
      expect(await balanceOf(fx, fx.usd, fx.economy)).toBe(fee)
    },
  )

  test('behavior: the largest budget pays out exactly and earned saturates at uint88', async () => {
    const token = await deployToken()
    await mint(token, client.address, uint96Max)
    await approve(fx, client, token)
    const created = await submitted({ token, budget: uint96Max })
    await send(fx, client, economyCall(fx, 'completeJob', [created.jobId, 100, feedback]))
    const fee = (uint96Max * fx.feeBps) / 10_000n
    expect(await balanceOf(fx, token, providerWallet.address)).toBe(uint96Max - fee)
    expect(await readEconomy(fx, 'accruedFees', [token])).toBe(fee)
    expect(uint96Max - fee).toBeGreaterThan(uint88Max)
    expect(await readEconomy(fx, 'earned', [providerId, token])).toBe(uint88Max)
  })

  test.each([0, 500])('behavior: an economy with a %s bps fee', async (feeBps) => {
    const other = await deploy(fx, owner, agentEconomyAbi, agentEconomyBytecode, [
      fx.registry,
      fx.grace,
      feeBps,
      owner.address,
    ])
    const otherFx = { ...fx, economy: other }
    await approve(otherFx, client, fx.usd)
    const created = await createJob(otherFx, client, { providerId, token: fx.usd, budget: 1_000_001n })
    await send(otherFx, providerWallet, economyCall(otherFx, 'submitJob', [created.jobId, deliverable]))
    const receipt = await send(
      otherFx,
      client,
      economyCall(otherFx, 'completeJob', [created.jobId, 50, feedback]),
    )
    const fee = (1_000_001n * BigInt(feeBps)) / 10_000n
    expect(fee).toBe(feeBps === 0 ? 0n : 50_000n)
    expect(economyEvents(otherFx, receipt)[0]?.args).toMatchObject({ payout: 1_000_001n - fee, fee })
    expect(await readEconomy(otherFx, 'accruedFees', [fx.usd])).toBe(fee)
    expect(await balanceOf(fx, fx.usd, other)).toBe(fee)
  })

  test('behavior: the payout goes to the payment address at completion', async () => {
    const created = await submitted({ budget: 10_000n })
    await send(
      fx,
      providerOwner,
      contractCall(fx.registry, agentIdentityRegistryAbi, 'unsetAgentWallet', [providerId]),
    )
    const before = await balanceOf(fx, ETH, providerOwner.address)
    const receipt = await send(fx, client, economyCall(fx, 'completeJob', [created.jobId, 50, feedback]))
    expect(economyEvents(fx, receipt)[0]?.args).toMatchObject({
      payee: providerOwner.address,
      payout: 9_900n,
    })
    expect(await balanceOf(fx, ETH, providerOwner.address)).toBe(before + 9_900n)
  })

  test('behavior: reputation aggregates over tokens', async () => {
    const inEth = await submitted({ spec: 'eth' })
    const inUsd = await submitted({ token: fx.usd, spec: 'usd' })
    const rejected = await submitted({ token: fx.usd, spec: 'rejected' })
    const declined = await hire({ spec: 'declined' })
    await send(fx, client, economyCall(fx, 'completeJob', [inEth.jobId, 80, feedback]))
    await send(fx, client, economyCall(fx, 'completeJob', [inUsd.jobId, 95, feedback]))
    await send(fx, client, economyCall(fx, 'rejectJob', [rejected.jobId, reason]))
    await send(fx, providerWallet, economyCall(fx, 'declineJob', [declined.jobId, reason]))
    expect(await readEconomy(fx, 'reputationTokens', [providerId])).toEqual([ETH, fx.usd])
    // (80 + 95) / 2 = 87.5; the one client counts once per token.
    expect(await readEconomy(fx, 'reputationOf', [providerId])).toEqual([2n, 1n, 0n, 2n, 8750n])
    expect(await reputation(providerId, ETH)).toMatchObject({ completed: 1, clients: 1, ratingSum: 80 })
    expect(await reputation(providerId, fx.usd)).toMatchObject({ completed: 1, rejected: 1, ratingSum: 95 })
  })
})

describe('rejectJob', () => {
  test('default: without an evaluator the client rejects and is refunded', async () => {
    const created = await submitted({ token: fx.usd, budget: 4_000n })
    const before = await balanceOf(fx, fx.usd, client.address)
    const receipt = await send(fx, client, economyCall(fx, 'rejectJob', [created.jobId, reason]))
    expect(economyEvents(fx, receipt)).toEqual([
      {
        eventName: 'JobRejected',
        args: { jobId: created.jobId, providerId, by: client.address, reasonHash: reason },
      },
    ])
    expect((await job(created.jobId)).status).toBe(Status.Rejected)
    expect(await balanceOf(fx, fx.usd, client.address)).toBe(before + 4_000n)
    expect(await balanceOf(fx, fx.usd, fx.economy)).toBe(0n)
    expect(await reputation(providerId, fx.usd)).toEqual({ ...noReputation, rejected: 1 })
    expect(await clientRecord(client.address, fx.usd)).toEqual({ ...noRecord, rejected: 1 })
    expect(await readEconomy(fx, 'accruedFees', [fx.usd])).toBe(0n)
  })

  test('behavior: with an evaluator the evaluator rejects, and the client is refunded', async () => {
    const created = await submitted({ evaluator: evaluator.address, budget: 5n })
    const before = await balanceOf(fx, ETH, client.address)
    const receipt = await send(fx, evaluator, economyCall(fx, 'rejectJob', [created.jobId, reason]))
    expect(economyEvents(fx, receipt)[0]?.args).toMatchObject({ by: evaluator.address })
    expect(await balanceOf(fx, ETH, client.address)).toBe(before + 5n)
  })

  test('behavior: only a submitted job can be rejected', async () => {
    const funded = await hire({ spec: 'funded' })
    await expectRevert(
      fx,
      client,
      economyCall(fx, 'rejectJob', [funded.jobId, reason]),
      'EconomyInvalidStatus',
      [funded.jobId, Status.Funded],
    )
    const done = await submitted({ spec: 'done' })
    await send(fx, client, economyCall(fx, 'completeJob', [done.jobId, 1, feedback]))
    await expectRevert(
      fx,
      client,
      economyCall(fx, 'rejectJob', [done.jobId, reason]),
      'EconomyInvalidStatus',
      [done.jobId, Status.Completed],
    )
    await expectRevert(fx, client, economyCall(fx, 'rejectJob', [3n, reason]), 'EconomyJobNotFound', [3n])
  })
})

describe('refundExpired', () => {
  test('default: a funded job refunds to its client after the deadline, and counts as expired', async () => {
    const t = (await latestTimestamp(fx)) + 10n
    const created = await hire({ deadline: t + 1_000n, budget: 31n })
    const call = economyCall(fx, 'refundExpired', [created.jobId])
    await setNextTimestamp(fx, t + 1_000n)
    await expectRevert(fx, stranger, call, 'EconomyNotExpired', [created.jobId, t + 1_000n])
    await setNextTimestamp(fx, t + 1_001n)
    const before = await balanceOf(fx, ETH, client.address)
    const receipt = await send(fx, stranger, call)
    expect(economyEvents(fx, receipt)).toEqual([
      {
        eventName: 'JobExpired',
        args: { jobId: created.jobId, providerId, by: stranger.address, afterSubmission: false },
      },
    ])
    expect(await balanceOf(fx, ETH, client.address)).toBe(before + 31n)
    expect((await job(created.jobId)).status).toBe(Status.Expired)
    expect(await reputation(providerId, ETH)).toEqual({ ...noReputation, expired: 1 })
    expect(await clientRecord(client.address, ETH)).toEqual(noRecord)
    expect(await readEconomy(fx, 'reputationOf', [providerId])).toEqual([0n, 0n, 1n, 0n, 0n])
  })

  test('behavior: a submitted job refunds only after the grace period, against the client, not the provider', async () => {
    const t = (await latestTimestamp(fx)) + 10n
    const created = await hire({ deadline: t + 1_000n, token: fx.usd, budget: 8_888n })
    await send(fx, providerWallet, economyCall(fx, 'submitJob', [created.jobId, deliverable]))
    const graceEnd = t + 1_000n + fx.grace
    expect(await readEconomy(fx, 'refundableAfter', [created.jobId])).toBe(graceEnd)
    const call = economyCall(fx, 'refundExpired', [created.jobId])
    for (const at of [t + 1_001n, graceEnd]) {
      await setNextTimestamp(fx, at)
      await expectRevert(fx, client, call, 'EconomyNotExpired', [created.jobId, graceEnd])
    }
    await setNextTimestamp(fx, graceEnd + 1n)
    const before = await balanceOf(fx, fx.usd, client.address)
    const receipt = await send(fx, providerWallet, call)
    expect(economyEvents(fx, receipt)).toEqual([
      {
        eventName: 'JobExpired',
        args: { jobId: created.jobId, providerId, by: providerWallet.address, afterSubmission: true },
      },
    ])
    expect(await balanceOf(fx, fx.usd, client.address)).toBe(before + 8_888n)
    expect(await reputation(providerId, fx.usd)).toEqual(noReputation)
    expect(await readEconomy(fx, 'reputationTokens', [providerId])).toEqual([])
    expect(await clientRecord(client.address, fx.usd)).toEqual({ ...noRecord, expired: 1 })
  })

  test('behavior: the client may still complete a submitted job during the grace period', async () => {
    const t = (await latestTimestamp(fx)) + 10n
    const created = await hire({ deadline: t + 100n })
    await send(fx, providerWallet, economyCall(fx, 'submitJob', [created.jobId, deliverable]))
    await setNextTimestamp(fx, t + 100n + fx.grace)
    await send(fx, client, economyCall(fx, 'completeJob', [created.jobId, 60, feedback]))
  })

  test('behavior: settled jobs cannot be refunded', async () => {
    const completed = await submitted({ spec: 'completed' })
    await send(fx, client, economyCall(fx, 'completeJob', [completed.jobId, 60, feedback]))
    const rejected = await submitted({ spec: 'rejected' })
    await send(fx, client, economyCall(fx, 'rejectJob', [rejected.jobId, reason]))
    const declined = await hire({ spec: 'declined' })
    await send(fx, providerWallet, economyCall(fx, 'declineJob', [declined.jobId, reason]))
    const expired = await hire({ spec: 'expired' })
    await fx.testClient.increaseTime({ seconds: 86_401 })
    await send(fx, stranger, economyCall(fx, 'refundExpired', [expired.jobId]))
    for (const [created, status] of [
      [completed, Status.Completed],
      [rejected, Status.Rejected],
      [declined, Status.Declined],
      [expired, Status.Expired],
    ] as const) {
      await expectRevert(
        fx,
        stranger,
        economyCall(fx, 'refundExpired', [created.jobId]),
        'EconomyInvalidStatus',
        [created.jobId, status],
      )
      expect(await readEconomy(fx, 'refundableAfter', [created.jobId])).toBe(0n)
    }
    await expectRevert(fx, stranger, economyCall(fx, 'refundExpired', [9n]), 'EconomyJobNotFound', [9n])
  })

  test('behavior: with no grace a submitted job refunds right after its deadline', async () => {
    const other = await deploy(fx, owner, agentEconomyAbi, agentEconomyBytecode, [
      fx.registry,
      0n,
      100,
      owner.address,
    ])
    const otherFx = { ...fx, economy: other }
    const t = (await latestTimestamp(fx)) + 10n
    const created = await createJob(otherFx, client, { providerId, deadline: t + 50n })
    await send(otherFx, providerWallet, economyCall(otherFx, 'submitJob', [created.jobId, deliverable]))
    expect(await readEconomy(otherFx, 'refundableAfter', [created.jobId])).toBe(t + 50n)
    await setNextTimestamp(fx, t + 51n)
    await send(otherFx, stranger, economyCall(otherFx, 'refundExpired', [created.jobId]))
  })
})

describe('withdrawOwed', () => {
  test('default: a payout the payee refused is deferred, then withdrawn once', async () => {
    const { receiver, agentId } = await receiverAgent(fx, stranger)
    await setReceiverMode(fx, stranger, receiver, ReceiverMode.Refuse)
    const created = await createJob(fx, client, { providerId: agentId, budget: 50_000n })
    await send(
      fx,
      stranger,
      viaReceiver(receiver, economyCall(fx, 'submitJob', [created.jobId, deliverable])),
    )
    const receipt = await send(fx, client, economyCall(fx, 'completeJob', [created.jobId, 70, feedback]))
    expect(economyEvents(fx, receipt)).toEqual([
      expect.objectContaining({ eventName: 'JobCompleted' }),
      { eventName: 'PaymentDeferred', args: { recipient: receiver, token: ETH, amount: 49_500n } },
    ])
    // Settlement went through: the job is completed and the provider rated.
    expect((await job(created.jobId)).status).toBe(Status.Completed)
    expect(await reputation(agentId, ETH)).toMatchObject({ completed: 1, ratingSum: 70, earned: 49_500n })
    expect(await readEconomy(fx, 'owed', [receiver, ETH])).toBe(49_500n)
    expect(await balanceOf(fx, ETH, fx.economy)).toBe(50_000n)

    const withdraw = viaReceiver(receiver, economyCall(fx, 'withdrawOwed', [ETH]))
    await expectRevert(fx, stranger, withdraw, 'EconomyTransferFailed', [ETH, receiver, 49_500n])
    await setReceiverMode(fx, stranger, receiver, ReceiverMode.Accept)
    const withdrawn = await send(fx, stranger, withdraw)
    expect(economyEvents(fx, withdrawn)).toEqual([
      { eventName: 'OwedWithdrawn', args: { recipient: receiver, token: ETH, amount: 49_500n } },
    ])
    expect(await balanceOf(fx, ETH, receiver)).toBe(49_500n)
    expect(await readEconomy(fx, 'owed', [receiver, ETH])).toBe(0n)
    expect(await balanceOf(fx, ETH, fx.economy)).toBe(500n)
    await expectRevert(fx, stranger, withdraw, 'EconomyNothingOwed', [receiver, ETH])
  })

  test('behavior: a refund the client refuses is deferred to the client', async () => {
    const { receiver } = await receiverAgent(fx, stranger)
    const created = await createJobCall(fx, { providerId, budget: 123n })
    await send(fx, stranger, viaReceiver(receiver, created.call))
    const jobId = jobIdOf(receiver, providerId, created.specHash)
    await setReceiverMode(fx, stranger, receiver, ReceiverMode.Refuse)
    const receipt = await send(fx, providerWallet, economyCall(fx, 'declineJob', [jobId, reason]))
    expect(economyEvents(fx, receipt)).toEqual([
      { eventName: 'JobDeclined', args: { jobId, providerId, reasonHash: reason } },
      { eventName: 'PaymentDeferred', args: { recipient: receiver, token: ETH, amount: 123n } },
    ])
    expect(await readEconomy(fx, 'owed', [receiver, ETH])).toBe(123n)
  })

  test('behavior: nothing owed', async () => {
    await expectRevert(fx, stranger, economyCall(fx, 'withdrawOwed', [ETH]), 'EconomyNothingOwed', [
      stranger.address,
      ETH,
    ])
    await expectRevert(fx, stranger, economyCall(fx, 'withdrawOwed', [fx.usd]), 'EconomyNothingOwed', [
      stranger.address,
      fx.usd,
    ])
  })

  test('behavior: an ERC-20 payout the token blocks is deferred, then withdrawn', async () => {
    const token = await deployToken()
    await mint(token, client.address, 10_000n)
    await approve(fx, client, token)
    const created = await submitted({ token, budget: 10_000n })
    // The token now returns false on transfers to the provider.
    await send(
      fx,
      owner,
      contractCall(token, maliciousTokenAbi, 'setBehavior', [1, 0, providerWallet.address]),
    )
    const receipt = await send(fx, client, economyCall(fx, 'completeJob', [created.jobId, 50, feedback]))
    expect(economyEvents(fx, receipt).at(-1)).toEqual({
      eventName: 'PaymentDeferred',
      args: { recipient: providerWallet.address, token, amount: 9_900n },
    })
    expect(await readEconomy(fx, 'owed', [providerWallet.address, token])).toBe(9_900n)
    await send(fx, owner, contractCall(token, maliciousTokenAbi, 'setBehavior', [0, 0, zeroAddress]))
    await send(fx, providerWallet, economyCall(fx, 'withdrawOwed', [token]))
    expect(await balanceOf(fx, token, providerWallet.address)).toBe(9_900n)
    expect(await balanceOf(fx, token, fx.economy)).toBe(100n)
  })
})

describe('withdrawFees', () => {
  test('default: the owner withdraws each token to any address', async () => {
    const fees = await collectFees()
    const ethBefore = await balanceOf(fx, ETH, stranger.address)
    const ethReceipt = await send(fx, owner, economyCall(fx, 'withdrawFees', [ETH, stranger.address]))
    expect(economyEvents(fx, ethReceipt)).toEqual([
      { eventName: 'FeesWithdrawn', args: { token: ETH, to: stranger.address, amount: fees.eth } },
    ])
    expect(await balanceOf(fx, ETH, stranger.address)).toBe(ethBefore + fees.eth)
    const usdBefore = await balanceOf(fx, fx.usd, owner.address)
    const usdReceipt = await send(fx, owner, economyCall(fx, 'withdrawFees', [fx.usd, owner.address]))
    expect(economyEvents(fx, usdReceipt)).toEqual([
      { eventName: 'FeesWithdrawn', args: { token: fx.usd, to: owner.address, amount: fees.usd } },
    ])
    expect(await balanceOf(fx, fx.usd, owner.address)).toBe(usdBefore + fees.usd)
    expect(await readEconomy(fx, 'accruedFees', [ETH])).toBe(0n)
    expect(await readEconomy(fx, 'accruedFees', [fx.usd])).toBe(0n)
    expect(await balanceOf(fx, ETH, fx.economy)).toBe(0n)
    expect(await balanceOf(fx, fx.usd, fx.economy)).toBe(0n)
    await expectRevert(
      fx,
      owner,
      economyCall(fx, 'withdrawFees', [ETH, owner.address]),
      'EconomyNothingOwed',
      [owner.address, ETH],
    )
  })

  test('behavior: nothing accrued', async () => {
    await expectRevert(
      fx,
      owner,
      economyCall(fx, 'withdrawFees', [fx.usd, stranger.address]),
      'EconomyNothingOwed',
      [stranger.address, fx.usd],
    )
  })

  test('behavior: a recipient refusing ETH fails the withdrawal and keeps the fees', async () => {
    const fees = await collectFees()
    const { receiver } = await receiverAgent(fx, stranger)
    await setReceiverMode(fx, stranger, receiver, ReceiverMode.Refuse)
    await expectRevert(fx, owner, economyCall(fx, 'withdrawFees', [ETH, receiver]), 'EconomyTransferFailed', [
      ETH,
      receiver,
      fees.eth,
    ])
    expect(await readEconomy(fx, 'accruedFees', [ETH])).toBe(fees.eth)
  })

  test('behavior: a new owner takes over; after renouncing nobody can withdraw', async () => {
    await collectFees()
    const transferred = await send(fx, owner, economyCall(fx, 'transferOwnership', [stranger.address]))
    expect(economyEvents(fx, transferred)).toEqual([
      {
        eventName: 'OwnershipTransferred',
        args: { previousOwner: owner.address, newOwner: stranger.address },
      },
    ])
    await expectRevert(
      fx,
      owner,
      economyCall(fx, 'withdrawFees', [ETH, owner.address]),
      'OwnableUnauthorizedAccount',
      [owner.address],
    )
    await send(fx, stranger, economyCall(fx, 'withdrawFees', [ETH, stranger.address]))
    await send(fx, stranger, economyCall(fx, 'renounceOwnership', []))
    expect(await readEconomy(fx, 'owner', [])).toBe(zeroAddress)
    await expectRevert(
      fx,
      stranger,
      economyCall(fx, 'withdrawFees', [fx.usd, stranger.address]),
      'OwnableUnauthorizedAccount',
      [stranger.address],
    )
  })
})

describe('views', () => {
  test('default: an unknown job reads as empty', async () => {
    expect(await job(1234n)).toEqual({
      client: zeroAddress,
      providerId: 0,
      deadline: 0,
      status: Status.None,
      sameOwner: false,
      token: zeroAddress,
      budget: 0n,
      evaluator: zeroAddress,
    })
    expect(await readEconomy(fx, 'refundableAfter', [1234n])).toBe(0n)
  })

  test('behavior: jobIdOf is keccak256(abi.encode(client, providerId, specHash))', async () => {
    for (const [who, id, spec] of [
      [client.address, providerId, hashOf('a')],
      [stranger.address, uint48Max, zeroHash],
      [zeroAddress, 0n, hashOf('b')],
    ] as const) {
      expect(await readEconomy(fx, 'jobIdOf', [who, id, spec])).toBe(jobIdOf(who, id, spec))
    }
  })

  test('behavior: an agent with no settled job has an empty record', async () => {
    expect(await reputation(providerId, ETH)).toEqual(noReputation)
    expect(await readEconomy(fx, 'reputationTokens', [providerId])).toEqual([])
    expect(await readEconomy(fx, 'reputationOf', [providerId])).toEqual([0n, 0n, 0n, 0n, 0n])
    expect(await readEconomy(fx, 'earned', [providerId, fx.usd])).toBe(0n)
    expect(await readEconomy(fx, 'reputationOf', [unknownAgent])).toEqual([0n, 0n, 0n, 0n, 0n])
    expect(await clientRecord(client.address, ETH)).toEqual(noRecord)
  })

  test('behavior: creating and submitting write no record', async () => {
    await submitted({ token: fx.usd })
    expect(await reputation(providerId, fx.usd)).toEqual(noReputation)
    expect(await clientRecord(client.address, fx.usd)).toEqual(noRecord)
    expect(await readEconomy(fx, 'reputationTokens', [providerId])).toEqual([])
  })

  test('behavior: a token is listed once, at the agent’s first counted settlement in it', async () => {
    for (const spec of ['one', 'two', 'three']) {
      const created = await hire({ spec, token: fx.usd })
      await send(fx, providerWallet, economyCall(fx, 'declineJob', [created.jobId, reason]))
    }
    expect(await readEconomy(fx, 'reputationTokens', [providerId])).toEqual([])
    for (const spec of ['four', 'five']) {
      const created = await submitted({ spec, token: fx.usd })
      await send(fx, client, economyCall(fx, 'rejectJob', [created.jobId, reason]))
    }
    expect(await readEconomy(fx, 'reputationTokens', [providerId])).toEqual([fx.usd])
    expect(await reputation(providerId, fx.usd)).toEqual({ ...noReputation, rejected: 2 })
  })
})

type Party = 'owner' | 'client' | 'providerOwner' | 'providerWallet' | 'evaluator' | 'stranger'

/** Who may call what: each guarded function, the parties it accepts and those it refuses. */
const access: AccessRule<Party, Call>[] = [
  {
    fn: 'submitJob',
    allowed: ['providerWallet'],
    // Only the payment address: not even the provider's owner while the agent has a wallet of its own.
    refused: ['client', 'stranger', 'providerOwner', 'evaluator'],
    error: 'EconomyNotProvider',
    arrange: async (caller) => {
      const { jobId } = await hire()
      return { call: economyCall(fx, 'submitJob', [jobId, deliverable]), errorArgs: [jobId, caller] }
    },
  },
  {
    fn: 'declineJob',
    allowed: ['providerWallet'],
    refused: ['client', 'stranger', 'providerOwner'],
    error: 'EconomyNotProvider',
    arrange: async (caller) => {
      const { jobId } = await hire()
      return { call: economyCall(fx, 'declineJob', [jobId, reason]), errorArgs: [jobId, caller] }
    },
  },
  {
    fn: 'completeJob',
    allowed: ['client', 'evaluator'],
    refused: ['stranger', 'providerWallet', 'providerOwner', 'owner'],
    error: 'EconomyNotClientOrEvaluator',
    arrange: async (caller) => {
      const { jobId } = await submitted({ evaluator: evaluator.address })
      return { call: economyCall(fx, 'completeJob', [jobId, 50, feedback]), errorArgs: [jobId, caller] }
    },
  },
  {
    fn: 'rejectJob without an evaluator',
    allowed: ['client'],
    refused: ['stranger', 'providerWallet', 'evaluator'],
    error: 'EconomyNotClient',
    arrange: async (caller) => {
      const { jobId } = await submitted()
      return { call: economyCall(fx, 'rejectJob', [jobId, reason]), errorArgs: [jobId, caller] }
    },
  },
  {
    fn: 'rejectJob with an evaluator',
    allowed: ['evaluator'],
    refused: ['client', 'stranger', 'providerWallet'],
    error: 'EconomyNotEvaluator',
    arrange: async (caller) => {
      const { jobId } = await submitted({ evaluator: evaluator.address, budget: 5n })
      return { call: economyCall(fx, 'rejectJob', [jobId, reason]), errorArgs: [jobId, caller] }
    },
  },
  {
    fn: 'withdrawFees',
    allowed: ['owner'],
    refused: ['stranger', 'client', 'providerWallet'],
    error: 'OwnableUnauthorizedAccount',
    arrange: async (caller) => {
      await collectFees()
      return { call: economyCall(fx, 'withdrawFees', [ETH, caller]), errorArgs: [caller] }
    },
  },
]

describe('access control', () => {
  testAccessControl(access, {
    account: (party) => ({ owner, client, providerOwner, providerWallet, evaluator, stranger })[party],
    succeeds: (account, call) => send(fx, account, call),
    revertOf: async (account, call) => {
      const reverted = await revertOf(fx, account, call)
      return reverted && { name: reverted.errorName, args: reverted.args ?? [] }
    },
  })
})
