/**
 * A thief holds an agent's key. It acts directly against the chain: it signs `Execute` messages
 * itself and sends `execute` from its own funded account. Everything it tries beyond the agent's
 * policy reverts with the module's own custom error (decoded and checked with its arguments), both
 * when simulated and when mined, and leaves every balance as it was (the Safe's, the thief's but for
 * its gas, the economy's, the other parties') in dUSD, ETH and a token the policy does not name.
 */
import {
  type Address,
  encodeFunctionData,
  encodePacked,
  type Hex,
  type LocalAccount,
  maxUint256,
  parseEther,
  parseUnits,
  recoverAddress,
  size,
  zeroAddress,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { beforeAll, describe, expect, test } from 'vitest'
import { agentIdentityRegistryAbi } from '../src/generated/AgentIdentityRegistry.ts'
import { agentModuleAbi } from '../src/generated/AgentModule.ts'
import { devUSDAbi } from '../src/generated/DevUSD.ts'
import { maliciousTokenAbi, maliciousTokenBytecode } from '../src/generated/MaliciousToken.ts'
import { multiSendAbi } from '../src/generated/MultiSend.ts'
import { multiSendCallOnlyAbi } from '../src/generated/MultiSendCallOnly.ts'
import { reentrantReceiverAbi, reentrantReceiverBytecode } from '../src/generated/ReentrantReceiver.ts'
import { safeAbi } from '../src/generated/Safe.ts'
import { type ModuleCall, moduleCall, policyChange, unlimitedPolicy } from './agent-module-calls.ts'
import {
  agentOf,
  type ExecuteOptions,
  executeCall,
  moduleOf,
  ownerSets,
  sendAsAgent,
  spentOf,
  toModuleCall,
} from './agent-module-fixture.ts'
import {
  balanceOf,
  type Call,
  contractCall,
  deploy,
  type EconomyFixture,
  ETH,
  economyCall,
  expectRevert,
  gasCost,
  hashOf,
  isolateEachTest,
  type KnownErrorName,
  latestTimestamp,
  launchAgent,
  registerAgent,
  safeTransactionCall,
  send,
  sendReverting,
  startEconomyFixture,
} from './economy-fixture.ts'

const usd = (amount: string) => parseUnits(amount, 6)
const day = 86_400
const cap = usd('100')
const budget = usd('300')
const ethCap = parseEther('0.5')
const ethBudget = parseEther('1')
const sentinel = '0x0000000000000000000000000000000000000001'

let fx: EconomyFixture
let owner: LocalAccount
let thief: LocalAccount
let stranger: LocalAccount
let payee: LocalAccount
let providerWallet: LocalAccount
/** The stolen key. */
const agentKey = privateKeyToAccount(hashOf('thief test: the agent key'))
let module: Address
let safe: Address
/** Another Safe of the same owner whose agent uses the same key. */
let otherSafe: Address
/** The one counterparty the restricted policy allows. */
let providerId: bigint
/** An agent the thief registered, paid at the thief's own address. */
let thiefAgentId: bigint
/** A contract the thief controls. */
let thiefContract: Address
/** A token in the Safe that its policy does not name. */
let unlisted: Address
let tracked: Address[]
let tokens: Address[]

beforeAll(async () => {
  fx = await startEconomyFixture()
  let providerOwner: LocalAccount
  ;[, owner, thief, stranger, payee, providerOwner, providerWallet] = fx.accounts
  module = moduleOf(fx)
  providerId = await registerAgent(fx, providerOwner, providerWallet)
  thiefAgentId = await registerAgent(fx, thief)
  thiefContract = await deploy(fx, thief, reentrantReceiverAbi, reentrantReceiverBytecode)
  ;({ safe } = await launchAgent(fx, owner, {
    agentKey: agentKey.address,
    policy: policyChange({
      setLimits: [
        { token: fx.usd, perCall: cap, perPeriod: budget, period: day },
        { token: ETH, perCall: ethCap, perPeriod: ethBudget, period: day },
      ],
      allowAgents: [providerId],
      allowPayees: [payee.address],
      restricted: true,
    }),
  }))
  ;({ safe: otherSafe } = await launchAgent(fx, owner, {
    agentKey: agentKey.address,
    policy: unlimitedPolicy([fx.usd, ETH]),
    salt: 'second agent, same key',
  }))
  unlisted = await deploy(fx, owner, maliciousTokenAbi, maliciousTokenBytecode)
  for (const wallet of [safe, otherSafe]) {
    await send(fx, owner, contractCall(fx.usd, devUSDAbi, 'transfer', [wallet, usd('1000')]))
    await send(fx, owner, contractCall(unlisted, maliciousTokenAbi, 'mint', [wallet, 1_000n]))
    await fx.testClient.setBalance({ address: wallet, value: parseEther('10') })
  }
  // Before the key was stolen, each agent had approved the economy (as it does to pay in dUSD): the
  // next nonce of both Safes is 1.
  for (const wallet of [safe, otherSafe])
    await sendAsAgent(fx, owner, agentKey, wallet, [
      contractCall(fx.usd, devUSDAbi, 'approve', [fx.economy, maxUint256]),
    ])
  tokens = [fx.usd, ETH, unlisted]
  tracked = [safe, otherSafe, thief.address, fx.economy, payee.address, providerWallet.address, thiefContract]
})

isolateEachTest(() => fx)

async function balances(): Promise<Map<string, bigint>> {
  const entries = await Promise.all(
    tracked.flatMap((who) =>
      tokens.map(async (token) => [`${who}:${token}`, await balanceOf(fx, token, who)] as const),
    ),
  )
  return new Map(entries)
}

/**
 * The thief sends `call` itself: it must revert with `error(...args)` (simulated and decoded), and
 * once mined (reverted) every balance is as before, the thief's ETH short of its gas only, and the
 * agent's nonce and window are unchanged.
 */
async function refused(call: Call, error: KnownErrorName, args: readonly unknown[] = []) {
  const before = await balances()
  const agentBefore = await agentOf(fx, safe)
  const spentBefore = await spentOf(fx, safe, fx.usd)
  await expectRevert(fx, thief, call, error, args)
  const receipt = await sendReverting(fx, thief, call)
  const expected = new Map(before)
  expected.set(`${thief.address}:${ETH}`, before.get(`${thief.address}:${ETH}`)! - gasCost(receipt))
  expect(await balances()).toEqual(expected)
  expect(await agentOf(fx, safe)).toEqual(agentBefore)
  expect((await spentOf(fx, safe, fx.usd)).amount).toBe(spentBefore.amount)
}

/** The thief signs `calls` with the stolen key for the agent's Safe (or as `options` say) and sends them. */
async function thiefTries(
  calls: readonly (Call | ModuleCall)[],
  error: KnownErrorName,
  args: readonly unknown[] = [],
  options: ExecuteOptions = {},
) {
  await refused(await executeCall(fx, agentKey, safe, calls, options), error, args)
}

const pay = (agentId: bigint, amount: bigint, token: Address = fx.usd) =>
  economyCall(fx, 'pay', [agentId, token, amount, hashOf('loot')], token === ETH ? amount : 0n)
const hire = async (agentId: bigint, amount: bigint, token: Address = fx.usd) =>
  economyCall(
    fx,
    'createJob',
    [agentId, zeroAddress, token, amount, (await latestTimestamp(fx)) + 3_600n, hashOf('job')],
    token === ETH ? amount : 0n,
  )
const selectorOf = (call: Call | ModuleCall) => ('abi' in call ? toModuleCall(call) : call).data.slice(0, 10)

describe('spending limits', () => {
  test('default: paying or hiring over the per-call cap is refused', async () => {
    await thiefTries([pay(providerId, cap + 1n)], 'ModuleOverCallCap', [safe, fx.usd, cap + 1n, cap])
    await thiefTries([await hire(providerId, usd('1000'))], 'ModuleOverCallCap', [
      safe,
      fx.usd,
      usd('1000'),
      cap,
    ])
    await thiefTries([pay(providerId, ethCap + 1n, ETH)], 'ModuleOverCallCap', [
      safe,
      ETH,
      ethCap + 1n,
      ethCap,
    ])
  })

  test('behavior: many small payments stop at the period’s budget', async () => {
    // Ten payments of 10 dUSD per transaction, three transactions: the whole budget, spent legitimately.
    for (let batch = 0; batch < 3; batch++)
      await sendAsAgent(
        fx,
        thief,
        agentKey,
        safe,
        Array.from({ length: 10 }, () => pay(providerId, usd('10'))),
      )
    expect(await spentOf(fx, safe, fx.usd)).toMatchObject({ amount: budget })
    expect(await balanceOf(fx, fx.usd, safe)).toBe(usd('700'))
    await thiefTries([pay(providerId, 1n)], 'ModuleOverBudget', [safe, fx.usd, budget + 1n, budget])
    // Nor through a job, nor in ETH beyond its own budget in one batch of small payments.
    await thiefTries([await hire(providerId, 1n)], 'ModuleOverBudget', [safe, fx.usd, budget + 1n, budget])
    const ethPayments = Array.from({ length: 5 }, () => pay(providerId, parseEther('0.25'), ETH))
    await thiefTries(ethPayments, 'ModuleOverBudget', [safe, ETH, parseEther('1.25'), ethBudget])
  })

  test('behavior: paying or hiring a counterparty the restricted policy does not allow is refused', async () => {
    await thiefTries([pay(thiefAgentId, 1n)], 'ModuleCounterpartyNotAllowed', [safe, thiefAgentId])
    await thiefTries([await hire(thiefAgentId, 1n)], 'ModuleCounterpartyNotAllowed', [safe, thiefAgentId])
    await thiefTries([pay(thiefAgentId, 1n, ETH)], 'ModuleCounterpartyNotAllowed', [safe, thiefAgentId])
  })

  test('behavior: a token without a limit cannot be spent, moved or approved', async () => {
    await thiefTries([pay(providerId, 1n, unlisted)], 'ModuleTokenNotAllowed', [safe, unlisted])
    const transfer = contractCall(unlisted, maliciousTokenAbi, 'transfer', [thief.address, 1_000n])
    await thiefTries([transfer], 'ModuleCallNotAllowed', [safe, unlisted, selectorOf(transfer)])
    const approve = contractCall(unlisted, maliciousTokenAbi, 'approve', [fx.economy, 1_000n])
    await thiefTries([approve], 'ModuleCallNotAllowed', [safe, unlisted, selectorOf(approve)])
  })

  test('behavior: value cannot ride along with a call', async () => {
    await thiefTries([{ ...pay(providerId, 1n), value: 1n }], 'ModuleValueMismatch', [safe, 1n, 1n])
    await thiefTries([{ ...pay(providerId, 1n, ETH), value: 0n }], 'ModuleValueMismatch', [safe, 1n, 0n])
    await thiefTries([{ ...pay(providerId, 1n, ETH), value: parseEther('5') }], 'ModuleValueMismatch', [
      safe,
      1n,
      parseEther('5'),
    ])
    const approve = contractCall(fx.usd, devUSDAbi, 'approve', [fx.economy, 1n], 1n)
    await thiefTries([approve], 'ModuleValueNotAllowed', [safe, fx.usd, 1n])
    const submit = economyCall(fx, 'submitJob', [1n, hashOf('x')], parseEther('1'))
    await thiefTries([submit], 'ModuleValueNotAllowed', [safe, fx.economy, parseEther('1')])
  })
})

describe('taking the money', () => {
  test('default: transferring tokens or sending ETH to itself is refused', async () => {
    await thiefTries(
      [contractCall(fx.usd, devUSDAbi, 'transfer', [thief.address, 1n])],
      'ModulePayeeNotAllowed',
      [safe, thief.address],
    )
    await thiefTries([{ to: thief.address, value: parseEther('1'), data: '0x' }], 'ModulePayeeNotAllowed', [
      safe,
      thief.address,
    ])
    await thiefTries([{ to: thiefContract, value: 1n, data: '0x' }], 'ModulePayeeNotAllowed', [
      safe,
      thiefContract,
    ])
  })

  test('behavior: approving anyone but the economy, or pulling with transferFrom, is refused', async () => {
    for (const spender of [thief.address, stranger.address, thiefContract])
      await thiefTries(
        [contractCall(fx.usd, devUSDAbi, 'approve', [spender, maxUint256])],
        'ModuleSpenderNotAllowed',
        [safe, fx.usd, spender],
      )
    const pull = contractCall(fx.usd, devUSDAbi, 'transferFrom', [safe, thief.address, 1n])
    await thiefTries([pull], 'ModuleCallNotAllowed', [safe, fx.usd, selectorOf(pull)])
  })

  test('behavior: calling an arbitrary contract is refused', async () => {
    const calls: Call[] = [
      contractCall(thiefContract, reentrantReceiverAbi, 'execute', [fx.usd, '0x']),
      contractCall(fx.registry, agentIdentityRegistryAbi, 'register', ['ipfs://loot']),
      economyCall(fx, 'withdrawFees', [fx.usd, thief.address]),
      economyCall(fx, 'setMinJobValue', [fx.usd, 0n]),
      economyCall(fx, 'transferOwnership', [thief.address]),
    ]
    for (const call of calls)
      await thiefTries([call], 'ModuleCallNotAllowed', [safe, call.address, selectorOf(call)])
    // Calldata too short for a selector is refused as a call, not sent as a plain transfer.
    await thiefTries([{ to: fx.usd, value: 0n, data: '0x123456' }], 'ModuleCallNotAllowed', [
      safe,
      fx.usd,
      '0x00000000',
    ])
  })

  test('behavior: no call to the Safe itself: owners, modules, threshold, handler, guard, transactions', async () => {
    const safeTx = [fx.usd, 0n, '0x', 0, 0n, 0n, 0n, zeroAddress, zeroAddress] as const
    const calls = [
      contractCall(safe, safeAbi, 'addOwnerWithThreshold', [thief.address, 1n]),
      contractCall(safe, safeAbi, 'swapOwner', [sentinel, owner.address, thief.address]),
      contractCall(safe, safeAbi, 'enableModule', [thiefContract]),
      contractCall(safe, safeAbi, 'disableModule', [sentinel, module]),
      contractCall(safe, safeAbi, 'changeThreshold', [1n]),
      contractCall(safe, safeAbi, 'setFallbackHandler', [thiefContract]),
      contractCall(safe, safeAbi, 'setGuard', [thiefContract]),
      contractCall(safe, safeAbi, 'execTransaction', [...safeTx, await thief.sign!({ hash: hashOf('tx') })]),
      contractCall(safe, safeAbi, 'approveHash', [hashOf('tx')]),
    ]
    for (const call of calls) await thiefTries([call], 'ModuleCallNotAllowed', [safe, safe, selectorOf(call)])
  })

  test('behavior: no call to the module: the agent cannot change its own policy', async () => {
    const calls = [
      contractCall(module, agentModuleAbi, 'setAgentKey', [thief.address]),
      contractCall(module, agentModuleAbi, 'configure', [unlimitedPolicy([fx.usd, ETH, unlisted])]),
      contractCall(module, agentModuleAbi, 'setPaused', [false]),
      contractCall(module, agentModuleAbi, 'initialize', [thief.address, unlimitedPolicy([fx.usd])]),
    ]
    for (const call of calls)
      await thiefTries([call], 'ModuleCallNotAllowed', [safe, module, selectorOf(call)])
  })

  test('behavior: no delegatecall: `execute` has no operation, and a MultiSend batch is refused', async () => {
    const call = agentModuleAbi.find((item) => item.type === 'function' && item.name === 'execute')!
    expect(call.inputs[2]!.components.map((component) => component.name)).toEqual(['to', 'value', 'data'])
    // What the thief would have the Safe delegatecall: a batch transferring everything to itself.
    const transfer = encodeFunctionData({
      abi: devUSDAbi,
      functionName: 'transfer',
      args: [thief.address, usd('1000')],
    })
    const transactions = encodePacked(
      ['uint8', 'address', 'uint256', 'uint256', 'bytes'],
      [0, fx.usd, 0n, BigInt(size(transfer)), transfer],
    )
    const { multiSendCallOnly, multiSend } = fx.devnet.manifest.safe
    await thiefTries(
      [moduleCall(multiSendCallOnly, multiSendCallOnlyAbi, 'multiSend', [transactions])],
      'ModuleCallNotAllowed',
      [safe, multiSendCallOnly, '0x8d80ff0a'],
    )
    await thiefTries(
      [moduleCall(multiSend, multiSendAbi, 'multiSend', [transactions])],
      'ModuleCallNotAllowed',
      [safe, multiSend, '0x8d80ff0a'],
    )
  })
})

describe('signatures', () => {
  test('default: an old signed call cannot be replayed', async () => {
    const call = await executeCall(fx, agentKey, safe, [pay(providerId, usd('1'))])
    await send(fx, thief, call)
    await refused(call, 'ModuleBadNonce', [safe, 2n, 1n])
    // Nor can a call be signed ahead for a later nonce and sent now.
    await thiefTries([pay(providerId, 1n)], 'ModuleBadNonce', [safe, 2n, 5n], { nonce: 5n })
  })

  test('behavior: a call signed for another Safe of the same key is refused', async () => {
    const calls = [pay(providerId, usd('1'))]
    const signedForOther = await executeCall(fx, agentKey, otherSafe, calls)
    // The same signature, submitted for the agent's Safe (same nonce, same calls).
    const [, nonce, batch, signature] = signedForOther.args as [Address, bigint, ModuleCall[], Hex]
    const replayed = contractCall(module, agentModuleAbi, 'execute', [safe, nonce, batch, signature])
    await refused(replayed, 'ModuleInvalidSignature', [safe, await signerSeen(safe, nonce, batch, signature)])
    // And the other way round: the other Safe's unlimited policy is not the agent's.
    await thiefTries(
      calls,
      'ModuleInvalidSignature',
      [safe, await signerFor({ signedFor: otherSafe }, calls)],
      {
        signedFor: otherSafe,
      },
    )
  })

  test('behavior: a call signed for another chain or another module is refused', async () => {
    const calls = [pay(providerId, usd('1'))]
    for (const options of [{ chainId: 1 }, { chainId: 8453 }, { module: fx.economy }] as ExecuteOptions[])
      await thiefTries(calls, 'ModuleInvalidSignature', [safe, await signerFor(options, calls)], options)
  })

  test('behavior: another key, or a malformed signature, is refused', async () => {
    const calls = [toModuleCall(pay(providerId, usd('1')))]
    const { nonce } = await agentOf(fx, safe)
    const digest = await fx.publicClient.readContract({
      address: module,
      abi: agentModuleAbi,
      functionName: 'executeDigest',
      args: [safe, nonce, calls],
    })
    const execute = (signature: Hex) =>
      contractCall(module, agentModuleAbi, 'execute', [safe, nonce, calls, signature])
    await refused(execute(await thief.sign!({ hash: digest })), 'ModuleInvalidSignature', [
      safe,
      thief.address,
    ])
    await refused(execute('0x'), 'ModuleInvalidSignature', [safe, zeroAddress])
    // The same signature with s mirrored into the upper half (malleability) is refused.
    const signature = await agentKey.sign({ hash: digest })
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
    const s = BigInt(`0x${signature.slice(66, 130)}`)
    const v = Number.parseInt(signature.slice(130), 16)
    const mirrored =
      `${signature.slice(0, 66)}${(n - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}` as Hex
    await refused(execute(mirrored), 'ModuleInvalidSignature', [safe, zeroAddress])
    await refused(
      contractCall(module, agentModuleAbi, 'execute', [safe, nonce, [], signature]),
      'ModuleNoCalls',
    )
  })
})

describe('after the owner acts', () => {
  test('default: nothing can be spent once the owner pauses the agent', async () => {
    await ownerSets(fx, safe, owner, { setPaused: true })
    await thiefTries([pay(providerId, 1n)], 'ModulePaused', [safe])
    await thiefTries([{ to: payee.address, value: 1n, data: '0x' }], 'ModulePaused', [safe])
  })

  test('behavior: nothing can be spent with the old key once the owner rotates it', async () => {
    const signedBefore = await executeCall(fx, agentKey, safe, [pay(providerId, 1n)])
    await ownerSets(fx, safe, owner, { setAgentKey: privateKeyToAccount(hashOf('fresh key')).address })
    await refused(signedBefore, 'ModuleInvalidSignature', [safe, agentKey.address])
    await thiefTries([pay(providerId, 1n)], 'ModuleInvalidSignature', [safe, agentKey.address])
  })

  test('behavior: nothing can be spent once the owner revokes the key', async () => {
    await ownerSets(fx, safe, owner, { setAgentKey: zeroAddress })
    await thiefTries([pay(providerId, 1n)], 'ModuleNoAgent', [safe])
    // Not even with an unsigned call (a revoked key is no key, not the zero address's).
    await refused(contractCall(module, agentModuleAbi, 'execute', [safe, 0n, [], '0x']), 'ModuleNoAgent', [
      safe,
    ])
  })

  test('behavior: the owner still takes everything out through the Safe', async () => {
    await ownerSets(fx, safe, owner, { setPaused: true })
    const before = await balanceOf(fx, fx.usd, owner.address)
    const withdrawal = contractCall(fx.usd, devUSDAbi, 'transfer', [owner.address, usd('1000')])
    const receipt = await send(fx, owner, await safeTransactionCall(fx, safe, owner, withdrawal))
    expect(receipt.status).toBe('success')
    expect(await balanceOf(fx, fx.usd, owner.address)).toBe(before + usd('1000'))
    expect(await balanceOf(fx, fx.usd, safe)).toBe(0n)
  })
})

/** The address the module recovers from `signature` over its own digest of (safe, nonce, calls). */
async function signerSeen(forSafe: Address, nonce: bigint, calls: readonly ModuleCall[], signature: Hex) {
  const hash = await fx.publicClient.readContract({
    address: module,
    abi: agentModuleAbi,
    functionName: 'executeDigest',
    args: [forSafe, nonce, calls],
  })
  return recoverAddress({ hash, signature })
}

/** What the module recovers when the thief signs `calls` as `options` say and submits for the Safe. */
async function signerFor(options: ExecuteOptions, calls: readonly Call[]) {
  const call = await executeCall(fx, agentKey, safe, calls, options)
  const [, nonce, batch, signature] = call.args as [Address, bigint, ModuleCall[], Hex]
  const seen = await signerSeen(safe, nonce, batch, signature)
  expect(seen).not.toBe(agentKey.address)
  return seen
}
