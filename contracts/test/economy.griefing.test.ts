/**
 * A hostile counterparty burning gas (`GasGriefer`): a client or payee whose `receive()` burns every
 * unit of gas it is given whenever the transaction pays for gas. Whoever sends it ETH (a provider
 * declining its job, an evaluator rejecting it, anyone refunding it, a payer) pays at most the
 * economy's ETH stipend for it, and the settlement goes through with the ETH owed to it. A Safe 1.4.1
 * (what every agent launched by the factory is paid at) still receives its ETH within that stipend.
 */
import { type Address, encodeFunctionData, getAddress, type LocalAccount, parseEther, zeroHash } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { beforeAll, describe, expect, test } from 'vitest'
import { agentIdentityRegistryAbi } from '../src/generated/AgentIdentityRegistry.ts'
import { gasGrieferAbi, gasGrieferBytecode } from '../src/generated/GasGriefer.ts'
import { safeAbi } from '../src/generated/Safe.ts'
import {
  balanceOf,
  type Call,
  contractCall,
  createJob,
  deploy,
  type EconomyFixture,
  ETH,
  economyCall,
  economyCalldata,
  economyEvents,
  hashOf,
  isolateEachTest,
  jobIdOf,
  latestTimestamp,
  launchAgent,
  nextAgentId,
  readEconomy,
  registerAgent,
  Status,
  send,
  startEconomyFixture,
} from './economy-fixture.ts'

/** Far more gas than any settlement needs: what a relayer whose gas figure escalated would offer. */
const generousGas = 5_000_000n
/**
 * The most any settlement below may cost: the stipend and the first records of a fresh provider and
 * client included. Before the stipend, the burn took 63/64 of whatever gas was offered (~4.9M here).
 */
const bounded = 250_000n
/** What a debt costs to record: `owed` from zero (22,100) and `PaymentDeferred`, with some slack. */
const debtRecord = 30_000n

let fx: EconomyFixture
let owner: LocalAccount
let client: LocalAccount
let providerOwner: LocalAccount
let providerWallet: LocalAccount
let evaluator: LocalAccount
let stranger: LocalAccount
let providerId: bigint
let griefer: Address

beforeAll(async () => {
  fx = await startEconomyFixture({ submissionGraceSeconds: 100 })
  ;[owner, client, providerOwner, providerWallet, evaluator, stranger] = fx.accounts
  providerId = await registerAgent(fx, providerOwner, providerWallet)
  griefer = await deploy(fx, owner, gasGrieferAbi, gasGrieferBytecode, [fx.economy])
  await fx.testClient.setBalance({ address: griefer, value: parseEther('10') })
})

isolateEachTest(() => fx)

/** Sends `call` from `account` with a generous gas limit (as an escalated relayer would) and returns the receipt. */
async function sendGenerously(account: LocalAccount, call: Call) {
  const hash = await fx.walletClient.writeContract({
    ...call,
    account,
    chain: fx.devnet.chain,
    gas: generousGas,
  } as never)
  const receipt = await fx.publicClient.waitForTransactionReceipt({ hash })
  expect(receipt.status, `${call.functionName} reverted`).toBe('success')
  return receipt
}

/** `call`, made by the griefer through its `execute`. */
function asGriefer(call: Call): Call {
  return contractCall(griefer, gasGrieferAbi, 'execute', [
    call.address,
    economyCalldata(call.functionName as never, call.args as never),
  ])
}

/** An ETH job the griefer funds for the provider (an evaluator when given). */
async function grieferJob(spec: string, options: { evaluator?: Address; deadline?: bigint } = {}) {
  const deadline = options.deadline ?? (await latestTimestamp(fx)) + 86_400n
  const specHash = hashOf(spec)
  if (options.evaluator) {
    await send(
      fx,
      stranger,
      contractCall(
        griefer,
        gasGrieferAbi,
        'execute',
        [
          fx.economy,
          economyCalldata('createJob', [providerId, options.evaluator, ETH, 1_000n, deadline, specHash]),
        ],
        1_000n,
      ),
    )
  } else {
    await send(
      fx,
      stranger,
      contractCall(griefer, gasGrieferAbi, 'hire', [providerId, 1_000n, deadline, specHash]),
    )
  }
  return { jobId: jobIdOf(griefer, providerId, specHash), deadline }
}

const job = (jobId: bigint) => readEconomy(fx, 'getJob', [jobId])

