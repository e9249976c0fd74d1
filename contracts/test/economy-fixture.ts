/**
 * Shared harness of the economy suites: a devnet with the economy deployed, typed call builders, a
 * sender that checks receipts, revert decoding, agent registration and a controllable clock.
 */
import {
  type Abi,
  type Address,
  BaseError,
  type ContractErrorName,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type ContractFunctionReturnType,
  ContractFunctionRevertedError,
  createPublicClient,
  createTestClient,
  createWalletClient,
  encodeFunctionData,
  getAddress,
  type Hex,
  http,
  keccak256,
  type LocalAccount,
  maxUint256,
  parseEventLogs,
  stringToHex,
  type TransactionReceipt,
  zeroAddress,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, afterEach, beforeEach, expect } from 'vitest'
import { type Devnet, type StartDevnetParameters, startDevnet } from '../src/devnet.ts'
import { agentEconomyAbi } from '../src/generated/AgentEconomy.ts'
import { agentFactoryAbi } from '../src/generated/AgentFactory.ts'
import { agentIdentityRegistryAbi } from '../src/generated/AgentIdentityRegistry.ts'
import { agentModuleAbi } from '../src/generated/AgentModule.ts'
import { devUSDAbi } from '../src/generated/DevUSD.ts'
import { maliciousTokenAbi } from '../src/generated/MaliciousToken.ts'
import { reentrantReceiverAbi, reentrantReceiverBytecode } from '../src/generated/ReentrantReceiver.ts'
import { safeAbi } from '../src/generated/Safe.ts'
import { jobStatuses } from '../src/index.ts'
import { jobIdOf } from '../src/job-id.ts'
import { type PolicyChange, unlimitedPolicy } from './agent-module-calls.ts'

export { jobIdOf }

/** The economy's token for ETH. */
export const ETH: Address = zeroAddress

/** The economy's `JobStatus` enum values, by name. */
export const Status = Object.fromEntries(jobStatuses.map((name, i) => [name, i])) as {
  [K in (typeof jobStatuses)[number]]: number
}

export const uint96Max = 2n ** 96n - 1n
export const uint88Max = 2n ** 88n - 1n
export const uint48Max = 2n ** 48n - 1n
export const uint40Max = 2n ** 40n - 1n
export const maxJobDuration = 365n * 86_400n

/** Generous fixed gas for transactions that are expected to revert (estimation would refuse them). */
const revertingGas = 1_500_000n

/** Every custom error the suites can meet, so a revert from any contract in a call decodes. */
const knownErrors = [
  ...agentEconomyAbi,
  ...agentIdentityRegistryAbi,
  ...agentModuleAbi,
  ...agentFactoryAbi,
  ...devUSDAbi,
  ...maliciousTokenAbi,
  ...reentrantReceiverAbi,
].filter((item) => item.type === 'error')

export type KnownErrorName =
  | ContractErrorName<typeof agentEconomyAbi>
  | ContractErrorName<typeof agentIdentityRegistryAbi>
  | ContractErrorName<typeof agentModuleAbi>
  | ContractErrorName<typeof agentFactoryAbi>
  | ContractErrorName<typeof devUSDAbi>
  | ContractErrorName<typeof maliciousTokenAbi>
  | ContractErrorName<typeof reentrantReceiverAbi>

/** Every economy event, as parsed from a receipt. */
export type EconomyEvent = ReturnType<typeof parseEventLogs<typeof agentEconomyAbi>>[number]

/**
 * At least eight accounts, typed so: a suite names its parties by destructuring, with no cast.
 * `startEconomyFixture` checks the devnet gave that many.
 */
export type FundedAccounts = [...Eight<LocalAccount>, ...LocalAccount[]]
type Eight<T> = [T, T, T, T, T, T, T, T]

export type EconomyFixture = {
  devnet: Devnet
  publicClient: ReturnType<typeof createPublicClient>
  walletClient: ReturnType<typeof createWalletClient>
  testClient: ReturnType<typeof createTestClient>
  /** The devnet's funded accounts; `accounts[0]` deployed everything and owns the economy. */
  accounts: FundedAccounts
  owner: LocalAccount
  economy: Address
  registry: Address
  usd: Address
  feeBps: bigint
  grace: bigint
}

/**
 * Starts a devnet and connects to its economy. Stop it with `fx.devnet.stop()`. No minimum job
 * values unless given: the suites settle tiny budgets and expect them counted (the minimum has tests
 * of its own).
 */
