import type { Address, Hex } from 'viem'
import type { IntentHandler } from '../intent-handler.ts'

/** An owner-signed Safe transaction as recorded: the `execTransaction` call, built once. */
export type OwnerTransactionPayload = {
  safe: Address
  to: Address
  data: Hex
  value: string
  safeTxHash: Hex
}

/**
 * A Safe transaction its owners signed (a policy change, a move onto the agent module), sent by a
 * relayer as it was recorded. It runs in the Safe's lane, after the agent's queued calls; once it
 * lands the runtime reads again how the Safe takes the agent's calls (a move changes the path).
 */
export const ownerTransactionHandler: IntentHandler = {
  lane: (payload) => String(payload.safe).toLowerCase(),
  async build(_client, intent) {
    const p = intent.payload as OwnerTransactionPayload
    return { to: p.to, data: p.data }
  },
  async onSettled(client, intent) {
    const p = intent.payload as OwnerTransactionPayload
    client.safes.forget(p.safe)
    return { safeTxHash: p.safeTxHash }
  },
}