describe('GasGriefer as a client', () => {
  test('default: a decline refunding it costs the provider bounded gas and settles, the refund owed', async () => {
    const { jobId } = await grieferJob('declined')
    const receipt = await sendGenerously(providerWallet, economyCall(fx, 'declineJob', [jobId, zeroHash]))
    expect(receipt.gasUsed).toBeLessThan(bounded)
    expect((await job(jobId)).status).toBe(Status.Declined)
    expect(economyEvents(fx, receipt).at(-1)).toEqual({
      eventName: 'PaymentDeferred',
      args: { recipient: griefer, token: ETH, amount: 1_000n },
    })
    expect(await readEconomy(fx, 'owed', [griefer, ETH])).toBe(1_000n)
  })

  test('behavior: its evaluator rejecting the delivery pays bounded gas for the refund', async () => {
    const { jobId } = await grieferJob('rejected', { evaluator: evaluator.address })
    await send(fx, providerWallet, economyCall(fx, 'submitJob', [jobId, hashOf('work')]))
    const receipt = await sendGenerously(evaluator, economyCall(fx, 'rejectJob', [jobId, zeroHash]))
    expect(receipt.gasUsed).toBeLessThan(bounded)
    expect((await job(jobId)).status).toBe(Status.Rejected)
    expect(await readEconomy(fx, 'owed', [griefer, ETH])).toBe(1_000n)
  })

  test('behavior: anyone refunding its expired job pays bounded gas', async () => {
    const { jobId, deadline } = await grieferJob('expired', { deadline: (await latestTimestamp(fx)) + 60n })
    await fx.testClient.setNextBlockTimestamp({ timestamp: deadline + 1n })
    const receipt = await sendGenerously(stranger, economyCall(fx, 'refundExpired', [jobId]))
    expect(receipt.gasUsed).toBeLessThan(bounded)
    expect((await job(jobId)).status).toBe(Status.Expired)
    expect(await readEconomy(fx, 'owed', [griefer, ETH])).toBe(1_000n)
  })

  test('behavior: a gas estimate (price zero) sees a cheap refund; the real one costs at most the stipend and the debt more', async () => {
    const { jobId } = await grieferJob('estimated')
    const call = economyCall(fx, 'declineJob', [jobId, zeroHash])
    const estimate = await fx.publicClient.estimateContractGas({ ...call, account: providerWallet } as never)
    const stipend = await readEconomy(fx, 'ETH_PAYOUT_GAS', [])
    // What a sender must add to an estimate to be safe from any recipient: the stipend, the EVM's
    // own 2,300 and recording the debt.
    const hash = await fx.walletClient.writeContract({
      ...call,
      account: providerWallet,
      chain: fx.devnet.chain,
      gas: estimate + stipend + 2_300n + debtRecord,
    } as never)
    const receipt = await fx.publicClient.waitForTransactionReceipt({ hash })
    expect(receipt.status).toBe('success')
    expect((await job(jobId)).status).toBe(Status.Declined)
    expect(await readEconomy(fx, 'owed', [griefer, ETH])).toBe(1_000n)
  })
})

describe('GasGriefer as a payee', () => {
  /** Registers the griefer as an agent of its own, so payments and payouts go to it. */
  async function grieferAgent(): Promise<bigint> {
    const agentId = await nextAgentId(fx)
    await send(
      fx,
      stranger,
      contractCall(griefer, gasGrieferAbi, 'execute', [
        fx.registry,
        encodeFunctionData({ abi: agentIdentityRegistryAbi, functionName: 'register', args: ['ipfs://g'] }),
      ]),
    )
    return agentId
  }

  test('default: an ETH payment to it costs the payer bounded gas, succeeds, and is owed to it', async () => {
    const agentId = await grieferAgent()
    const receipt = await sendGenerously(client, economyCall(fx, 'pay', [agentId, ETH, 7n, zeroHash], 7n))
    expect(receipt.gasUsed).toBeLessThan(bounded)
    expect(economyEvents(fx, receipt).map((e) => e.eventName)).toEqual(['Paid', 'PaymentDeferred'])
    expect(await readEconomy(fx, 'owed', [griefer, ETH])).toBe(7n)
  })

  test('behavior: completing a job it provides costs the client bounded gas, the payout owed', async () => {
    const agentId = await grieferAgent()
    const created = await createJob(fx, client, { providerId: agentId, budget: 10_000n })
    await send(fx, stranger, asGriefer(economyCall(fx, 'submitJob', [created.jobId, hashOf('work')])))
    const receipt = await sendGenerously(
      client,
      economyCall(fx, 'completeJob', [created.jobId, 50, zeroHash]),
    )
    expect(receipt.gasUsed).toBeLessThan(bounded)
    expect((await job(created.jobId)).status).toBe(Status.Completed)
    expect(await readEconomy(fx, 'owed', [griefer, ETH])).toBe(9_900n)
  })
})

describe('ETH stipend', () => {
  test('default: enough for a Safe 1.4.1 launched by the factory, which receives (SafeReceived) at once', async () => {
    // The agent's key is not an owner: the Safe is its owner's, with the agent module enabled.
    const agentKey = privateKeyToAccount(hashOf('safe payee agent key')).address
    const { agentId, safe } = await launchAgent(fx, providerOwner, { agentKey, salt: 'safe payee' })

    const paid = await send(fx, client, economyCall(fx, 'pay', [agentId, ETH, 5n, zeroHash], 5n))
    expect(economyEvents(fx, paid).map((e) => e.eventName)).toEqual(['Paid'])
    const received = paid.logs.filter((log) => getAddress(log.address) === safe)
    expect(received).toHaveLength(1) // SafeReceived
    expect(await balanceOf(fx, ETH, safe)).toBe(5n)
    expect(await fx.publicClient.readContract({ address: safe, abi: safeAbi, functionName: 'VERSION' })).toBe(
      '1.4.1',
    )
  })
})
