/**
 * The agent module's side of the economy harness: an agent's signed `execute` (relayed by anyone),
 * reads of its policy, and its owners' changes made through the Safe.
 */
import {
  type Address,
  encodeFunctionData,
  getAddress,
  type LocalAccount,
  parseEventLogs,
  type TransactionReceipt,
} from 'viem'
import { agentModuleAbi } from '../src/generated/AgentModule.ts'
import { safeAbi } from '../src/generated/Safe.ts'
import { type ModuleCall, type PolicyChange, signExecute } from './agent-module-calls.ts'
import { type Call, contractCall, type EconomyFixture, send, sendFromSafe } from './economy-fixture.ts'

/** The module every launched agent's Safe spends through. */
export function moduleOf(fx: EconomyFixture): Address {
  return fx.devnet.manifest.contracts.module
}

/** `call` as one call of an `execute` batch. */
export function toModuleCall(call: Call): ModuleCall {
  return {
    to: call.address,
    value: call.value ?? 0n,
    data: encodeFunctionData({ abi: call.abi, functionName: call.functionName, args: call.args } as never),
  }
}

/** The module's record of the Safe's agent: key, next nonce, paused, restricted. */
export function agentOf(fx: EconomyFixture, safe: Address) {
  return fx.publicClient.readContract({
    address: moduleOf(fx),
    abi: agentModuleAbi,
    functionName: 'agentOf',
    args: [safe],
  })
}

/** What the Safe's agent has spent of `token` in the window open now, and when that window opened. */
export async function spentOf(
  fx: EconomyFixture,
  safe: Address,
  token: Address,
): Promise<{ amount: bigint; periodStart: bigint }> {
  const [amount, periodStart] = await fx.publicClient.readContract({
    address: moduleOf(fx),
    abi: agentModuleAbi,
    functionName: 'spentOf',
    args: [safe, token],
  })
  return { amount, periodStart }
}

export type ExecuteOptions = {
  /** The nonce signed and submitted; the Safe's next one when omitted. */
  nonce?: bigint
  /** The Safe named in the signed message, when it differs from the one submitted for. */
  signedFor?: Address
  /** The chain named in the signed message; the devnet's when omitted. */
  chainId?: number
  /** The module named in the signed message (EIP-712 `verifyingContract`); the devnet's when omitted. */
  module?: Address
}

/**
 * The `execute` call a relayer submits to have `safe` make `calls`, signed by `key`. The options
 * sign something other than what is submitted, as an attacker would.
 */
export async function executeCall(
  fx: EconomyFixture,
  key: LocalAccount,
  safe: Address,
  calls: readonly (Call | ModuleCall)[],
  options: ExecuteOptions = {},
): Promise<Call> {
  const batch = calls.map((call) => ('abi' in call ? toModuleCall(call) : call))
  const nonce = options.nonce ?? (await agentOf(fx, safe)).nonce
  const signature = await signExecute(key, {
    chainId: options.chainId ?? fx.devnet.manifest.chainId,
    module: options.module ?? moduleOf(fx),
    safe: options.signedFor ?? safe,
    nonce,
    calls: batch,
  })
  return contractCall(moduleOf(fx), agentModuleAbi, 'execute', [safe, nonce, batch, signature])
}

/** Has `safe` make `calls` as its agent: signed by `key`, relayed by `relayer`; fails unless it succeeded. */
export async function sendAsAgent(
  fx: EconomyFixture,
  relayer: LocalAccount,
  key: LocalAccount,
  safe: Address,
  calls: readonly (Call | ModuleCall)[],
): Promise<TransactionReceipt> {
  return send(fx, relayer, await executeCall(fx, key, safe, calls))
}

/** The owners' change of policy, pause or key, made by the Safe on the module (owner-signed). */
export function ownerSets(
  fx: EconomyFixture,
  safe: Address,
  owner: LocalAccount,
  change:
    | { configure: PolicyChange }
    | { setPaused: boolean }
    | { setAgentKey: Address }
    | { initialize: [Address, PolicyChange] },
): Promise<TransactionReceipt> {
  const module = moduleOf(fx)
  const call =
    'configure' in change
      ? contractCall(module, agentModuleAbi, 'configure', [change.configure])
      : 'setPaused' in change
        ? contractCall(module, agentModuleAbi, 'setPaused', [change.setPaused])
        : 'setAgentKey' in change
          ? contractCall(module, agentModuleAbi, 'setAgentKey', [change.setAgentKey])
          : contractCall(module, agentModuleAbi, 'initialize', change.initialize)
  return sendFromSafe(fx, safe, owner, call)
}

/** The module's events in `receipt`, in order. */
export function moduleEvents(fx: EconomyFixture, receipt: TransactionReceipt) {
  const logs = receipt.logs.filter((log) => getAddress(log.address) === moduleOf(fx))
  return parseEventLogs({ abi: agentModuleAbi, logs }).map(({ eventName, args }) => ({ eventName, args }))
}

/** The Safe's `ExecutionFromModuleSuccess` events in `receipt`: one per call the module had it make. */
export function moduleExecutions(receipt: TransactionReceipt, safe: Address) {
  const logs = receipt.logs.filter((log) => getAddress(log.address) === safe)
  return parseEventLogs({ abi: safeAbi, logs, eventName: 'ExecutionFromModuleSuccess' })
}