export async function startEconomyFixture(
  parameters: Pick<StartDevnetParameters, 'feeBps' | 'submissionGraceSeconds' | 'minJobValue'> = {},
): Promise<EconomyFixture> {
  const devnet = await startDevnet({ log: () => {}, minJobValue: { devUSD: 0n, eth: 0n }, ...parameters })
  const { manifest } = devnet
  // Batching lets the many reads of an invariant check travel in a few requests.
  const transport = http(devnet.rpcUrl, { batch: { wait: 0 } })
  const accounts = manifest.accounts.map((account) => privateKeyToAccount(account.privateKey))
  if (accounts.length < 8) throw new Error(`the devnet funded ${accounts.length} accounts; the suites need 8`)
  return {
    devnet,
    publicClient: createPublicClient({ chain: devnet.chain, transport, pollingInterval: 20 }),
    walletClient: createWalletClient({ chain: devnet.chain, transport }),
    testClient: createTestClient({ chain: devnet.chain, transport, mode: 'anvil' }),
    accounts: accounts as FundedAccounts,
    owner: accounts[0]!,
    economy: manifest.contracts.economy,
    registry: manifest.contracts.identityRegistry,
    usd: manifest.contracts.devUSD,
    feeBps: BigInt(manifest.economy.feeBps),
    grace: BigInt(manifest.economy.submissionGraceSeconds),
  }
}

// ------------------------------------------------------------------ calls

/** A state-changing call, its arguments checked against the ABI when it was built. */
/**
 * Stops the fixture's devnet after the file and starts each test from the same chain state (a
 * snapshot taken before it, reverted after it).
 */
export function isolateEachTest(fixture: () => EconomyFixture | undefined) {
  let snapshot: Hex
  afterAll(async () => {
    await fixture()?.devnet.stop()
  })
  beforeEach(async () => {
    snapshot = await fixture()!.testClient.snapshot()
  })
  afterEach(async () => {
    await fixture()!.testClient.revert({ id: snapshot })
  })
}

export type Call = {
  address: Address
  abi: Abi
  functionName: string
  args: readonly unknown[]
  value?: bigint
}

type WriteName<abi extends Abi> = ContractFunctionName<abi, 'nonpayable' | 'payable'>

/** Builds a call of `functionName` on the contract at `address`. */
export function contractCall<const abi extends Abi, name extends WriteName<abi>>(
  address: Address,
  abi: abi,
  functionName: name,
  args: ContractFunctionArgs<abi, 'nonpayable' | 'payable', name>,
  value?: bigint,
): Call {
  return { address, abi, functionName, args: args as readonly unknown[], value }
}

/** Builds a call of the economy. */
export function economyCall<name extends WriteName<typeof agentEconomyAbi>>(
  fx: EconomyFixture,
  functionName: name,
  args: ContractFunctionArgs<typeof agentEconomyAbi, 'nonpayable' | 'payable', name>,
  value?: bigint,
): Call {
  return contractCall(fx.economy, agentEconomyAbi, functionName, args, value)
}

/** Sends `call` from `account` and returns its receipt, failing the test unless it succeeded. */
export async function send(
  fx: EconomyFixture,
  account: LocalAccount,
  call: Call,
): Promise<TransactionReceipt> {
  // One cast at this boundary: `Call` was checked against its ABI when it was built.
  const hash = await fx.walletClient.writeContract({ ...call, account, chain: fx.devnet.chain } as never)
  const receipt = await fx.publicClient.waitForTransactionReceipt({ hash })
  expect(receipt.status, `${call.functionName} reverted`).toBe('success')
  return receipt
}

/** Mines `call` from `account` with fixed gas and returns its receipt, failing unless it reverted. */
export async function sendReverting(
  fx: EconomyFixture,
  account: LocalAccount,
  call: Call,
): Promise<TransactionReceipt> {
  const hash = await fx.walletClient.writeContract({
    ...call,
    account,
    chain: fx.devnet.chain,
    gas: revertingGas,
  } as never)
  const receipt = await fx.publicClient.waitForTransactionReceipt({ hash })
  expect(receipt.status, `${call.functionName} did not revert`).toBe('reverted')
  return receipt
}

/**
 * The custom error `call` from `account` reverts with, simulated against the pending block (whose
 * timestamp `setNextTimestamp` controls), or `undefined` when it would succeed.
 */
export async function revertOf(
  fx: EconomyFixture,
  account: LocalAccount,
  call: Call,
): Promise<{ errorName: string | undefined; args: readonly unknown[] | undefined } | undefined> {
  const error = await fx.publicClient
    .simulateContract({
      ...call,
      abi: [...call.abi, ...knownErrors],
      account,
      blockTag: 'pending',
    } as never)
    .then(
      () => undefined,
      (error: unknown) => error,
    )
  if (error === undefined) return undefined
  if (!(error instanceof BaseError)) throw error
  const reverted = error.walk((cause) => cause instanceof ContractFunctionRevertedError)
  if (!(reverted instanceof ContractFunctionRevertedError)) throw error
  return { errorName: reverted.data?.errorName, args: reverted.data?.args }
}

