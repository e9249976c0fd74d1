import { startWebhookReceiver, type WebhookReceiver } from '@agora/agents'

/**
 * The owner's service behind the tests' sellers (their offerings' `webhook`): a real HTTP server
 * that verifies each request's signature and answers `{ received: input }`. On the devnet the
 * runtime may call it over http on loopback.
 *
 * @example
 * const service = await startSellerService()
 * offerings: [{ name: 'echo', description: 'Echoes', price: '1', token: 'dUSD', webhook: service.url }]
 */
export function startSellerService(): Promise<WebhookReceiver> {
  return startWebhookReceiver({ handle: (job) => ({ received: job.input }) })
}
