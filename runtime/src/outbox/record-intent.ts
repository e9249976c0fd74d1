import { type Db, type Intent, recordIntent as insertIntent, recordIntents as insertIntents } from '@agora/db'
import type { RuntimeClient } from '../client.ts'
import { intentHandlers } from './handlers/intent-handlers.ts'
import type { IntentInput } from './intent-handler.ts'

export type RecordIntentReturnType = { intent: Intent; created: boolean }

const withSigner = (client: Pick<RuntimeClient, 'outbox'>, input: IntentInput) => ({
  ...input,
  signer: client.outbox.relayerFor(intentHandlers[input.kind].lane(input.payload)).address,
})

/**
 * Records an intent under its idempotency key (or finds the one recorded before) in `db`, which may
 * be a database transaction the caller holds open so the intent lands with the rows it belongs to.
 * Nothing is signed or sent: `sendIntent` does that.
 *
 * @example
 * const { intent } = await recordIntent(client, tx, { idempotencyKey, kind: 'pay', agentId, payload })
 */
export function recordIntent(
  client: Pick<RuntimeClient, 'outbox'>,
  db: Db,
  input: IntentInput,
): Promise<RecordIntentReturnType> {
  return insertIntent(db, withSigner(client, input))
}

/** `recordIntent` for many intents in one statement; results in the order given. */
export function recordIntents(
  client: Pick<RuntimeClient, 'outbox'>,
  db: Db,
  inputs: IntentInput[],
): Promise<RecordIntentReturnType[]> {
  return insertIntents(
    db,
    inputs.map((input) => withSigner(client, input)),
  )
}