/** Asserts that `call` from `account` reverts with the custom error `errorName(...args)`. */
export async function expectRevert(
  fx: EconomyFixture,
  account: LocalAccount,
  call: Call,
  errorName: KnownErrorName,
  args: readonly unknown[] = [],
): Promise<void> {
  const reverted = await revertOf(fx, account, call)
  expect(reverted, `${call.functionName} did not revert`).toBeDefined()
  expect({ errorName: reverted?.errorName, args: reverted?.args ?? [] }).toEqual({ errorName, args })
}

/** The economy's events in `receipt`, in order. */
export function economyEvents(fx: EconomyFixture, receipt: TransactionReceipt) {
  const logs = receipt.logs.filter((log) => getAddress(log.address) === fx.economy)
  return parseEventLogs({ abi: agentEconomyAbi, logs }).map(({ eventName, args }) => ({ eventName, args }))
}

/** What a mined transaction cost its sender in ETH. */
export function gasCost(receipt: TransactionReceipt): bigint {
  return receipt.gasUsed * receipt.effectiveGasPrice
}

// ------------------------------------------------------------------ reads

type ReadName = ContractFunctionName<typeof agentEconomyAbi, 'view' | 'pure'>

/** Reads the economy. */
export function readEconomy<name extends ReadName>(
  fx: EconomyFixture,
  functionName: name,
  args: ContractFunctionArgs<typeof agentEconomyAbi, 'view' | 'pure', name>,
): Promise<ContractFunctionReturnType<typeof agentEconomyAbi, 'view' | 'pure', name>> {
  return fx.publicClient.readContract({
    address: fx.economy,
    abi: agentEconomyAbi,
    functionName,
    args,
  } as never) as never
}

/** `who`'s balance of `token` (`ETH` for ether). */
export function balanceOf(fx: EconomyFixture, token: Address, who: Address): Promise<bigint> {
  if (token === ETH) return fx.publicClient.getBalance({ address: who })
  return fx.publicClient.readContract({
    address: token,
    abi: devUSDAbi,
    functionName: 'balanceOf',
    args: [who],
  })
}

export function paymentAddress(fx: EconomyFixture, agentId: bigint): Promise<Address> {
  return fx.publicClient.readContract({
    address: fx.registry,
    abi: agentIdentityRegistryAbi,
    functionName: 'paymentAddress',
    args: [agentId],
  })
}

// ------------------------------------------------------------------ setup helpers

/** Deploys a contract from `account` and returns its address. */
export async function deploy(
  fx: EconomyFixture,
  account: LocalAccount,
  abi: Abi,
  bytecode: Hex,
  args: readonly unknown[] = [],
): Promise<Address> {
  const hash = await fx.walletClient.deployContract({
    abi,
    bytecode,
    args,
    account,
    chain: fx.devnet.chain,
  } as never)
  const receipt = await fx.publicClient.waitForTransactionReceipt({ hash })
  expect(receipt.status).toBe('success')
  return getAddress(receipt.contractAddress!)
}

/** The id the registry gives the next agent registered: read before registering, to know it. */
export function nextAgentId(fx: EconomyFixture): Promise<bigint> {
  return fx.publicClient.readContract({
    address: fx.registry,
    abi: agentIdentityRegistryAbi,
    functionName: 'nextAgentId',
  })
}

/** Registers an agent owned by `owner` (optionally binding `wallet`) and returns its id. */
export async function registerAgent(
  fx: EconomyFixture,
  owner: LocalAccount,
  wallet?: LocalAccount,
): Promise<bigint> {
  const agentId = await nextAgentId(fx)
  await send(
    fx,
    owner,
    contractCall(fx.registry, agentIdentityRegistryAbi, 'register', [`ipfs://agent-${agentId}`]),
  )
  if (wallet) await bindWallet(fx, owner, agentId, wallet.address, wallet)
  return agentId
}

/**
 * Binds `wallet` as the agent's payment wallet. `signer` gives the wallet's consent: the wallet's own
 * key, or for a contract wallet the key its ERC-1271 check accepts.
 */
