import type { Intent } from '@agora/db'
import type { Address, Hex, TransactionReceipt } from 'viem'
import type { RuntimeContext } from './context.ts'
import type { BaseError } from './errors.ts'
import type { IntentKind } from './transactions.ts'

/** The payload every Safe-executed intent carries: the call the agent's Safe makes. */
export type SafeCallPayload = { safe: Address; to: Address; data: Hex; value: string }

/**
 * An intent kind whose transaction is the agent's Safe calling `payload.to`, signed by the agent's
 * key and sent by a relayer. One lane per Safe keeps its nonces in order.
 */
export function safeCallKind(
  ctx: RuntimeContext,
  hooks: {
    onSettled?(intent: Intent, receipt: TransactionReceipt): Promise<Record<string, unknown> | undefined>
    onFailed?(intent: Intent, error: BaseError): Promise<void>
  } = {},
): IntentKind {
  return {
    lane: (payload) => String(payload.safe).toLowerCase(),
    async build(intent) {
      const p = intent.payload as SafeCallPayload
      return ctx.safes.build(p.safe, await ctx.signerFor(intent.agentId!), {
        to: p.to,
        data: p.data,
        value: BigInt(p.value),
      })
    },
    ...hooks,
  }
}
