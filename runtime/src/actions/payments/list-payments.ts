import { listPayments as listPaymentRows } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import { type PaymentView, toPaymentView } from '../../views/payment-view.ts'
import type { ViewerParameters } from '../../views/viewer.ts'

export type ListPaymentsParameters = ViewerParameters
export type ListPaymentsReturnType = PaymentView[]

/**
 * The payments an agent made and received, newest first (the last 100), in the same view `pay` returns; memos
 * only for the payer's and the payee's owners.
 *
 * @example
 * const payments = await listPayments(client, id, { viewer: session?.address ?? null })
 */
export async function listPayments(
  client: Pick<RuntimeClient, 'db' | 'agents' | 'tokens'>,
  id: string,
  parameters: ListPaymentsParameters = {},
): Promise<ListPaymentsReturnType> {
  const agent = await client.agents.get(id)
  const rows = await listPaymentRows(client.db, { agentId: agent.id, chainAgentId: agent.chainAgentId })
  return Promise.all(rows.map((payment) => toPaymentView(client, payment, parameters)))
}