export async function bindWallet(
  fx: EconomyFixture,
  owner: LocalAccount,
  agentId: bigint,
  wallet: Address,
  signer: LocalAccount,
): Promise<void> {
  const deadline = (await latestTimestamp(fx)) + 365n * 86_400n
  const digest = await fx.publicClient.readContract({
    address: fx.registry,
    abi: agentIdentityRegistryAbi,
    functionName: 'agentWalletDigest',
    args: [agentId, wallet, owner.address, deadline],
  })
  const signature = await signer.sign!({ hash: digest })
  await send(
    fx,
    owner,
    contractCall(fx.registry, agentIdentityRegistryAbi, 'setAgentWallet', [
      agentId,
      wallet,
      deadline,
      signature,
    ]),
  )
}

/** Lets the economy pull `token` from `account`. */
export async function approve(
  fx: EconomyFixture,
  account: LocalAccount,
  token: Address,
  amount: bigint = maxUint256,
): Promise<void> {
  await send(fx, account, contractCall(token, devUSDAbi, 'approve', [fx.economy, amount]))
}

/** A 32-byte hash naming `label`: specs, deliverables, memos. */
export function hashOf(label: string): Hex {
  return keccak256(stringToHex(label))
}

export type CreateJobOptions = {
  providerId: bigint
  evaluator?: Address
  token?: Address
  budget?: bigint
  /** Absolute deadline; one day after the latest block when omitted. */
  deadline?: bigint
  spec?: string
  /** ETH sent along; the budget for ETH jobs and nothing for token jobs when omitted. */
  value?: bigint
}

export type CreatedJob = {
  jobId: bigint
  receipt: TransactionReceipt
  client: Address
  providerId: bigint
  evaluator: Address
  token: Address
  budget: bigint
  deadline: bigint
  specHash: Hex
}

/** The `createJob` call `createJob` sends, with its defaults resolved. */
export async function createJobCall(fx: EconomyFixture, options: CreateJobOptions) {
  const token = options.token ?? ETH
  const budget = options.budget ?? 1_000_000n
  const deadline = options.deadline ?? (await latestTimestamp(fx)) + 86_400n
  const specHash = hashOf(options.spec ?? 'spec')
  const evaluator = options.evaluator ?? zeroAddress
  const value = options.value ?? (token === ETH ? budget : 0n)
  const call = economyCall(
    fx,
    'createJob',
    [options.providerId, evaluator, token, budget, deadline, specHash],
    value,
  )
  return { call, token, budget, deadline, specHash, evaluator }
}

/** Creates and funds a job from `client`. */
export async function createJob(
  fx: EconomyFixture,
  client: LocalAccount,
  options: CreateJobOptions,
): Promise<CreatedJob> {
  const { call, ...terms } = await createJobCall(fx, options)
  const receipt = await send(fx, client, call)
  const jobId = jobIdOf(client.address, options.providerId, terms.specHash)
  return { jobId, receipt, client: client.address, providerId: options.providerId, ...terms }
}

// ------------------------------------------------------------------ time

export async function latestTimestamp(fx: EconomyFixture): Promise<bigint> {
  return (await fx.publicClient.getBlock()).timestamp
}

/** Fixes the timestamp of the next block, which is also the one `revertOf` simulates against. */
export async function setNextTimestamp(fx: EconomyFixture, timestamp: bigint): Promise<void> {
  await fx.testClient.setNextBlockTimestamp({ timestamp })
}

// ------------------------------------------------------------------ contract parties

/** `call`, made by the receiver contract at `receiver` through its `execute`, forwarding `call.value`. */
export function viaReceiver(receiver: Address, call: Call): Call {
  const data = encodeFunctionData({
    abi: call.abi,
    functionName: call.functionName,
    args: call.args,
  } as never)
  return contractCall(receiver, reentrantReceiverAbi, 'execute', [call.address, data], call.value)
}

/** Calldata of an economy call, for contracts that call back into the economy. */
export function economyCalldata<name extends WriteName<typeof agentEconomyAbi>>(
  functionName: name,
  args: ContractFunctionArgs<typeof agentEconomyAbi, 'nonpayable' | 'payable', name>,
): Hex {
  return encodeFunctionData({ abi: agentEconomyAbi, functionName, args } as never)
}

/** Receiver modes, as `ReentrantReceiver.Mode` numbers them. */
export const ReceiverMode = { Accept: 0, Refuse: 1, Reenter: 2, ReenterStrict: 3, BurnGas: 4 } as const

/**
 * Deploys a `ReentrantReceiver` from `deployer` and registers an agent it owns, so the receiver is
 * the agent's payment address. Returns both.
 */
