import { getPayment as getPaymentRow, NotFoundError } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import { type PaymentView, toPaymentView } from '../../views/payment-view.ts'
import type { ViewerParameters } from '../../views/viewer.ts'

export type GetPaymentParameters = ViewerParameters
export type GetPaymentReturnType = PaymentView

/**
 * One payment an agent made, by its id (`pay_…`): where a payment answered as pending is followed
 * until it lands. A `NotFoundError` when the agent made no such payment.
 *
 * @example
 * const payment = await getPayment(client, agentId, 'pay_…', { viewer: session?.address ?? null })
 */
export async function getPayment(
  client: Pick<RuntimeClient, 'db' | 'agents' | 'tokens'>,
  agentId: string,
  paymentId: string,
  parameters: GetPaymentParameters = {},
): Promise<GetPaymentReturnType> {
  const agent = await client.agents.get(agentId)
  const payment = /^pay_\w{1,64}$/.test(paymentId) ? await getPaymentRow(client.db, paymentId) : undefined
  const party =
    payment &&
    (payment.fromAgentId === agent.id ||
      payment.toAgentId === agent.id ||
      (agent.chainAgentId !== null && payment.toChainAgentId === agent.chainAgentId))
  if (!payment || !party)
    throw new NotFoundError(`Agent "${agent.name}" made or received no payment ${paymentId}.`)
  return toPaymentView(client, payment, parameters)
}
