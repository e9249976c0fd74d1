/**
 * What counts in the economy's records (findings 8 and 9 of the hardening issue). A provider's
 * reputation per token: completed, rejected and expired jobs, ratings, what it earned and how many
 * distinct clients paid it; declines never count (nobody accepted those jobs). A client's record per
 * token: jobs it completed (and what it paid), rejected, and left to expire after delivery. Neither
 * counts a job between two agents of the same owner, nor a job below the token's minimum value, which
 * the economy's owner sets.
 */
import { type Address, createPublicClient, http, type LocalAccount, zeroAddress, zeroHash } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { beforeAll, describe, expect, test } from 'vitest'
import { startDevnet } from '../src/devnet.ts'
import { agentEconomyAbi } from '../src/generated/AgentEconomy.ts'
import { sendAsAgent } from './agent-module-fixture.ts'
import {
  approve,
  type CreatedJob,
  type CreateJobOptions,
  createJob,
  type EconomyFixture,
  ETH,
  economyCall,
  economyEvents,
  expectRevert,
  hashOf,
  isolateEachTest,
  jobIdOf,
  latestTimestamp,
  launchAgent,
  readEconomy,
  registerAgent,
  Status,
  send,
  startEconomyFixture,
} from './economy-fixture.ts'

const grace = 100n

let fx: EconomyFixture
let owner: LocalAccount
let client: LocalAccount
let otherClient: LocalAccount
let providerOwner: LocalAccount
let providerWallet: LocalAccount
let evaluator: LocalAccount
let stranger: LocalAccount
let providerId: bigint

beforeAll(async () => {
  fx = await startEconomyFixture({ submissionGraceSeconds: Number(grace) })
  ;[owner, client, otherClient, providerOwner, providerWallet, evaluator, stranger] = fx.accounts
  providerId = await registerAgent(fx, providerOwner, providerWallet)
  await approve(fx, client, fx.usd)
})

isolateEachTest(() => fx)

const reputation = (agentId: bigint, token: Address = ETH) =>
  readEconomy(fx, 'reputationIn', [agentId, token])
const clientRecord = (who: Address, token: Address = ETH) => readEconomy(fx, 'clientRecordIn', [who, token])
const noReputation = { completed: 0, rejected: 0, expired: 0, clients: 0, ratingSum: 0, earned: 0n }
const noRecord = { completed: 0, rejected: 0, expired: 0, paid: 0n }

let specs = 0
function hire(options: Partial<CreateJobOptions> = {}, from: LocalAccount = client): Promise<CreatedJob> {
  return createJob(fx, from, { providerId, spec: `spec ${specs++}`, ...options })
}

async function submitted(options: Partial<CreateJobOptions> = {}, from: LocalAccount = client) {
  const created = await hire(options, from)
  await send(fx, providerWallet, economyCall(fx, 'submitJob', [created.jobId, hashOf('work')]))
  return created
}

async function completed(rating: number, options: Partial<CreateJobOptions> = {}, from = client) {
  const created = await submitted(options, from)
  await send(fx, from, economyCall(fx, 'completeJob', [created.jobId, rating, zeroHash]))
  return created
}

describe('declines', () => {
  test('default: twenty unsolicited jobs declined leave no mark on the provider', async () => {
    for (let i = 0; i < 20; i++) {
      const created = await hire({ budget: 1n })
      await send(fx, providerWallet, economyCall(fx, 'declineJob', [created.jobId, zeroHash]))
    }
    expect(await reputation(providerId)).toEqual(noReputation)
    expect(await readEconomy(fx, 'reputationOf', [providerId])).toEqual([0n, 0n, 0n, 0n, 0n])
    expect(await readEconomy(fx, 'reputationTokens', [providerId])).toEqual([])
  })
})

describe('value and distinct clients', () => {
  test('default: reputation carries what the provider earned and how many clients paid it', async () => {
    await completed(100, { budget: 10_000n })
    await completed(80, { budget: 20_000n }, otherClient)
    await completed(90, { budget: 30_000n })
    await completed(70, { budget: 40_000n }, otherClient)
    expect(await reputation(providerId)).toEqual({
      ...noReputation,
      completed: 4,
      clients: 2,
      ratingSum: 340,
      earned: 99_000n, // 100,000 minus the 1% fee
    })
    expect(await readEconomy(fx, 'reputationOf', [providerId])).toEqual([4n, 0n, 0n, 2n, 8500n])
  })

  test('behavior: ten self-rated completions by one client count as one client', async () => {
    for (let i = 0; i < 10; i++) await completed(100, { budget: 1_000n })
    expect(await reputation(providerId)).toMatchObject({ completed: 10, clients: 1, earned: 9_900n })
  })

  test('behavior: clients are counted per token', async () => {
    await completed(100, { budget: 1_000n })
    await completed(100, { token: fx.usd, budget: 1_000n })
    expect(await reputation(providerId)).toMatchObject({ completed: 1, clients: 1 })
    expect(await reputation(providerId, fx.usd)).toMatchObject({ completed: 1, clients: 1 })
  })
})

