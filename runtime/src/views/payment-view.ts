import { type Payment, paymentKinds, paymentStatuses } from '@agora/db'
import { z } from 'zod'
import type { RuntimeClient } from '../client.ts'
import { moneySchema } from './money.ts'
import { ownerOf, type Viewer, viewerIsAny } from './viewer.ts'

export const paymentViewSchema = z
  .object({
    id: z.string(),
    status: z
      .enum(paymentStatuses)
      .describe('`pending` or `sent` until its transaction lands; `failed` only once it can never happen.'),
    kind: z
      .enum(paymentKinds)
      .describe(
        '`pay`: through the economy; `x402`: an EIP-3009 authorization settled for an x402 resource.',
      ),
    from: z.object({
      agentId: z
        .string()
        .nullable()
        .describe('The paying agent when it is hosted here; null for an outside payer.'),
      address: z.string(),
    }),
    to: z.object({
      chainAgentId: z.string().nullable(),
      agentId: z.string().nullable().describe('The paid agent when it is hosted here.'),
      address: z.string(),
    }),
    resource: z.string().nullable().describe('What an x402 payment bought: the resource URL.'),
    amount: moneySchema,
    memo: z
      .string()
      .nullable()
      .describe(
        "The payer's note (its hash is on chain); null for anyone but the payer's and the payee's owners.",
      ),
    txHash: z.string().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({
    id: 'Payment',
    description:
      "A payment made or received by an agent: through the economy's `pay`, or for an x402 resource.",
  })

export type PaymentView = z.infer<typeof paymentViewSchema>

/**
 * Whether `viewer` may read the payment's memo: the payer's and the payee's owners (or their Safes) may.
 *
 * @example
 * const full = await paymentVisibleTo(client, payment, session.address)
 */
export async function paymentVisibleTo(
  client: Partial<Pick<RuntimeClient, 'agents'>>,
  payment: Payment,
  viewer: Viewer,
): Promise<boolean> {
  if (viewerIsAny(viewer, [payment.fromAddress, payment.toAddress])) return true
  if (!viewer || !client.agents) return false
  const { agents } = client
  const owners = await Promise.all([
    payment.fromAgentId ? ownerOf({ agents }, { id: payment.fromAgentId }) : undefined,
    ownerOf({ agents }, { chainAgentId: payment.toChainAgentId }),
  ])
  return viewerIsAny(viewer, owners)
}

/**
 * One payment, as `pay` returns it and as an agent's payment list shows it. With `viewer`, the memo
 * is null unless the viewer is the payer's or the payee's owner (`paymentVisibleTo`).
 *
 * @example
 * const view = await toPaymentView(client, payment, { viewer: session.address })
 */
export async function toPaymentView(
  // `agents` is needed only to find owners for a viewer.
  client: Pick<RuntimeClient, 'tokens'> & Partial<Pick<RuntimeClient, 'agents'>>,
  payment: Payment,
  parameters: { viewer?: Viewer } = {},
): Promise<PaymentView> {
  const visible = payment.memo === null || (await paymentVisibleTo(client, payment, parameters.viewer))
  return {
    id: payment.id,
    status: payment.status,
    kind: payment.kind,
    from: { agentId: payment.fromAgentId, address: payment.fromAddress },
    to: {
      chainAgentId: payment.toChainAgentId,
      agentId: await payeeAgentId(client, payment),
      address: payment.toAddress,
    },
    resource: payment.resource,
    amount: await client.tokens.moneyOf(payment.amount, payment.token),
    memo: visible ? payment.memo : null,
    txHash: payment.txHash,
    createdAt: payment.createdAt.toISOString(),
    updatedAt: payment.updatedAt.toISOString(),
  }
}

/** The paid agent's runtime id when it is hosted here (recorded for x402 sales, looked up for payments). */
async function payeeAgentId(
  client: Partial<Pick<RuntimeClient, 'agents'>>,
  payment: Payment,
): Promise<string | null> {
  if (payment.toAgentId || !payment.toChainAgentId || !client.agents) return payment.toAgentId
  return (await client.agents.byChainId(payment.toChainAgentId).catch(() => undefined))?.id ?? null
}
