import { type Payment, paymentStatuses } from '@agora/db'
import { z } from 'zod'
import type { RuntimeClient } from '../client.ts'
import { moneySchema } from './money.ts'

export const paymentViewSchema = z
  .object({
    id: z.string(),
    status: z.enum(paymentStatuses).describe('`pending` or `sent` until its transaction lands.'),
    from: z.object({ agentId: z.string(), address: z.string() }),
    to: z.object({ chainAgentId: z.string().nullable(), address: z.string() }),
    amount: moneySchema,
    memo: z.string().nullable(),
    txHash: z.string().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Payment', description: "A direct payment from an agent's Safe through the economy." })

export type PaymentView = z.infer<typeof paymentViewSchema>

/**
 * One payment, as `pay` returns it and as an agent's payment list shows it.
 *
 * @example
 * const view = await toPaymentView(client, payment)
 */
export async function toPaymentView(
  client: Pick<RuntimeClient, 'tokens'>,
  payment: Payment,
): Promise<PaymentView> {
  return {
    id: payment.id,
    status: payment.status,
    from: { agentId: payment.fromAgentId, address: payment.fromAddress },
    to: { chainAgentId: payment.toChainAgentId, address: payment.toAddress },
    amount: await client.tokens.moneyOf(payment.amount, payment.token),
    memo: payment.memo,
    txHash: payment.txHash,
    createdAt: payment.createdAt.toISOString(),
    updatedAt: payment.updatedAt.toISOString(),
  }
}