describe('same owner', () => {
  test('default: the provider’s owner hiring it from its own account does not count', async () => {
    const created = await completed(100, { budget: 10_000n }, providerOwner)
    expect(await readEconomy(fx, 'getJob', [created.jobId])).toMatchObject({
      status: Status.Completed,
      sameOwner: true,
    })
    expect(await reputation(providerId)).toEqual(noReputation)
    expect(await clientRecord(providerOwner.address)).toMatchObject(noRecord)
  })

  test('behavior: two agents of one owner (Safes it co-owns) do not count, another owner’s do', async () => {
    // Each agent acts through its Safe's module with its own key; its owners alone own the Safe. The
    // client agents' Safes have a second owner, so the provider's owner only co-owns one of them.
    const keys = ['p', 'c1', 'c2'].map((name) => privateKeyToAccount(hashOf(`${name} agent key`)))
    const [providerKey, mineKey, theirsKey] = keys as [LocalAccount, LocalAccount, LocalAccount]
    const provider = await launchAgent(fx, providerOwner, { agentKey: providerKey.address, salt: 'p' })
    const mine = await launchAgent(fx, providerOwner, {
      agentKey: mineKey.address,
      safeOwners: [evaluator.address, providerOwner.address],
      salt: 'c1',
    })
    const theirs = await launchAgent(fx, client, {
      agentKey: theirsKey.address,
      safeOwners: [evaluator.address, client.address],
      salt: 'c2',
    })
    for (const wallet of [mine.safe, theirs.safe])
      await fx.testClient.setBalance({ address: wallet, value: 10n ** 18n })

    // A relayer (here a stranger) submits what each agent's key signed.
    const selfHire = async (from: { safe: Address }, key: LocalAccount, spec: string) => {
      const deadline = (await latestTimestamp(fx)) + 86_400n
      const specHash = hashOf(spec)
      await sendAsAgent(fx, stranger, key, from.safe, [
        economyCall(
          fx,
          'createJob',
          [provider.agentId, zeroAddress, ETH, 10_000n, deadline, specHash],
          10_000n,
        ),
      ])
      const jobId = jobIdOf(from.safe, provider.agentId, specHash)
      await sendAsAgent(fx, stranger, providerKey, provider.safe, [
        economyCall(fx, 'submitJob', [jobId, hashOf('work')]),
      ])
      await sendAsAgent(fx, stranger, key, from.safe, [
        economyCall(fx, 'completeJob', [jobId, 100, zeroHash]),
      ])
      return readEconomy(fx, 'getJob', [jobId])
    }
    expect(await selfHire(mine, mineKey, 'mine')).toMatchObject({ status: Status.Completed, sameOwner: true })
    expect(await reputation(provider.agentId)).toEqual(noReputation)
    expect(await selfHire(theirs, theirsKey, 'theirs')).toMatchObject({
      status: Status.Completed,
      sameOwner: false,
    })
    expect(await reputation(provider.agentId)).toMatchObject({ completed: 1, clients: 1, ratingSum: 100 })
    expect(await clientRecord(theirs.safe)).toMatchObject({ ...noRecord, completed: 1, paid: 10_000n })
    expect(await clientRecord(mine.safe)).toMatchObject(noRecord)
  })

  test('behavior: a rejection or expiry between agents of one owner does not count either', async () => {
    const rejected = await submitted({ budget: 10_000n }, providerOwner)
    await send(fx, providerOwner, economyCall(fx, 'rejectJob', [rejected.jobId, zeroHash]))
    const t = await latestTimestamp(fx)
    await hire({ budget: 10_000n, deadline: t + 50n }, providerOwner).then(async (lapsed) => {
      await fx.testClient.setNextBlockTimestamp({ timestamp: t + 51n })
      await send(fx, stranger, economyCall(fx, 'refundExpired', [lapsed.jobId]))
    })
    expect(await reputation(providerId)).toEqual(noReputation)
    expect(await clientRecord(providerOwner.address)).toMatchObject(noRecord)
  })
})

