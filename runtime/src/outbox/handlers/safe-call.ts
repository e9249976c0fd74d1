import { agentEconomyAbi, agentIdentityRegistryAbi, devUSDAbi, multiSendCallOnlyAbi } from '@agora/contracts'
import type { Intent } from '@agora/db'
import { type Address, concatHex, encodeFunctionData, encodePacked, type Hex, size } from 'viem'
import { agentSigner } from '../../wallet/agent-signers.ts'
import type { IntentHandler } from '../intent-handler.ts'
import { explainRevert } from './explain-revert.ts'

/** The payload every Safe-executed intent carries: the call the agent's Safe makes. */
export type SafeCallPayload = { safe: Address; to: Address; data: Hex; value: string }

/**
 * An intent handler whose transaction is the agent's Safe calling `payload.to`, signed by the
 * agent's key and sent by a relayer. One lane per Safe keeps its nonces in order. With `batch`,
 * calls queued behind each other in a Safe's lane go out together through MultiSendCallOnly: one
 * Safe transaction, one signature, each call with its own effects and events.
 *
 * @example
 * export const approveHandler = safeCallHandler()
 */
export function safeCallHandler({
  batch = false,
  ...hooks
}: { batch?: boolean } & Pick<IntentHandler, 'onSettled' | 'onFailed'> = {}): IntentHandler {
  return {
    lane: (payload) => String(payload.safe).toLowerCase(),
    async build(client, intent) {
      const p = intent.payload as SafeCallPayload
      return client.safes.build(p.safe, await agentSigner(client, intent.agentId!), {
        to: p.to,
        data: p.data,
        value: BigInt(p.value),
      })
    },
    ...(batch && {
      async buildMany(client, intents: Intent[]) {
        const first = intents[0]!.payload as SafeCallPayload
        return client.safes.build(first.safe, await agentSigner(client, intents[0]!.agentId!), {
          to: client.chain.safeContracts.multiSendCallOnly,
          data: encodeFunctionData({
            abi: multiSendCallOnlyAbi,
            functionName: 'multiSend',
            args: [multiSendTransactions(intents)],
          }),
          operation: 1,
        })
      },
    }),
    /** Safe reports a failed inner call only as GS013: replay the inner call from the Safe to learn why. */
    async explain(client, intent) {
      const p = intent.payload as SafeCallPayload
      const call = { account: p.safe, to: p.to, data: p.data, value: BigInt(p.value) }
      return explainRevert(client, intent, call, knownErrors)
    },
    ...hooks,
  }
}

/** MultiSend's packed form: operation (call), to, value, data length, data; one after another. */
function multiSendTransactions(intents: Intent[]): Hex {
  return concatHex(
    intents.map((intent) => {
      const p = intent.payload as SafeCallPayload
      return encodePacked(
        ['uint8', 'address', 'uint256', 'uint256', 'bytes'],
        [0, p.to, BigInt(p.value), BigInt(size(p.data)), p.data],
      )
    }),
  )
}

const knownErrors = [...agentEconomyAbi, ...agentIdentityRegistryAbi, ...devUSDAbi].filter(
  (item) => item.type === 'error',
)
