import { agentModuleAbi, multiSendCallOnlyAbi, safeAbi } from '@agora/contracts'
import {
  type Address,
  concatHex,
  encodeFunctionData,
  encodePacked,
  type Hex,
  hashStruct as hashTypedStruct,
  keccak256,
  type LocalAccount,
  type PublicClient,
  size,
  zeroAddress,
} from 'viem'
import type { Call } from '../outbox/intent-handler.ts'

/** One call an agent's Safe makes. */
export type SafeCall = { to: Address; data: Hex; value?: bigint }

/**
 * How an agent's Safe takes its agent's calls: through the agent module (the key is no owner, every
 * call is checked against the policy on chain), or, for an agent launched before the module, as a
 * Safe transaction the key signs as an owner.
 */
export type SafePath = 'module' | 'owner'

/** The EIP-712 types of the module's `execute` message. */
const executeTypes = {
  Execute: [
    { name: 'safe', type: 'address' },
    { name: 'nonce', type: 'uint64' },
    { name: 'callsHash', type: 'bytes32' },
  ],
} as const

/**
 * Builds the transaction that has an agent's Safe make `calls`, signed by the agent's key and sent by a
 * relayer (the Safe needs no ETH for gas). On the module path the calls go to `AgentModule.execute`
 * with the module's own nonce for the Safe, so the owners' use of the Safe never disturbs the agent;
 * on the owner path (older agents) they are a Safe transaction at the Safe's nonce, several calls
 * batched through MultiSendCallOnly. Nonces are cached per Safe, reserved by `build` and committed only
 * once the transaction is sent; a rollback reads them (and the path) from the chain again.
 */
export function createSafeSigner(
  publicClient: PublicClient,
  chainId: number,
  contracts: { module: Address; multiSendCallOnly: Address },
) {
  const paths = new Map<string, SafePath>()
  const nonces = new Map<string, bigint>()
  const pathOf = async (safe: Address, key: Address): Promise<SafePath> => {
    let path = paths.get(safe.toLowerCase())
    if (!path) {
      const agent = await readAgent(publicClient, contracts.module, safe)
      path = agent.key.toLowerCase() === key.toLowerCase() ? 'module' : 'owner'
      paths.set(safe.toLowerCase(), path)
    }
    return path
  }
  // Read only when a call is built (after any recovery of the Safe's lane), never by `pathOf`: a
  // nonce read while a rolled-back chain is being replayed would be stale.
  const nonceOf = async (safe: Address, path: SafePath): Promise<bigint> => {
    let nonce = nonces.get(safe.toLowerCase())
    if (nonce === undefined) {
      nonce =
        path === 'module'
          ? BigInt((await readAgent(publicClient, contracts.module, safe)).nonce)
          : await publicClient.readContract({ address: safe, abi: safeAbi, functionName: 'nonce' })
      nonces.set(safe.toLowerCase(), nonce)
    }
    return nonce
  }
  const forget = (safe: Address) => {
    paths.delete(safe.toLowerCase())
    nonces.delete(safe.toLowerCase())
  }
  return {
    /** Signs `calls` for `safe` with the agent's `key`. Run it inside the Safe's lane. */
    async build(safe: Address, key: LocalAccount, calls: SafeCall[]): Promise<Call> {
      const path = await pathOf(safe, key.address)
      const nonce = await nonceOf(safe, path)
      const call =
        path === 'module'
          ? await moduleCall(key, { chainId, module: contracts.module, safe, nonce, calls })
          : await ownerCall(key, { chainId, safe, nonce, call: single(calls, contracts.multiSendCallOnly) })
      return {
        ...call,
        commit: () => nonces.set(safe.toLowerCase(), nonce + 1n),
        rollback: () => forget(safe),
      }
    },
    /** Forgets what is cached of `safe`: its owners changed how it takes the agent's calls. */
    forget,
    /** Forgets every Safe's nonce (after a rolled-back chain was replayed). */
    clear() {
      paths.clear()
      nonces.clear()
    },
    /** Which path `safe` takes its agent's calls by (read from the chain once, then cached). */
    pathOf,
  }
}

export type SafeSigner = ReturnType<typeof createSafeSigner>

/** The module's record of `safe`'s agent (a zero key when the Safe has none there). */
export function readAgent(publicClient: PublicClient, module: Address, safe: Address) {
  return publicClient.readContract({
    address: module,
    abi: agentModuleAbi,
    functionName: 'agentOf',
    args: [safe],
  })
}

