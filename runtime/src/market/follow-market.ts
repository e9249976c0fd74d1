import { agentIdentityRegistryAbi } from '@agora/contracts'
import { getCursor, listListingIds, listUnlistedAgents } from '@agora/db'
import type { RuntimeClient } from '../client.ts'
import type { ChainEvent } from '../projection/indexer.ts'

export type FollowMarketParameters = {
  /** How often every listing is refreshed, so changed files are picked up (default 5 minutes). */
  refreshMs?: number
}

/** Events of the identity registry after which an agent's listing may have changed. */
const agentEvents = new Set(['Registered', 'URIUpdated', 'AgentWalletSet', 'Transfer'])

/**
 * Keeps the market in step with the chain: the indexer hands it the identity registry's events
 * (`onEvents`), each of which queues a refresh of the agent it names (`BaseURISet`: of every
 * agent); `start` lists agents hosted here that have no listing yet, lists every agent on the chain
 * when the market was never built over an indexed chain (a database from before the market), and
 * refreshes every listing every `refreshMs`, so files changed at the same URI are picked up.
 *
 * @example
 * const market = followMarket(client, { refreshMs: 60_000 })
 * await market.start()
 */
export function followMarket(
  client: Pick<RuntimeClient, 'db' | 'chain' | 'market' | 'log'>,
  parameters: FollowMarketParameters = {},
) {
  const registry = client.chain.contracts.identityRegistry.toLowerCase()
  let timer: ReturnType<typeof setInterval> | undefined

  async function refreshAll() {
    const next = await client.chain.publicClient.readContract({
      address: client.chain.contracts.identityRegistry,
      abi: agentIdentityRegistryAbi,
      functionName: 'nextAgentId',
    })
    for (let id = 1n; id < next; id++) client.market.schedule(id.toString())
  }

  async function refreshListed() {
    const ids = [...(await listListingIds(client.db)), ...(await listUnlistedAgents(client.db))]
    for (const id of ids) client.market.schedule(id)
  }

  return {
    /** Queues refreshes for the registry's events in `events`; never waits for them. */
    onEvents(events: ChainEvent[]) {
      for (const event of events) {
        if (event.address.toLowerCase() !== registry) continue
        if (event.eventName === 'BaseURISet')
          void refreshAll().catch((error: unknown) =>
            client.log(`market: refreshing all failed: ${String(error)}`),
          )
        else if (agentEvents.has(event.eventName)) {
          const args = event.args as { agentId?: bigint; tokenId?: bigint }
          const id = args.agentId ?? args.tokenId
          if (id !== undefined) client.market.schedule(id.toString())
        }
      }
    },
    /** Call before the indexer's first pass at start. */
    async start() {
      for (const id of await listUnlistedAgents(client.db)) client.market.schedule(id)
      const indexed = await getCursor(client.db, 'economy')
      if (indexed && (await listListingIds(client.db)).length === 0)
        await refreshAll().catch((error: unknown) =>
          client.log(`market: listing every agent failed: ${String(error)}`),
        )
      timer = setInterval(() => {
        void refreshListed().catch((error: unknown) => client.log(`market: refresh failed: ${String(error)}`))
      }, parameters.refreshMs ?? 300_000)
      timer.unref()
    },
    async stop() {
      if (timer) clearInterval(timer)
      await client.market.stop()
    },
  }
}

export type MarketFollower = ReturnType<typeof followMarket>
