import { agentEconomyAbi, agentIdentityRegistryAbi, devUSDAbi, multiSendCallOnlyAbi } from '@agora/contracts'
import type { Intent } from '@agora/db'
import {
  type Address,
  concatHex,
  decodeErrorResult,
  encodeFunctionData,
  encodePacked,
  type Hex,
  size,
  type TransactionReceipt,
} from 'viem'
import type { RuntimeContext } from './context.ts'
import { BaseError } from './errors.ts'
import type { IntentKind } from './transactions.ts'

/** The payload every Safe-executed intent carries: the call the agent's Safe makes. */
export type SafeCallPayload = { safe: Address; to: Address; data: Hex; value: string }

/**
 * An intent kind whose transaction is the agent's Safe calling `payload.to`, signed by the agent's
 * key and sent by a relayer. One lane per Safe keeps its nonces in order. With `batch`, calls queued
 * behind each other in a Safe's lane go out together through MultiSendCallOnly: one Safe
 * transaction, one signature, each call with its own effects and events.
 */
export function safeCallKind(
  ctx: RuntimeContext,
  {
    batch = false,
    ...hooks
  }: {
    batch?: boolean
    onSettled?(intent: Intent, receipt: TransactionReceipt): Promise<Record<string, unknown> | undefined>
    onFailed?(intent: Intent, error: BaseError): Promise<void>
  } = {},
): IntentKind {
  return {
    ...(batch && {
      async buildMany(intents: Intent[]) {
        const first = intents[0]!.payload as SafeCallPayload
        // MultiSend's packed form: operation (call), to, value, data length, data; one after another.
        const transactions = concatHex(
          intents.map((intent) => {
            const p = intent.payload as SafeCallPayload
            return encodePacked(
              ['uint8', 'address', 'uint256', 'uint256', 'bytes'],
              [0, p.to, BigInt(p.value), BigInt(size(p.data)), p.data],
            )
          }),
        )
        return ctx.safes.build(first.safe, await ctx.signerFor(intents[0]!.agentId!), {
          to: ctx.safeContracts.multiSendCallOnly,
          data: encodeFunctionData({
            abi: multiSendCallOnlyAbi,
            functionName: 'multiSend',
            args: [transactions],
          }),
          operation: 1,
        })
      },
    }),
    lane: (payload) => String(payload.safe).toLowerCase(),
    async build(intent) {
      const p = intent.payload as SafeCallPayload
      return ctx.safes.build(p.safe, await ctx.signerFor(intent.agentId!), {
        to: p.to,
        data: p.data,
        value: BigInt(p.value),
      })
    },
    /** Safe reports a failed inner call only as GS013: replay the inner call from the Safe to learn why. */
    async explain(intent) {
      const p = intent.payload as SafeCallPayload
      try {
        await ctx.publicClient.call({ account: p.safe, to: p.to, data: p.data, value: BigInt(p.value) })
        return undefined
      } catch (error) {
        const data = (error as { walk?: (fn: (e: unknown) => boolean) => unknown }).walk?.(
          (e) => typeof (e as { data?: unknown }).data === 'string',
        ) as { data?: Hex } | undefined
        if (!data?.data) return undefined
        try {
          const decoded = decodeErrorResult({ abi: knownErrors, data: data.data })
          const args = (decoded.args ?? []).map(String).join(', ')
          return new BaseError(`${intent.kind} was refused by the contract: ${decoded.errorName}(${args})`, {
            code: 'CONTRACT_REVERTED',
            cause: error,
            meta: { errorName: decoded.errorName, args: (decoded.args ?? []).map(String) },
          })
        } catch {
          return undefined
        }
      }
    },
    ...hooks,
  }
}

const knownErrors = [...agentEconomyAbi, ...agentIdentityRegistryAbi, ...devUSDAbi].filter(
  (item) => item.type === 'error',
)