async function moduleCall(
  key: LocalAccount,
  p: { chainId: number; module: Address; safe: Address; nonce: bigint; calls: SafeCall[] },
): Promise<{ to: Address; data: Hex }> {
  const calls = p.calls.map((c) => ({ to: c.to, value: c.value ?? 0n, data: c.data }))
  const signature = await key.signTypedData!({
    domain: { name: 'AgentModule', version: '1', chainId: p.chainId, verifyingContract: p.module },
    types: executeTypes,
    primaryType: 'Execute',
    message: { safe: p.safe, nonce: p.nonce, callsHash: callsHash(calls) },
  })
  return {
    to: p.module,
    data: encodeFunctionData({
      abi: agentModuleAbi,
      functionName: 'execute',
      args: [p.safe, p.nonce, calls, signature],
    }),
  }
}

/** The module's hash of a list of calls: each call's EIP-712 struct hash, concatenated and hashed. */
function callsHash(calls: { to: Address; value: bigint; data: Hex }[]): Hex {
  return keccak256(concatHex(calls.map((c) => hashStruct({ to: c.to, value: c.value, data: c.data }))))
}

const callTypes = {
  Call: [
    { name: 'to', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'data', type: 'bytes' },
  ],
} as const

function hashStruct(call: { to: Address; value: bigint; data: Hex }): Hex {
  return hashTypedStruct({ data: call, primaryType: 'Call', types: callTypes })
}

/** Several calls as one delegate call into MultiSendCallOnly; one call as itself. */
function single(calls: SafeCall[], multiSendCallOnly: Address): SafeCall & { operation: 0 | 1 } {
  if (calls.length === 1) return { ...calls[0]!, operation: 0 }
  return { to: multiSendCallOnly, data: multiSendData(calls), operation: 1 }
}

/** MultiSendCallOnly's `multiSend` of `calls`, packed: operation (call), to, value, data length, data. */
export function multiSendData(calls: SafeCall[]): Hex {
  const packed = concatHex(
    calls.map((c) =>
      encodePacked(
        ['uint8', 'address', 'uint256', 'uint256', 'bytes'],
        [0, c.to, c.value ?? 0n, BigInt(size(c.data)), c.data],
      ),
    ),
  )
  return encodeFunctionData({ abi: multiSendCallOnlyAbi, functionName: 'multiSend', args: [packed] })
}

async function ownerCall(
  key: LocalAccount,
  p: { chainId: number; safe: Address; nonce: bigint; call: SafeCall & { operation: 0 | 1 } },
): Promise<{ to: Address; data: Hex }> {
  const message = safeTransaction(p.call, p.nonce)
  const signature = await key.signTypedData!({
    domain: { chainId: p.chainId, verifyingContract: p.safe },
    types: safeTxTypes,
    primaryType: 'SafeTx',
    message,
  })
  return { to: p.safe, data: execTransactionData(message, signature) }
}

/** Safe 1.4.1's transaction type, as owners sign it. */
export const safeTxTypes = {
  SafeTx: [
    { name: 'to', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'data', type: 'bytes' },
    { name: 'operation', type: 'uint8' },
    { name: 'safeTxGas', type: 'uint256' },
    { name: 'baseGas', type: 'uint256' },
    { name: 'gasPrice', type: 'uint256' },
    { name: 'gasToken', type: 'address' },
    { name: 'refundReceiver', type: 'address' },
    { name: 'nonce', type: 'uint256' },
  ],
} as const

/** A Safe transaction with no gas refund (a relayer pays), as `safeTxTypes` describes it. */
export function safeTransaction(call: SafeCall & { operation?: 0 | 1 }, nonce: bigint) {
  return {
    to: call.to,
    value: call.value ?? 0n,
    data: call.data,
    operation: call.operation ?? 0,
    safeTxGas: 0n,
    baseGas: 0n,
    gasPrice: 0n,
    gasToken: zeroAddress,
    refundReceiver: zeroAddress,
    nonce,
  } as const
}

/** `execTransaction` of `message` with the owners' `signatures`. */
export function execTransactionData(message: ReturnType<typeof safeTransaction>, signatures: Hex): Hex {
  return encodeFunctionData({
    abi: safeAbi,
    functionName: 'execTransaction',
    args: [
      message.to,
      message.value,
      message.data,
      message.operation,
      message.safeTxGas,
      message.baseGas,
      message.gasPrice,
      message.gasToken,
      message.refundReceiver,
      signatures,
    ],
  })
}