describe('minimum job value', () => {
  test('default: a job below the token’s minimum does not count; at the minimum it does', async () => {
    const receipt = await send(fx, owner, economyCall(fx, 'setMinJobValue', [ETH, 1_000n]))
    expect(economyEvents(fx, receipt)).toEqual([
      { eventName: 'MinJobValueSet', args: { token: ETH, minJobValue: 1_000n } },
    ])
    expect(await readEconomy(fx, 'minJobValue', [ETH])).toBe(1_000n)
    await completed(100, { budget: 999n })
    expect(await reputation(providerId)).toEqual(noReputation)
    expect(await clientRecord(client.address)).toMatchObject(noRecord)
    await completed(100, { budget: 1_000n })
    expect(await reputation(providerId)).toMatchObject({ completed: 1, clients: 1, ratingSum: 100 })
    expect(await clientRecord(client.address)).toMatchObject({ ...noRecord, completed: 1, paid: 1_000n })
  })

  test('behavior: minimums are per token, and rejections below it do not count', async () => {
    await send(fx, owner, economyCall(fx, 'setMinJobValue', [fx.usd, 1_000_000n]))
    await completed(100, { budget: 5n })
    const cheap = await submitted({ token: fx.usd, budget: 999_999n })
    await send(fx, client, economyCall(fx, 'rejectJob', [cheap.jobId, zeroHash]))
    expect(await reputation(providerId)).toMatchObject({ completed: 1 })
    expect(await reputation(providerId, fx.usd)).toEqual(noReputation)
    expect(await clientRecord(client.address, fx.usd)).toMatchObject(noRecord)
  })

  test('behavior: the devnet sets 0.01 dUSD and 0.00001 ETH unless told otherwise', async () => {
    const devnet = await startDevnet({ log: () => {} })
    try {
      const { economy, devUSD } = devnet.manifest.contracts
      const read = (token: Address) =>
        createPublicClient({ transport: http(devnet.rpcUrl) }).readContract({
          address: economy,
          abi: agentEconomyAbi,
          functionName: 'minJobValue',
          args: [token],
        })
      expect([await read(devUSD), await read(ETH)]).toEqual([10_000n, 10n ** 13n])
    } finally {
      await devnet.stop()
    }
  })

  test('error: only the economy’s owner sets it, within uint96', async () => {
    await expectRevert(
      fx,
      stranger,
      economyCall(fx, 'setMinJobValue', [ETH, 1n]),
      'OwnableUnauthorizedAccount',
      [stranger.address],
    )
    await expectRevert(
      fx,
      owner,
      economyCall(fx, 'setMinJobValue', [ETH, 2n ** 96n]),
      'EconomyAmountTooLarge',
      [2n ** 96n],
    )
  })
})

describe('client records', () => {
  test('default: completed (and paid), rejected, and expired after delivery, per client and token', async () => {
    await completed(90, { budget: 10_000n })
    const rejected = await submitted({ budget: 20_000n })
    await send(fx, client, economyCall(fx, 'rejectJob', [rejected.jobId, zeroHash]))
    const t = await latestTimestamp(fx)
    const unevaluated = await submitted({ budget: 30_000n, deadline: t + 50n })
    const undelivered = await hire({ budget: 40_000n, deadline: t + 50n })
    await fx.testClient.setNextBlockTimestamp({ timestamp: t + 51n + grace })
    await send(fx, stranger, economyCall(fx, 'refundExpired', [unevaluated.jobId]))
    await send(fx, stranger, economyCall(fx, 'refundExpired', [undelivered.jobId]))

    // The client took a delivery and never evaluated it: that is on its record, not the provider's.
    expect(await clientRecord(client.address)).toMatchObject({
      completed: 1,
      rejected: 1,
      expired: 1,
      paid: 10_000n,
    })
    // The provider let a job lapse undelivered: that is on the provider's.
    expect(await reputation(providerId)).toMatchObject({ completed: 1, rejected: 1, expired: 1, clients: 1 })
    expect(await clientRecord(otherClient.address)).toMatchObject(noRecord)
    expect(await clientRecord(client.address, fx.usd)).toMatchObject(noRecord)
  })

  test('behavior: a rejection by the client’s evaluator is on the client’s record', async () => {
    const created = await submitted({ budget: 10_000n, evaluator: evaluator.address })
    await send(fx, evaluator, economyCall(fx, 'rejectJob', [created.jobId, zeroHash]))
    expect(await clientRecord(client.address)).toMatchObject({ ...noRecord, rejected: 1 })
    expect(await clientRecord(evaluator.address)).toMatchObject(noRecord)
  })

  test('behavior: a decline leaves no mark on the client either', async () => {
    const created = await hire({ budget: 10_000n })
    await send(fx, providerWallet, economyCall(fx, 'declineJob', [created.jobId, zeroHash]))
    expect(await clientRecord(client.address)).toMatchObject(noRecord)
  })
})
