import { agentEconomyAbi, agentIdentityRegistryAbi, agentModuleAbi, devUSDAbi } from '@agora/contracts'
import type { Intent } from '@agora/db'
import type { Address, Hex } from 'viem'
import { agentSigner } from '../../wallet/agent-signers.ts'
import type { IntentHandler } from '../intent-handler.ts'
import { explainRevert } from './explain-revert.ts'

/** The payload every Safe-executed intent carries: the call the agent's Safe makes. */
export type SafeCallPayload = { safe: Address; to: Address; data: Hex; value: string }

/**
 * An intent handler whose transaction is the agent's Safe calling `payload.to`, signed by the
 * agent's key and sent by a relayer, through the agent module (checked against the agent's policy on
 * chain) or, for older agents, as a Safe transaction. One lane per Safe keeps its nonces in order.
 * With `batch`, calls queued behind each other in a Safe's lane go out together: one transaction, one
 * signature, each call with its own effects and events.
 *
 * @example
 * export const approveHandler = safeCallHandler()
 */
export function safeCallHandler({
  batch = false,
  ...hooks
}: { batch?: boolean } & Pick<IntentHandler, 'onSettled' | 'onFailed'> = {}): IntentHandler {
  const build = async (client: Parameters<IntentHandler['build']>[0], intents: Intent[]) => {
    const first = intents[0]!.payload as SafeCallPayload
    return client.safes.build(
      first.safe,
      await agentSigner(client, intents[0]!.agentId!),
      intents.map(callOf),
    )
  }
  return {
    lane: (payload) => String(payload.safe).toLowerCase(),
    build: (client, intent) => build(client, [intent]),
    ...(batch && { buildMany: build }),
    /**
     * The module's refusal (or the economy's, which the module passes on) comes from replaying the
     * transaction; a Safe transaction reports a failed inner call only as GS013, so the inner call is
     * replayed from the Safe then.
     */
    async explain(client, intent) {
      const p = intent.payload as SafeCallPayload
      try {
        const sent = await build(client, [intent])
        const account = client.outbox.relayerFor(p.safe.toLowerCase()).address
        const outer = await explainRevert(
          client,
          intent,
          { account, to: sent.to, data: sent.data },
          knownErrors,
        )
        if (outer) return outer
        const call = { account: p.safe, to: p.to, data: p.data, value: BigInt(p.value) }
        return await explainRevert(client, intent, call, knownErrors)
      } finally {
        // The owners may have changed how the Safe takes the agent's calls (revoked the key, moved
        // it): the next call reads that from the chain again.
        client.safes.forget(p.safe)
      }
    },
    ...hooks,
  }
}

function callOf(intent: Intent) {
  const p = intent.payload as SafeCallPayload
  return { to: p.to, data: p.data, value: BigInt(p.value) }
}

const knownErrors = [...agentEconomyAbi, ...agentIdentityRegistryAbi, ...agentModuleAbi, ...devUSDAbi].filter(
  (item) => item.type === 'error',
)
