import {
  type Db,
  type InsertPaymentParameters,
  type Intent,
  insertPayments,
  markPaymentsConfirmed,
  type Payment,
  transaction,
} from '@agora/db'
import { createBatcher, createGroupWriter } from '../../outbox/batcher.ts'
import type { IntentInput } from '../../outbox/intent-handler.ts'
import type { Outbox } from '../../outbox/outbox.ts'
import { recordIntents } from '../../outbox/record-intent.ts'

/** Payment writes shared by concurrent payments (group commit). */
export type PaymentWriter = {
  /** Records a payment with its intent; payments recorded in the same tick share one transaction. */
  record(item: {
    payment: InsertPaymentParameters
    intent: IntentInput
  }): Promise<{ payment: Payment; intent: Intent }>
  /** Marks a payment confirmed; payments settling in the same tick are confirmed in one statement. */
  confirm(item: { id: string; txHash: string }): Promise<Payment | undefined>
}

/** @example const payments = createPaymentWriter(db, outbox) */
export function createPaymentWriter(db: Db, outbox: Outbox): PaymentWriter {
  const record = createGroupWriter((items: { payment: InsertPaymentParameters; intent: IntentInput }[]) =>
    transaction(db, async (tx) => {
      const payments = await insertPayments(
        tx,
        items.map((i) => i.payment),
      )
      const intents = await recordIntents(
        { outbox },
        tx,
        items.map((i) => i.intent),
      )
      return items.map((_, n) => ({ payment: payments[n]!.payment, intent: intents[n]!.intent }))
    }),
  )
  const confirm = createBatcher((items: { id: string; txHash: string }[]) => markPaymentsConfirmed(db, items))
  return {
    record,
    async confirm(item) {
      return (await confirm(item)).find((row) => row.id === item.id)
    },
  }
}
