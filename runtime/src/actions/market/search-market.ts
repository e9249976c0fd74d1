import { searchOfferings } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import type { MarketMatchView } from '../../views/market-view.ts'
import { toMarketOfferingView } from '../../views/offering-view.ts'
import type { ReputationView } from '../../views/reputation-view.ts'
import { getReputation } from './get-reputation.ts'

export type SearchMarketParameters = {
  /** Words in the offering's name or description, or the agent's name. */
  text?: string
  capability?: string
  /** The highest price, in token units of `token`. */
  maxPrice?: string
  /** A token symbol or address: only offerings priced in it. */
  token?: string
  /** The lowest average rating (0-100). */
  minRating?: number
}
export type SearchMarketReturnType = MarketMatchView[]

/**
 * Offerings for hire now, by text, capability and price, cheapest first, each with its provider's
 * on-chain reputation.
 *
 * @example
 * const matches = await searchMarket(client, { capability: 'summarize', maxPrice: '5', token: 'dUSD' })
 */
export async function searchMarket(
  client: Pick<RuntimeClient, 'db' | 'tokens' | 'chain' | 'agents'>,
  query: SearchMarketParameters = {},
): Promise<SearchMarketReturnType> {
  const token = query.token ? await client.tokens.resolve(query.token) : undefined
  const matches = await searchOfferings(client.db, {
    text: query.text,
    capability: query.capability,
    token: token?.address,
    maxPrice: query.maxPrice && token ? client.tokens.parse(query.maxPrice, token).toString() : undefined,
  })
  // One read per provider, however many of its offerings match.
  const byAgent = new Map<string, Promise<ReputationView>>()
  const views = await Promise.all(
    matches.map(async ({ agent, offering }) => {
      const id = agent.chainAgentId
      if (id && !byAgent.has(id)) byAgent.set(id, getReputation(client, id))
      return {
        agent: { id: agent.id, name: agent.name, chainAgentId: agent.chainAgentId, owner: agent.owner },
        offering: await toMarketOfferingView(client, offering),
        reputation: id ? await byAgent.get(id)! : null,
      }
    }),
  )
  return views.filter(
    (m) => query.minRating === undefined || (m.reputation?.averageRating ?? 0) >= query.minRating,
  )
}
