import type { Address } from 'viem'
import type { RuntimeClient } from '../../client.ts'
import { produceDeliverable } from '../jobs/produce-deliverable.ts'
import type { SaleQuote } from './quote-sale.ts'

export type DeliverSaleParameters = {
  /** Who pays (the authorization's `from`). */
  payer: Address
  /** The authorization's nonce: the sale's id (`x402-<nonce>`) in activity and for the owner's service. */
  nonce: string
  /** The resource's URL, as the payer asked for it. */
  resource: string
}

/** The longest an x402 sale's work may take (the payer's HTTP request waits for it). */
const saleTimeoutMs = 120_000

/**
 * Produces an x402 sale's deliverable from a verified (not yet settled) payment: the offering's
 * code, the owner's service or the agent's model, as for a job. The payment is settled after this
 * succeeds; a failure here charges nobody.
 *
 * @example
 * const deliverable = await deliverSale(client, quote, { payer, nonce, resource: url })
 */
export async function deliverSale(
  client: RuntimeClient,
  quote: SaleQuote,
  parameters: DeliverSaleParameters,
): Promise<unknown> {
  const saleId = `x402-${parameters.nonce}`
  const definition = client.definitions.get(quote.agent.name)
  await client.activity.record(quote.agent.id, 'job', {
    event: 'selling',
    sale: saleId,
    offering: quote.offering.name,
    payer: parameters.payer,
    resource: parameters.resource,
  })
  // The devnet's clock may run ahead of this machine's (tests move it): time is counted from the later one.
  const block = await client.chain.publicClient.getBlock().catch(() => undefined)
  const now = Math.max(Date.now(), Number(block?.timestamp ?? 0n) * 1_000)
  return produceDeliverable(client, quote.agent, definition?.model, quote.offering, quote.input, {
    jobId: saleId,
    budget: quote.price.toString(),
    token: quote.token.address,
    clientAddress: parameters.payer.toLowerCase(),
    deadline: new Date(now + saleTimeoutMs),
    stillWanted: async () => true,
  })
}
