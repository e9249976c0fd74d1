/**
 * `AgentModule` on a real Safe 1.4.1: a launch gives a Safe its owner alone owns, with the module
 * enabled and the agent's key and policy in it; the agent pays and hires through the module, every
 * call checked; the owner changes the policy, pauses, rotates and revokes the key through the Safe
 * (owner-signed `execTransaction`, with protocol-kit), each effective at once and each with its event.
 */
import protocolKit from '@safe-global/protocol-kit'
import {
  type Address,
  encodeFunctionData,
  type Hex,
  hashTypedData,
  type LocalAccount,
  parseEther,
  parseEventLogs,
  parseUnits,
  recoverTypedDataAddress,
  zeroAddress,
  zeroHash,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { beforeAll, describe, expect, test } from 'vitest'
import { safeContractNetworks } from '../src/devnet.ts'
import { agentModuleAbi } from '../src/generated/AgentModule.ts'
import { devUSDAbi } from '../src/generated/DevUSD.ts'
import { maliciousTokenAbi, maliciousTokenBytecode } from '../src/generated/MaliciousToken.ts'
import { safeAbi } from '../src/generated/Safe.ts'
import { executeTypedData, type PolicyChange, policyChange, unlimited } from './agent-module-calls.ts'
import {
  agentOf,
  executeCall,
  moduleEvents,
  moduleExecutions,
  moduleOf,
  ownerSets,
  sendAsAgent,
  spentOf,
  toModuleCall,
} from './agent-module-fixture.ts'
import {
  balanceOf,
  contractCall,
  createJob,
  deploy,
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
  safeTransactionCall,
  send,
  setNextTimestamp,
  revertOf as simulatedRevert,
  startEconomyFixture,
} from './economy-fixture.ts'
import { revertOf } from './revert.ts'

/**
 * protocol-kit ships one CommonJS-flavoured `.d.ts`, so under NodeNext TypeScript sees the Safe class at
 * `default.default`, while Node loads its ES module build, whose default export is the class itself.
 */
const Safe = ('init' in protocolKit ? protocolKit : protocolKit.default) as typeof protocolKit.default

const usd = (amount: string) => parseUnits(amount, 6)
const day = 86_400

let fx: EconomyFixture
let owner: LocalAccount
let relayer: LocalAccount
let providerOwner: LocalAccount
let providerWallet: LocalAccount
let client: LocalAccount
let stranger: LocalAccount
let payee: LocalAccount
/** The agent's key: it holds no ETH (a relayer pays its gas) and owns nothing. */
const agentKey = privateKeyToAccount(hashOf('agent module test: agent key'))
const providerKey = privateKeyToAccount(hashOf('agent module test: provider agent key'))
let module: Address
/** The agent: its Safe, owned by `owner`, spends through the module. */
let agent: { agentId: bigint; safe: Address }
/** Another owner's agent, hired by `agent`, acting through its own module. */
let provider: { agentId: bigint; safe: Address }
/** An agent whose payment address is a plain account. */
let plainProviderId: bigint

/** The agent's policy at launch: capped and budgeted dUSD, capped ETH, one allowed payee. */
function launchPolicy(): PolicyChange {
  return policyChange({
    setLimits: [
      { token: fx.usd, perCall: usd('100'), perPeriod: usd('250'), period: day },
      { token: ETH, perCall: parseEther('1'), perPeriod: 0n, period: 0 },
    ],
    allowPayees: [payee.address],
  })
}

beforeAll(async () => {
  fx = await startEconomyFixture()
  ;[, owner, relayer, providerOwner, providerWallet, client, stranger, payee] = fx.accounts
  module = moduleOf(fx)
  agent = await launchAgent(fx, owner, { agentKey: agentKey.address, policy: launchPolicy() })
  provider = await launchAgent(fx, providerOwner, { agentKey: providerKey.address })
  plainProviderId = await registerAgent(fx, providerOwner, providerWallet)
  await send(fx, owner, contractCall(fx.usd, devUSDAbi, 'transfer', [agent.safe, usd('1000')]))
  await fx.testClient.setBalance({ address: agent.safe, value: parseEther('10') })
})

isolateEachTest(() => fx)

function safeKit(signer: LocalAccount, safeAddress: Address) {
  const key = fx.devnet.manifest.accounts.find((account) => account.address === signer.address)!.privateKey
  return Safe.init({
    provider: fx.devnet.rpcUrl,
    signer: key,
    safeAddress,
    contractNetworks: safeContractNetworks(fx.devnet.manifest.chainId, fx.devnet.manifest.safe),
  })
}

/** The owner has the Safe call the module, signed and sent with protocol-kit. */
async function ownerCallsModule(data: Hex) {
  const kit = await safeKit(owner, agent.safe)
  const signed = await kit.signTransaction(
    await kit.createTransaction({ transactions: [{ to: module, value: '0', data }] }),
  )
  const result = await kit.executeTransaction(signed)
  const receipt = await fx.publicClient.waitForTransactionReceipt({ hash: result.hash as Hex })
  expect(receipt.status).toBe('success')
  expect(parseEventLogs({ abi: safeAbi, logs: receipt.logs, eventName: 'ExecutionSuccess' })).toHaveLength(1)
  return receipt
}

const readModule = {
  limitOf: (token: Address, safe = agent.safe) =>
    fx.publicClient.readContract({
      address: module,
      abi: agentModuleAbi,
      functionName: 'limitOf',
      args: [safe, token],
    }),
  isAgentAllowed: (agentId: bigint, safe = agent.safe) =>
    fx.publicClient.readContract({
      address: module,
      abi: agentModuleAbi,
      functionName: 'isAgentAllowed',
      args: [safe, agentId],
    }),
  isPayeeAllowed: (who: Address, safe = agent.safe) =>
    fx.publicClient.readContract({
      address: module,
      abi: agentModuleAbi,
      functionName: 'isPayeeAllowed',
      args: [safe, who],
    }),
}

const pay = (agentId: bigint, amount: bigint, token: Address = fx.usd, memo = 'memo') =>
  economyCall(fx, 'pay', [agentId, token, amount, hashOf(memo)], token === ETH ? amount : 0n)
const approveEconomy = (amount = unlimited) =>
  contractCall(fx.usd, devUSDAbi, 'approve', [fx.economy, amount])

describe('launch', () => {
  test('default: the Safe is its owner’s alone, the module is enabled and holds the agent’s key and policy', async () => {
    const read = <name extends 'getOwners' | 'getThreshold' | 'nonce'>(functionName: name) =>
      fx.publicClient.readContract({ address: agent.safe, abi: safeAbi, functionName })
    expect(await read('getOwners')).toEqual([owner.address])
    expect(await read('getThreshold')).toBe(1n)
    expect(
      await fx.publicClient.readContract({
        address: agent.safe,
        abi: safeAbi,
        functionName: 'isOwner',
        args: [agentKey.address],
      }),
    ).toBe(false)
    expect(
      await fx.publicClient.readContract({
        address: agent.safe,
        abi: safeAbi,
        functionName: 'isModuleEnabled',
        args: [module],
      }),
    ).toBe(true)
    const kit = await safeKit(owner, agent.safe)
    expect(await kit.getModules()).toEqual([module])
    expect(await kit.isModuleEnabled(module)).toBe(true)

    expect(await agentOf(fx, agent.safe)).toEqual({
      key: agentKey.address,
      nonce: 0n,
      paused: false,
      restricted: false,
    })
    expect(await readModule.limitOf(fx.usd)).toEqual({
      perCall: usd('100'),
      perPeriod: usd('250'),
      period: day,
      enabled: true,
    })
    expect(await readModule.limitOf(ETH)).toEqual({
      perCall: parseEther('1'),
      perPeriod: 0n,
      period: 0,
      enabled: true,
    })
    // A token without a limit cannot be spent at all.
    expect(await readModule.limitOf(stranger.address)).toEqual({
      perCall: 0n,
      perPeriod: 0n,
      period: 0,
      enabled: false,
    })
    expect(await readModule.isPayeeAllowed(payee.address)).toBe(true)
    expect(await readModule.isPayeeAllowed(stranger.address)).toBe(false)
    expect(await readModule.isAgentAllowed(provider.agentId)).toBe(false)
    // Nothing spent yet: the window opens with the first counted spend.
    expect(await spentOf(fx, agent.safe, fx.usd)).toEqual({
      amount: 0n,
      periodStart: await latestTimestamp(fx),
    })
    expect(
      await fx.publicClient.readContract({ address: module, abi: agentModuleAbi, functionName: 'economy' }),
    ).toBe(fx.economy)
  })

  test('behavior: a restricted launch writes its allow-lists', async () => {
    const key = privateKeyToAccount(hashOf('restricted agent key'))
    const restricted = await launchAgent(fx, owner, {
      agentKey: key.address,
      policy: policyChange({
        setLimits: [{ token: fx.usd, perCall: 1n, perPeriod: 0n, period: 0 }],
        allowAgents: [provider.agentId, plainProviderId],
        allowPayees: [payee.address],
        restricted: true,
      }),
      salt: 'restricted',
    })
    expect(await agentOf(fx, restricted.safe)).toMatchObject({ key: key.address, restricted: true })
    for (const id of [provider.agentId, plainProviderId])
      expect(await readModule.isAgentAllowed(id, restricted.safe)).toBe(true)
    expect(await readModule.isAgentAllowed(agent.agentId, restricted.safe)).toBe(false)
    expect(await readModule.isPayeeAllowed(payee.address, restricted.safe)).toBe(true)
    expect(await readModule.limitOf(ETH, restricted.safe)).toMatchObject({ enabled: false })
  })

  test('behavior: executeDigest is the EIP-712 hash of the Execute message the agent signs', async () => {
    const calls = [approveEconomy(), pay(plainProviderId, usd('1'))].map(toModuleCall)
    const message = { chainId: fx.devnet.manifest.chainId, module, safe: agent.safe, nonce: 7n, calls }
    const digest = await fx.publicClient.readContract({
      address: module,
      abi: agentModuleAbi,
      functionName: 'executeDigest',
      args: [agent.safe, 7n, calls],
    })
    expect(digest).toBe(hashTypedData(executeTypedData(message)))
    const signature = await agentKey.signTypedData(executeTypedData(message))
    expect(await recoverTypedDataAddress({ ...executeTypedData(message), signature })).toBe(agentKey.address)
    // `account.sign({ hash })` of the digest is the same signature.
    expect(await agentKey.sign({ hash: digest })).toBe(signature)
  })
})

describe('execute', () => {
  test('default: the agent approves and pays in one batch, relayed by anyone; the Safe pays no gas', async () => {
    const safeEth = await balanceOf(fx, ETH, agent.safe)
    const receipt = await sendAsAgent(fx, relayer, agentKey, agent.safe, [
      approveEconomy(usd('40')),
      pay(plainProviderId, usd('40'), fx.usd, 'invoice 1'),
    ])
    expect(receipt.from).toBe(relayer.address.toLowerCase())
    expect(economyEvents(fx, receipt)).toEqual([
      {
        eventName: 'Paid',
        args: {
          toAgentId: plainProviderId,
          from: agent.safe,
          token: fx.usd,
          to: providerWallet.address,
          amount: usd('40'),
          memo: hashOf('invoice 1'),
        },
      },
    ])
    expect(moduleExecutions(receipt, agent.safe).map((event) => event.args)).toEqual([{ module }, { module }])
    expect(await balanceOf(fx, fx.usd, agent.safe)).toBe(usd('960'))
    expect(await balanceOf(fx, ETH, agent.safe)).toBe(safeEth)
    const { timestamp } = await fx.publicClient.getBlock({ blockNumber: receipt.blockNumber })
    expect(await spentOf(fx, agent.safe, fx.usd)).toEqual({ amount: usd('40'), periodStart: timestamp })
    expect(await agentOf(fx, agent.safe)).toMatchObject({ nonce: 1n })
  })

  test('behavior: pays ETH with the payment’s value', async () => {
    const before = await balanceOf(fx, ETH, providerWallet.address)
    await sendAsAgent(fx, relayer, agentKey, agent.safe, [pay(plainProviderId, parseEther('0.4'), ETH)])
    expect(await balanceOf(fx, ETH, providerWallet.address)).toBe(before + parseEther('0.4'))
    expect(await balanceOf(fx, ETH, agent.safe)).toBe(parseEther('9.6'))
  })

  test('behavior: hires another agent: creates and funds a job, the provider agent submits, the client completes', async () => {
    const deadline = (await latestTimestamp(fx)) + 3_600n
    const specHash = hashOf('translate the docs')
    const created = await sendAsAgent(fx, relayer, agentKey, agent.safe, [
      approveEconomy(usd('50')),
      economyCall(fx, 'createJob', [provider.agentId, zeroAddress, fx.usd, usd('50'), deadline, specHash]),
    ])
    const jobId = jobIdOf(agent.safe, provider.agentId, specHash)
    expect(economyEvents(fx, created).map((event) => event.eventName)).toEqual(['JobCreated'])
    expect(await spentOf(fx, agent.safe, fx.usd)).toMatchObject({ amount: usd('50') })

    await sendAsAgent(fx, relayer, providerKey, provider.safe, [
      economyCall(fx, 'submitJob', [jobId, hashOf('deliverable')]),
    ])
    expect(await readEconomy(fx, 'getJob', [jobId])).toMatchObject({ status: Status.Submitted })
    const completed = await sendAsAgent(fx, relayer, agentKey, agent.safe, [
      economyCall(fx, 'completeJob', [jobId, 90, hashOf('great')]),
    ])
    expect(economyEvents(fx, completed)[0]).toMatchObject({
      eventName: 'JobCompleted',
      args: { jobId, client: agent.safe, payee: provider.safe, payout: usd('49.5'), rating: 90 },
    })
    expect(await balanceOf(fx, fx.usd, provider.safe)).toBe(usd('49.5'))
    expect(await balanceOf(fx, fx.usd, agent.safe)).toBe(usd('950'))
    // Settling moves no new money: the budget was counted once, when it was escrowed.
    expect(await spentOf(fx, agent.safe, fx.usd)).toMatchObject({ amount: usd('50') })
  })

  test('behavior: hires in ETH, rejects the delivery and gets the budget back', async () => {
    const deadline = (await latestTimestamp(fx)) + 3_600n
    await sendAsAgent(fx, relayer, agentKey, agent.safe, [
      economyCall(
        fx,
        'createJob',
        [provider.agentId, zeroAddress, ETH, parseEther('0.5'), deadline, hashOf('eth job')],
        parseEther('0.5'),
      ),
    ])
    const jobId = jobIdOf(agent.safe, provider.agentId, hashOf('eth job'))
    expect(await balanceOf(fx, ETH, agent.safe)).toBe(parseEther('9.5'))
    await sendAsAgent(fx, relayer, providerKey, provider.safe, [
      economyCall(fx, 'submitJob', [jobId, hashOf('late work')]),
    ])
    const rejected = await sendAsAgent(fx, relayer, agentKey, agent.safe, [
      economyCall(fx, 'rejectJob', [jobId, hashOf('not what was asked')]),
    ])
    expect(economyEvents(fx, rejected).map((event) => event.eventName)).toEqual(['JobRejected'])
    expect(await readEconomy(fx, 'getJob', [jobId])).toMatchObject({ status: Status.Rejected })
    expect(await balanceOf(fx, ETH, agent.safe)).toBe(parseEther('10'))
  })

  test('behavior: refunds its expired job; the provider agent declines another', async () => {
    const now = await latestTimestamp(fx)
    await sendAsAgent(fx, relayer, agentKey, agent.safe, [
      approveEconomy(usd('30')),
      economyCall(fx, 'createJob', [
        provider.agentId,
        zeroAddress,
        fx.usd,
        usd('10'),
        now + 100n,
        hashOf('a'),
      ]),
      economyCall(fx, 'createJob', [
        provider.agentId,
        zeroAddress,
        fx.usd,
        usd('20'),
        now + 100n,
        hashOf('b'),
      ]),
    ])
    expect(await balanceOf(fx, fx.usd, agent.safe)).toBe(usd('970'))
    const declined = await sendAsAgent(fx, relayer, providerKey, provider.safe, [
      economyCall(fx, 'declineJob', [jobIdOf(agent.safe, provider.agentId, hashOf('b')), hashOf('busy')]),
    ])
    expect(economyEvents(fx, declined).map((event) => event.eventName)).toEqual(['JobDeclined'])
    expect(await balanceOf(fx, fx.usd, agent.safe)).toBe(usd('990'))

    await setNextTimestamp(fx, now + 101n)
    const expired = await sendAsAgent(fx, relayer, agentKey, agent.safe, [
      economyCall(fx, 'refundExpired', [jobIdOf(agent.safe, provider.agentId, hashOf('a'))]),
    ])
    expect(economyEvents(fx, expired)[0]).toMatchObject({
      eventName: 'JobExpired',
      args: { by: agent.safe, afterSubmission: false },
    })
    expect(await balanceOf(fx, fx.usd, agent.safe)).toBe(usd('1000'))
  })

  test('behavior: withdraws a payout it was owed', async () => {
    // A token that refuses transfers to the provider agent's Safe: its payout is owed, then withdrawn.
    const token = await deploy(fx, client, maliciousTokenAbi, maliciousTokenBytecode)
    await send(fx, client, contractCall(token, maliciousTokenAbi, 'mint', [client.address, 1_000n]))
    await send(fx, client, contractCall(token, maliciousTokenAbi, 'approve', [fx.economy, 1_000n]))
    const job = await createJob(fx, client, { providerId: provider.agentId, token, budget: 1_000n })
    await sendAsAgent(fx, relayer, providerKey, provider.safe, [
      economyCall(fx, 'submitJob', [job.jobId, hashOf('work')]),
    ])
    await send(fx, client, contractCall(token, maliciousTokenAbi, 'setBehavior', [2, 0, provider.safe]))
    await send(fx, client, economyCall(fx, 'completeJob', [job.jobId, 80, zeroHash]))
    expect(await readEconomy(fx, 'owed', [provider.safe, token])).toBe(990n)

    await send(fx, client, contractCall(token, maliciousTokenAbi, 'setBehavior', [0, 0, zeroAddress]))
    const withdrawn = await sendAsAgent(fx, relayer, providerKey, provider.safe, [
      economyCall(fx, 'withdrawOwed', [token]),
    ])
    expect(economyEvents(fx, withdrawn)).toEqual([
      { eventName: 'OwedWithdrawn', args: { recipient: provider.safe, token, amount: 990n } },
    ])
    expect(await balanceOf(fx, token, provider.safe)).toBe(990n)
  })

  test('behavior: transfers to the Safe’s owner are free and uncounted; to an allowed payee, counted', async () => {
    const ownerUsd = await balanceOf(fx, fx.usd, owner.address)
    const ownerEth = await balanceOf(fx, ETH, owner.address)
    await sendAsAgent(fx, relayer, agentKey, agent.safe, [
      // Above the per-call caps: returning money to the owner is never limited.
      contractCall(fx.usd, devUSDAbi, 'transfer', [owner.address, usd('500')]),
      { to: owner.address, value: parseEther('3'), data: '0x' },
      contractCall(fx.usd, devUSDAbi, 'transfer', [payee.address, usd('60')]),
      { to: payee.address, value: parseEther('0.25'), data: '0x' },
    ])
    expect(await balanceOf(fx, fx.usd, owner.address)).toBe(ownerUsd + usd('500'))
    expect(await balanceOf(fx, ETH, owner.address)).toBe(ownerEth + parseEther('3'))
    expect(await balanceOf(fx, fx.usd, payee.address)).toBe(usd('1000000') + usd('60'))
    expect(await balanceOf(fx, ETH, agent.safe)).toBe(parseEther('6.75'))
    expect(await spentOf(fx, agent.safe, fx.usd)).toMatchObject({ amount: usd('60') })
  })

  test('behavior: the whole batch reverts when one call is refused, with that call’s error', async () => {
    const call = await executeCall(fx, agentKey, agent.safe, [
      approveEconomy(),
      pay(plainProviderId, usd('100')),
      pay(plainProviderId, usd('100')),
      pay(plainProviderId, usd('100')),
    ])
    await expectRevert(fx, relayer, call, 'ModuleOverBudget', [agent.safe, fx.usd, usd('300'), usd('250')])
    expect(await agentOf(fx, agent.safe)).toMatchObject({ nonce: 0n })
    expect(await balanceOf(fx, fx.usd, agent.safe)).toBe(usd('1000'))
  })

  test('behavior: a call the economy refuses reverts the batch with the economy’s error', async () => {
    const call = await executeCall(fx, agentKey, agent.safe, [approveEconomy(), pay(plainProviderId, 0n)])
    await expectRevert(fx, relayer, call, 'EconomyZeroAmount')
    const missing = await executeCall(fx, agentKey, agent.safe, [economyCall(fx, 'withdrawOwed', [fx.usd])])
    await expectRevert(fx, relayer, missing, 'EconomyNothingOwed', [agent.safe, fx.usd])
  })

  test('behavior: budget windows are fixed: the first spend opens one, the next starts a whole period later', async () => {
    const start = (await latestTimestamp(fx)) + 10n
    const spendAt = async (at: bigint, amount: bigint) => {
      await setNextTimestamp(fx, at)
      return sendAsAgent(fx, relayer, agentKey, agent.safe, [
        approveEconomy(amount),
        pay(plainProviderId, amount),
      ])
    }
    await spendAt(start, usd('100'))
    await spendAt(start + 1_000n, usd('100'))
    expect(await spentOf(fx, agent.safe, fx.usd)).toEqual({ amount: usd('200'), periodStart: start })
    // One second before the window closes, the budget is still 250.
    await setNextTimestamp(fx, start + BigInt(day) - 1n)
    await expectRevert(
      fx,
      relayer,
      await executeCall(fx, agentKey, agent.safe, [approveEconomy(), pay(plainProviderId, usd('51'))]),
      'ModuleOverBudget',
      [agent.safe, fx.usd, usd('251'), usd('250')],
    )
    await spendAt(start + BigInt(day) - 1n, usd('50'))
    // Two and a half periods later: the open window started two whole periods after the first.
    await spendAt(start + (5n * BigInt(day)) / 2n, usd('100'))
    expect(await spentOf(fx, agent.safe, fx.usd)).toEqual({
      amount: usd('100'),
      periodStart: start + 2n * BigInt(day),
    })
  })
})

describe('owner', () => {
  test('default: lowers the cap through the Safe; a payment above it is refused in the next block', async () => {
    const change = policyChange({
      setLimits: [{ token: fx.usd, perCall: usd('10'), perPeriod: usd('250'), period: day }],
    })
    const receipt = await ownerCallsModule(
      encodeFunctionData({ abi: agentModuleAbi, functionName: 'configure', args: [change] }),
    )
    expect(moduleEvents(fx, receipt)).toEqual([
      {
        eventName: 'LimitSet',
        args: { safe: agent.safe, token: fx.usd, perCall: usd('10'), perPeriod: usd('250'), period: day },
      },
    ])
    await expectRevert(
      fx,
      relayer,
      await executeCall(fx, agentKey, agent.safe, [approveEconomy(), pay(plainProviderId, usd('11'))]),
      'ModuleOverCallCap',
      [agent.safe, fx.usd, usd('11'), usd('10')],
    )
    await sendAsAgent(fx, relayer, agentKey, agent.safe, [approveEconomy(), pay(plainProviderId, usd('10'))])
  })

  test('behavior: a policy change keeps what was spent in the open window', async () => {
    await sendAsAgent(fx, relayer, agentKey, agent.safe, [approveEconomy(), pay(plainProviderId, usd('100'))])
    const window = await spentOf(fx, agent.safe, fx.usd)
    await ownerSets(fx, agent.safe, owner, {
      configure: policyChange({
        setLimits: [{ token: fx.usd, perCall: usd('100'), perPeriod: usd('120'), period: 7 * day }],
      }),
    })
    expect(await spentOf(fx, agent.safe, fx.usd)).toEqual(window)
    await expectRevert(
      fx,
      relayer,
      await executeCall(fx, agentKey, agent.safe, [pay(plainProviderId, usd('21'))]),
      'ModuleOverBudget',
      [agent.safe, fx.usd, usd('121'), usd('120')],
    )
  })

  test('behavior: pauses and resumes the agent', async () => {
    const signed = await executeCall(fx, agentKey, agent.safe, [
      approveEconomy(),
      pay(plainProviderId, usd('1')),
    ])
    const paused = await ownerCallsModule(
      encodeFunctionData({ abi: agentModuleAbi, functionName: 'setPaused', args: [true] }),
    )
    expect(moduleEvents(fx, paused)).toEqual([
      { eventName: 'PausedSet', args: { safe: agent.safe, paused: true } },
    ])
    expect(await agentOf(fx, agent.safe)).toMatchObject({ paused: true })
    await expectRevert(fx, relayer, signed, 'ModulePaused', [agent.safe])

    const resumed = await ownerSets(fx, agent.safe, owner, { setPaused: false })
    expect(moduleEvents(fx, resumed)).toEqual([
      { eventName: 'PausedSet', args: { safe: agent.safe, paused: false } },
    ])
    // What the agent signed before the pause goes through after it: the nonce did not move.
    await send(fx, relayer, signed)
    expect(await balanceOf(fx, fx.usd, agent.safe)).toBe(usd('999'))
  })

  test('behavior: rotates the agent’s key: the old key is refused at once, the new one continues the nonces', async () => {
    await sendAsAgent(fx, relayer, agentKey, agent.safe, [approveEconomy()])
    const oldSigned = await executeCall(fx, agentKey, agent.safe, [pay(plainProviderId, usd('1'))])
    const newKey = privateKeyToAccount(hashOf('rotated agent key'))
    const rotated = await ownerCallsModule(
      encodeFunctionData({ abi: agentModuleAbi, functionName: 'setAgentKey', args: [newKey.address] }),
    )
    expect(moduleEvents(fx, rotated)).toEqual([
      { eventName: 'AgentKeySet', args: { safe: agent.safe, key: newKey.address } },
    ])
    expect(await agentOf(fx, agent.safe)).toMatchObject({ key: newKey.address, nonce: 1n })
    await expectRevert(fx, relayer, oldSigned, 'ModuleInvalidSignature', [agent.safe, agentKey.address])
    await sendAsAgent(fx, relayer, newKey, agent.safe, [pay(plainProviderId, usd('1'))])
    expect(await agentOf(fx, agent.safe)).toMatchObject({ nonce: 2n })
  })

  test('behavior: revokes the agent’s key: nothing the agent signs goes through', async () => {
    const signed = await executeCall(fx, agentKey, agent.safe, [approveEconomy()])
    const revoked = await ownerSets(fx, agent.safe, owner, { setAgentKey: zeroAddress })
    expect(moduleEvents(fx, revoked)).toEqual([
      { eventName: 'AgentKeySet', args: { safe: agent.safe, key: zeroAddress } },
    ])
    await expectRevert(fx, relayer, signed, 'ModuleNoAgent', [agent.safe])
    // The owner still controls the Safe in full.
    await ownerSets(fx, agent.safe, owner, { setAgentKey: agentKey.address })
    await send(fx, relayer, signed)
  })

  test('behavior: restricts counterparties, allows agents and payees, removes a limit; each has its event', async () => {
    const receipt = await ownerSets(fx, agent.safe, owner, {
      configure: policyChange({
        removeLimits: [ETH],
        allowAgents: [provider.agentId],
        disallowPayees: [payee.address],
        allowPayees: [providerWallet.address],
        restricted: true,
      }),
    })
    expect(moduleEvents(fx, receipt)).toEqual([
      { eventName: 'LimitRemoved', args: { safe: agent.safe, token: ETH } },
      { eventName: 'AgentAllowedSet', args: { safe: agent.safe, agentId: provider.agentId, allowed: true } },
      { eventName: 'PayeeAllowedSet', args: { safe: agent.safe, payee: payee.address, allowed: false } },
      {
        eventName: 'PayeeAllowedSet',
        args: { safe: agent.safe, payee: providerWallet.address, allowed: true },
      },
      { eventName: 'RestrictedSet', args: { safe: agent.safe, restricted: true } },
    ])
    expect(await readModule.limitOf(ETH)).toMatchObject({ enabled: false })

    // The allowed agent by id; the plain provider because its payment address is an allowed payee.
    await sendAsAgent(fx, relayer, agentKey, agent.safe, [
      approveEconomy(),
      pay(provider.agentId, usd('1')),
      pay(plainProviderId, usd('1')),
    ])
    const someoneElse = await registerAgent(fx, stranger)
    await expectRevert(
      fx,
      relayer,
      await executeCall(fx, agentKey, agent.safe, [pay(someoneElse, usd('1'))]),
      'ModuleCounterpartyNotAllowed',
      [agent.safe, someoneElse],
    )
    await expectRevert(
      fx,
      relayer,
      await executeCall(fx, agentKey, agent.safe, [pay(provider.agentId, 1n, ETH)]),
      'ModuleTokenNotAllowed',
      [agent.safe, ETH],
    )
    await expectRevert(
      fx,
      relayer,
      await executeCall(fx, agentKey, agent.safe, [
        contractCall(fx.usd, devUSDAbi, 'transfer', [payee.address, 1n]),
      ]),
      'ModulePayeeNotAllowed',
      [agent.safe, payee.address],
    )

    // Disallowing the agent again and lifting the restriction: one event each.
    const lifted = await ownerSets(fx, agent.safe, owner, {
      configure: policyChange({ disallowAgents: [provider.agentId] }),
    })
    expect(moduleEvents(fx, lifted)).toEqual([
      { eventName: 'AgentAllowedSet', args: { safe: agent.safe, agentId: provider.agentId, allowed: false } },
      { eventName: 'RestrictedSet', args: { safe: agent.safe, restricted: false } },
    ])
    await sendAsAgent(fx, relayer, agentKey, agent.safe, [pay(someoneElse, usd('1'))])
  })

  test('behavior: the owner’s own transactions do not disturb the agent’s nonces', async () => {
    const signed = await executeCall(fx, agentKey, agent.safe, [approveEconomy()])
    const kit = await safeKit(owner, agent.safe)
    for (const amount of ['1', '2']) {
      const tx = await kit.createTransaction({
        transactions: [
          {
            to: fx.usd,
            value: '0',
            data: encodeFunctionData({
              abi: devUSDAbi,
              functionName: 'transfer',
              args: [stranger.address, usd(amount)],
            }),
          },
        ],
      })
      const result = await kit.executeTransaction(await kit.signTransaction(tx))
      await fx.publicClient.waitForTransactionReceipt({ hash: result.hash as Hex })
    }
    expect(await balanceOf(fx, fx.usd, agent.safe)).toBe(usd('997'))
    await send(fx, relayer, signed)
    expect(await agentOf(fx, agent.safe)).toMatchObject({ nonce: 1n })
  })

  test('behavior: disabling the module stops the agent: the Safe refuses it (GS104)', async () => {
    const signed = await executeCall(fx, agentKey, agent.safe, [approveEconomy()])
    const kit = await safeKit(owner, agent.safe)
    const disable = await kit.createDisableModuleTx(module)
    const result = await kit.executeTransaction(await kit.signTransaction(disable))
    await fx.publicClient.waitForTransactionReceipt({ hash: result.hash as Hex })
    expect(await kit.getModules()).toEqual([])
    expect(await simulatedRevert(fx, relayer, signed)).toEqual({ errorName: 'Error', args: ['GS104'] })
    // The module still holds the agent's record: enabling the module again resumes it.
    const enable = await kit.createEnableModuleTx(module)
    await fx.publicClient.waitForTransactionReceipt({
      hash: (await kit.executeTransaction(await kit.signTransaction(enable))).hash as Hex,
    })
    await send(fx, relayer, signed)
  })

  test('error: ModuleInvalidLimit for a limit on the Safe itself, the module or the economy', async () => {
    for (const token of [agent.safe, module, fx.economy]) {
      const change = policyChange({ setLimits: [{ token, perCall: 1n, perPeriod: 0n, period: 0 }] })
      // As the Safe would call it (its own `execTransaction` reports only that the call failed).
      const refused = await revertOf(
        fx.publicClient.simulateContract({
          address: module,
          abi: agentModuleAbi,
          functionName: 'configure',
          args: [change],
          account: agent.safe,
        }),
      )
      expect(refused).toEqual({ name: 'ModuleInvalidLimit', args: [agent.safe, token] })
    }
    // Through the Safe, the owner's transaction fails (Safe reports GS013) and nothing changes.
    const change = policyChange({ setLimits: [{ token: fx.economy, perCall: 1n, perPeriod: 0n, period: 0 }] })
    const call = contractCall(module, agentModuleAbi, 'configure', [change])
    const safeCall = await safeTransactionCall(fx, agent.safe, owner, call)
    expect(
      await revertOf(fx.publicClient.simulateContract({ ...safeCall, account: owner } as never)),
    ).toEqual({
      name: 'Error',
      args: ['GS013'],
    })
    expect(await readModule.limitOf(fx.economy)).toMatchObject({ enabled: false })
  })

  test('behavior: the owners’ functions act on the calling Safe’s own record only', async () => {
    // Anyone may call them, but only for itself: a stranger changes nothing of the agent's.
    const module_ = { address: module, abi: agentModuleAbi } as const
    await send(fx, stranger, contractCall(module, agentModuleAbi, 'setPaused', [true]))
    await send(fx, stranger, contractCall(module, agentModuleAbi, 'setAgentKey', [stranger.address]))
    await send(
      fx,
      stranger,
      contractCall(module, agentModuleAbi, 'configure', [
        policyChange({ removeLimits: [fx.usd], restricted: true }),
      ]),
    )
    expect(await agentOf(fx, agent.safe)).toEqual({
      key: agentKey.address,
      nonce: 0n,
      paused: false,
      restricted: false,
    })
    expect(await readModule.limitOf(fx.usd)).toMatchObject({ enabled: true })
    expect(
      await fx.publicClient.readContract({ ...module_, functionName: 'agentOf', args: [stranger.address] }),
    ).toEqual({ key: stranger.address, nonce: 0n, paused: true, restricted: true })
    await sendAsAgent(fx, relayer, agentKey, agent.safe, [approveEconomy(), pay(plainProviderId, usd('1'))])
  })
})
