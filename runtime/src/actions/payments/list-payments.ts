import { listPayments as listPaymentRows } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import { type PaymentView, toPaymentView } from '../../views/payment-view.ts'

export type ListPaymentsReturnType = PaymentView[]

/**
 * The payments an agent made, newest first (the last 100), in the same view `pay` returns.
 *
 * @example
 * const payments = await listPayments(client, id)
 */
export async function listPayments(
  client: Pick<RuntimeClient, 'db' | 'agents' | 'tokens'>,
  id: string,
): Promise<ListPaymentsReturnType> {
  const agent = await client.agents.get(id)
  const rows = await listPaymentRows(client.db, { agentId: agent.id })
  return Promise.all(rows.map((payment) => toPaymentView(client, payment)))
}
