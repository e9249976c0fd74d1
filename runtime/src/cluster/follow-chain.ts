import type { PublicClient } from 'viem'
import { refundExpiredJobs } from '../actions/jobs/refund-expired-jobs.ts'
import type { RuntimeClient } from '../client.ts'
import { followMarket } from '../market/follow-market.ts'
import { applyJobEvent } from '../projection/apply-job-event.ts'
import { createIndexer } from '../projection/indexer.ts'
import { createIndexerStore } from '../projection/indexer-store.ts'
import { createLeadership } from './leadership.ts'

export type FollowChainParameters = {
  publicClient: PublicClient
  confirmations: number
  pollIntervalMs: number
  marketRefreshMs?: number
}

/**
 * Following the chain, done by one process among those sharing the database (the leader of
 * `agora:indexer`): the indexer (job events, then what each side of a job does next, announced to
 * the process serving it), the market (registration files), refunds of expired jobs. Another
 * process takes over within `retryMs` of the leader's death; the indexer goes on from its stored
 * cursor.
 *
 * @example
 * const chain = followChain(client, { publicClient, confirmations: 0, pollIntervalMs: 250 })
 * await chain.start()
 */
export function followChain(client: RuntimeClient, parameters: FollowChainParameters) {
  const { publicClient, log } = { ...parameters, log: client.log }
  const { manifest } = client.chain
  const market = followMarket(client, { refreshMs: parameters.marketRefreshMs })
  const indexer = createIndexer({
    publicClient,
    store: createIndexerStore(client.db),
    addresses: [manifest.contracts.economy, manifest.contracts.identityRegistry],
    fromBlock: BigInt(manifest.deploymentBlock),
    confirmations: parameters.confirmations,
    pollIntervalMs: parameters.pollIntervalMs,
    log,
    async onEvents(events) {
      // Registry events only queue market refreshes: a slow registration file never holds up jobs.
      market.onEvents(events)
      for (const event of events) await applyJobEvent(client, event)
    },
    async onReorg() {
      log('runtime: chain reorganised; job states are replayed from the common ancestor')
    },
  })
  /** Refunds the jobs past their deadline (by the chain's clock). */
  const refund = async () => {
    const block = await publicClient.getBlock().catch(() => undefined)
    if (block) await refundExpiredJobs(client, Number(block.timestamp))
  }
  const leadership = createLeadership(client, {
    name: 'agora:indexer',
    async lead() {
      await market.start()
      await indexer
        .step()
        .catch((error: unknown) => log(`indexer: catching up at start failed: ${String(error)}`))
      indexer.start()
      await refund().catch(() => {})
    },
  })
  return {
    /** Leads now if no other process does (and has caught up with the chain then), or keeps trying. */
    start: () => leadership.start(),
    /** Whether this process follows the chain now. */
    get leading() {
      return leadership.leading
    },
    /** The sweep's share: refunds, by the leader only. */
    async sweep() {
      if (leadership.leading) await refund()
    },
    stop: () =>
      leadership.stop(async () => {
        await indexer.stop()
        await market.stop()
      }),
  }
}
