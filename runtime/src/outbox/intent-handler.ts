import type { BaseError, Intent, IntentKind } from '@agora/db'
import type { Address, Hex, TransactionReceipt } from 'viem'
import type { RuntimeClient } from '../client.ts'

/** A call to send: built from an intent's payload when it is (re)sent. */
export type Call = {
  to: Address
  data: Hex
  value?: bigint
  /** The sequence this call belongs to (e.g. a Safe's nonce); it is committed only once the call is sent. */
  commit?: () => void
  /** Undoes whatever `build` reserved when the call is not sent or fails on-chain. */
  rollback?: () => void
}

/**
 * How one kind of intent becomes a call, and what happens once it lands. Every kind has one, in
 * `intentHandlers` (outbox/handlers/intent-handlers.ts).
 */
export type IntentHandler = {
  /** The lane serialises intents that must land in order (e.g. one Safe's transactions). */
  lane(payload: Record<string, unknown>): string
  build(client: RuntimeClient, intent: Intent): Promise<Call>
  /**
   * Several intents of this kind queued in one lane, as one call (e.g. a Safe's MultiSend). Kinds
   * that have it see their queued intents sent together: one transaction, one signature.
   */
  buildMany?(client: RuntimeClient, intents: Intent[]): Promise<Call>
  /** Runs after the receipt, also when recovery finds it; must be idempotent. */
  onSettled?(
    client: RuntimeClient,
    intent: Intent,
    receipt: TransactionReceipt,
  ): Promise<Record<string, unknown> | undefined>
  onFailed?(client: RuntimeClient, intent: Intent, error: BaseError): Promise<void>
  /** A clearer account of why the call is refused than the outer transaction's revert, if it has one. */
  explain?(client: RuntimeClient, intent: Intent): Promise<BaseError | undefined>
}

/** What identifies an intent: recorded once under its key, in the caller's database transaction if it likes. */
export type IntentInput = {
  idempotencyKey: string
  kind: IntentKind
  agentId: string | null
  payload: Record<string, unknown>
}

/** A sent or settled intent with the receipt of the transaction that carried it. */
export type SentIntent = { intent: Intent; receipt: TransactionReceipt }