export async function receiverAgent(
  fx: EconomyFixture,
  deployer: LocalAccount,
): Promise<{ receiver: Address; agentId: bigint }> {
  const receiver = await deploy(fx, deployer, reentrantReceiverAbi, reentrantReceiverBytecode)
  const agentId = await nextAgentId(fx)
  await send(
    fx,
    deployer,
    viaReceiver(
      receiver,
      contractCall(fx.registry, agentIdentityRegistryAbi, 'register', ['ipfs://receiver']),
    ),
  )
  return { receiver, agentId }
}

export async function setReceiverMode(
  fx: EconomyFixture,
  account: LocalAccount,
  receiver: Address,
  mode: (typeof ReceiverMode)[keyof typeof ReceiverMode],
  reentry?: { target: Address; data: Hex },
): Promise<void> {
  await send(fx, account, contractCall(receiver, reentrantReceiverAbi, 'setMode', [mode]))
  if (reentry)
    await send(
      fx,
      account,
      contractCall(receiver, reentrantReceiverAbi, 'setReentry', [reentry.target, reentry.data]),
    )
}

// ------------------------------------------------------------------ agents with Safes

export type LaunchAgentOptions = {
  /** The key the agent signs its module calls with (never an owner of its Safe). */
  agentKey: Address
  /** Owners of the 1-of-n Safe; the identity's owner alone when omitted. */
  safeOwners?: Address[]
  /** The agent's policy; no limit in dUSD and ETH when omitted. */
  policy?: PolicyChange
  salt?: string
}

/**
 * Launches an agent through the factory as the devnet's runtime would: identity to `owner`, a
 * 1-of-n Safe owned by `safeOwners` bound as its wallet, with the agent module enabled for
 * `agentKey` under `policy`. Returns its id and Safe.
 */
export async function launchAgent(
  fx: EconomyFixture,
  owner: LocalAccount,
  options: LaunchAgentOptions,
): Promise<{ agentId: bigint; safe: Address }> {
  const { agentKey, safeOwners = [owner.address], policy = unlimitedPolicy([fx.usd, ETH]) } = options
  const salt = options.salt ?? `agent ${owner.address} ${safeOwners.join(',')} ${agentKey}`
  const receipt = await send(
    fx,
    owner,
    contractCall(fx.devnet.manifest.contracts.factory, agentFactoryAbi, 'launch', [
      { owner: owner.address, agentURI: '', safeOwners, threshold: 1n, salt: hashOf(salt), agentKey, policy },
    ]),
  )
  const [launched] = parseEventLogs({ abi: agentFactoryAbi, eventName: 'AgentLaunched', logs: receipt.logs })
  return { agentId: launched!.args.agentId, safe: launched!.args.safe }
}

/** A call a Safe makes: built against an ABI, or raw (a plain ETH transfer has no ABI). */
export type SafeCall = Call | { to: Address; value: bigint; data: Hex }

/**
 * The `execTransaction` call that makes `call` from a 1-of-n Safe, signed by `signer` (one of its
 * owners): the owner's ECDSA signature of the Safe transaction hash, for the Safe's next nonce.
 */
export async function safeTransactionCall(
  fx: EconomyFixture,
  safe: Address,
  signer: LocalAccount,
  call: SafeCall,
): Promise<Call> {
  const { to, value, data } =
    'abi' in call
      ? {
          to: call.address,
          value: call.value ?? 0n,
          data: encodeFunctionData({
            abi: call.abi,
            functionName: call.functionName,
            args: call.args,
          } as never),
        }
      : call
  const nonce = await fx.publicClient.readContract({ address: safe, abi: safeAbi, functionName: 'nonce' })
  const txArgs = [to, value, data, 0, 0n, 0n, 0n, zeroAddress, zeroAddress] as const
  const hash = await fx.publicClient.readContract({
    address: safe,
    abi: safeAbi,
    functionName: 'getTransactionHash',
    args: [...txArgs, nonce],
  })
  const signature = await signer.sign!({ hash })
  return contractCall(safe, safeAbi, 'execTransaction', [...txArgs, signature])
}

/** Makes `call` from a 1-of-n Safe, signed and sent by `signer` (one of its owners). */
export async function sendFromSafe(
  fx: EconomyFixture,
  safe: Address,
  signer: LocalAccount,
  call: SafeCall,
): Promise<TransactionReceipt> {
  const receipt = await send(fx, signer, await safeTransactionCall(fx, safe, signer, call))
  const failed = parseEventLogs({ abi: safeAbi, eventName: 'ExecutionFailure', logs: receipt.logs })
  const what = 'abi' in call ? call.functionName : `a call to ${call.to}`
  expect(failed, `the Safe's ${what} failed`).toEqual([])
  return receipt
}
