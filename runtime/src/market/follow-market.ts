import { agentEconomyAbi, agentIdentityRegistryAbi } from '@agora/contracts'
import { getCursor, getJob, getListingByWallet, listListingIds, listUnlistedAgents } from '@agora/db'
import type { Address } from 'viem'
import type { RuntimeClient } from '../client.ts'
import type { ChainEvent } from '../projection/indexer.ts'

export type FollowMarketParameters = {
  /** How often every listing is refreshed, so changed files are picked up (default 5 minutes). */
  refreshMs?: number
}

/** Events of the identity registry after which an agent's listing may have changed. */
const agentEvents = new Set(['Registered', 'URIUpdated', 'AgentWalletSet', 'Transfer'])
/** Events of the economy after which a provider's record (and its client's) may have changed. */
const settlements = new Set(['JobCompleted', 'JobRejected', 'JobExpired'])

/**
 * Keeps the market in step with the chain: the indexer hands it the identity registry's events
 * (`onEvents`), each of which queues a refresh of the agent it names (`BaseURISet`: of every
 * agent), and the economy's settlements, each of which queues a refresh of the stored records of
 * the job's provider and client (`refreshReputation`); `start` lists agents hosted here that have no listing yet, lists every agent on the chain
 * when the market was never built over an indexed chain (a database from before the market), and
 * refreshes every listing every `refreshMs`, so files changed at the same URI are picked up.
 *
 * @example
 * const market = followMarket(client, { refreshMs: 60_000 })
 * await market.start()
 */
export function followMarket(
  client: Pick<RuntimeClient, 'db' | 'chain' | 'market' | 'reputations' | 'agents' | 'log'>,
  parameters: FollowMarketParameters = {},
) {
  const registry = client.chain.contracts.identityRegistry.toLowerCase()
  const economy = client.chain.contracts.economy.toLowerCase()

  /** A settled job's provider and client (when the client is an agent) have a new record. */
  function settled(event: ChainEvent) {
    const args = event.args as { jobId: bigint; providerId: bigint; client?: string }
    client.reputations.schedule(args.providerId.toString())
    void clientAgentOf(client, args)
      .then((id) => id && client.reputations.schedule(id))
      .catch((error: unknown) =>
        client.log(`market: the client of job ${args.jobId} not found: ${String(error)}`),
      )
  }
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
        if (event.address.toLowerCase() === economy && settlements.has(event.eventName)) settled(event)
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
      await Promise.all([client.market.stop(), client.reputations.stop()])
    },
  }
}

/** The on-chain id of a job's client when the client is an agent's wallet (hosted here or listed). */
async function clientAgentOf(
  client: Pick<RuntimeClient, 'db' | 'chain' | 'agents'>,
  args: { jobId: bigint; client?: string },
): Promise<string | undefined> {
  const address =
    args.client ??
    (await getJob(client.db, args.jobId.toString()))?.clientAddress ??
    (
      await client.chain.publicClient.readContract({
        address: client.chain.contracts.economy,
        abi: agentEconomyAbi,
        functionName: 'getJob',
        args: [args.jobId],
      })
    ).client
  const hosted = await client.agents.bySafe(address as Address)
  if (hosted?.chainAgentId) return hosted.chainAgentId
  return (await getListingByWallet(client.db, address))?.chainAgentId
}

export type MarketFollower = ReturnType<typeof followMarket>
