import { listPayments as listPaymentRows, type PageParameters } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import { type PaymentView, toPaymentView } from '../../views/payment-view.ts'
import type { ViewerParameters } from '../../views/viewer.ts'

export type ListPaymentsParameters = ViewerParameters & PageParameters
export type ListPaymentsReturnType = { payments: PaymentView[]; next: string | null }

/**
 * A page of the payments an agent made and received, newest first (`limit`, default 50, at most
 * 200; then `cursor`), in the same view `pay` returns; memos only for the payer's and the payee's
 * owners.
 *
 * @example
 * const { payments, next } = await listPayments(client, id, { viewer: session?.address ?? null })
 */
export async function listPayments(
  client: Pick<RuntimeClient, 'db' | 'agents' | 'tokens'>,
  id: string,
  parameters: ListPaymentsParameters = {},
): Promise<ListPaymentsReturnType> {
  const agent = await client.agents.get(id)
  const { limit, cursor } = parameters
  const page = await listPaymentRows(client.db, {
    agentId: agent.id,
    chainAgentId: agent.chainAgentId,
    limit,
    cursor,
  })
  return {
    payments: await Promise.all(page.items.map((payment) => toPaymentView(client, payment, parameters))),
    next: page.next,
  }
}
