/**
 * What an agent sends to `AgentModule`, built with viem alone (the tests and the gas bench share it):
 * spending policies, the calls of an `execute` batch and the agent key's EIP-712 signature of them.
 */
import {
  type Abi,
  type AbiParameterToPrimitiveType,
  type Address,
  type ContractFunctionArgs,
  type ContractFunctionName,
  concat,
  encodeAbiParameters,
  encodeFunctionData,
  type Hex,
  keccak256,
  type LocalAccount,
  stringToHex,
  zeroAddress,
} from 'viem'
import type { agentModuleAbi } from '../src/generated/AgentModule.ts'

/** The largest cap or budget a limit holds (`uint96`): in effect, no limit. */
export const unlimited = 2n ** 96n - 1n

type ConfigureInput = Extract<
  (typeof agentModuleAbi)[number],
  { type: 'function'; name: 'configure' }
>['inputs'][0]
/** `AgentModule.PolicyChange`, as viem encodes it. */
export type PolicyChange = AbiParameterToPrimitiveType<ConfigureInput>
/** `AgentModule.TokenLimit`: a cap per call and a budget per period (`period` 0: no budget). */
export type TokenLimit = PolicyChange['setLimits'][number]
/** One call of an `execute` batch: always a plain call made by the Safe. */
export type ModuleCall = { to: Address; value: bigint; data: Hex }

/** A policy change that changes nothing but what `change` names. */
export function policyChange(change: Partial<PolicyChange> = {}): PolicyChange {
  return {
    removeLimits: [],
    setLimits: [],
    disallowAgents: [],
    allowAgents: [],
    disallowPayees: [],
    allowPayees: [],
    restricted: false,
    ...change,
  }
}

/** A limit of `token` with no cap and no budget worth the name. */
export function unlimitedIn(token: Address): TokenLimit {
  return { token, perCall: unlimited, perPeriod: unlimited, period: 0 }
}

/** The policy of an agent that may spend every token in `tokens` without limit (ETH is `zeroAddress`). */
export function unlimitedPolicy(tokens: readonly Address[] = [zeroAddress]): PolicyChange {
  return policyChange({ setLimits: tokens.map(unlimitedIn) })
}

type WriteName<abi extends Abi> = ContractFunctionName<abi, 'nonpayable' | 'payable'>

/** A call of `functionName` on the contract at `to`, for an `execute` batch. */
export function moduleCall<const abi extends Abi, name extends WriteName<abi>>(
  to: Address,
  abi: abi,
  functionName: name,
  args: ContractFunctionArgs<abi, 'nonpayable' | 'payable', name>,
  value = 0n,
): ModuleCall {
  return { to, value, data: encodeFunctionData({ abi, functionName, args } as never) }
}

const callTypehash = keccak256(stringToHex('Call(address to,uint256 value,bytes data)'))

/** The `callsHash` an `Execute` message carries: keccak256 of the calls' struct hashes, concatenated. */
export function callsHashOf(calls: readonly ModuleCall[]): Hex {
  return keccak256(
    concat(
      calls.map((call) =>
        keccak256(
          encodeAbiParameters(
            [{ type: 'bytes32' }, { type: 'address' }, { type: 'uint256' }, { type: 'bytes32' }],
            [callTypehash, call.to, call.value, keccak256(call.data)],
          ),
        ),
      ),
    ),
  )
}

/** Where and for what an agent key signs: the module on a chain, and the Safe's nonce. */
export type ExecuteMessage = {
  chainId: number
  module: Address
  safe: Address
  nonce: bigint
  calls: readonly ModuleCall[]
}

/** The EIP-712 typed data of an `Execute` message (domain "AgentModule", version "1"). */
export function executeTypedData({ chainId, module, safe, nonce, calls }: ExecuteMessage) {
  return {
    domain: { name: 'AgentModule', version: '1', chainId, verifyingContract: module },
    types: {
      Execute: [
        { name: 'safe', type: 'address' },
        { name: 'nonce', type: 'uint64' },
        { name: 'callsHash', type: 'bytes32' },
      ],
    },
    primaryType: 'Execute',
    message: { safe, nonce, callsHash: callsHashOf(calls) },
  } as const
}

/** The agent key's signature of an `Execute` message. */
export function signExecute(key: LocalAccount, message: ExecuteMessage): Promise<Hex> {
  return key.signTypedData(executeTypedData(message))
}
