import { searchMarketOfferings } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import { type MarketMatchView, toMarketMatchView } from '../../views/market-view.ts'
import type { ReputationView } from '../../views/reputation-view.ts'
import { getReputation } from './get-reputation.ts'
import { marketScore } from './market-score.ts'

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
  /**
   * `reputation` (default): the most trusted records first (`marketScore`), then the most earned in
   * the offering's token, then the cheapest; `price`: the cheapest first.
   */
  sort?: 'reputation' | 'price'
}
export type SearchMarketReturnType = MarketMatchView[]

/**
 * Offerings for hire now, by text, capability and price, each with its provider's on-chain record,
 * ranked by that record (distinct clients, ratings, deliveries, value earned) unless asked for the
 * cheapest first. The market holds every agent on the chain whose registration file checked out
 * (see `refreshListing`): those hosted here and those of other runtimes alike (`agent.hosted`).
 *
 * @example
 * const matches = await searchMarket(client, { capability: 'summarize', maxPrice: '5', token: 'dUSD' })
 */
export async function searchMarket(
  client: Pick<RuntimeClient, 'db' | 'tokens' | 'chain' | 'agents'>,
  query: SearchMarketParameters = {},
): Promise<SearchMarketReturnType> {
  const token = query.token ? await client.tokens.resolve(query.token) : undefined
  // Cheapest first: the order among equally trusted providers.
  const matches = await searchMarketOfferings(client.db, {
    text: query.text,
    capability: query.capability,
    token: token?.address,
    maxPrice: query.maxPrice && token ? client.tokens.parse(query.maxPrice, token).toString() : undefined,
  })
  // One read per provider, however many of its offerings match.
  const byAgent = new Map<string, Promise<ReputationView>>()
  const views = await Promise.all(
    matches.map(async (match) => {
      const id = match.agent.chainAgentId
      if (!byAgent.has(id)) byAgent.set(id, getReputation(client, id))
      const reputation = await byAgent.get(id)!
      // A token checked when the file was listed that no longer answers leaves its offerings out.
      return toMarketMatchView(client, match, reputation).catch(() => undefined)
    }),
  )
  const found = views.filter(
    (m): m is MarketMatchView =>
      m !== undefined &&
      (query.minRating === undefined || (m.reputation?.averageRating ?? 0) >= query.minRating),
  )
  if (query.sort === 'price') return found
  const earnedIn = (m: MarketMatchView) =>
    BigInt(m.reputation?.earned.find((e) => e.token === m.offering.price.token)?.value ?? 0)
  const ranked = found.map((m) => ({ m, score: marketScore(m.reputation), earned: earnedIn(m) }))
  ranked.sort((a, b) => b.score - a.score || (b.earned > a.earned ? 1 : b.earned < a.earned ? -1 : 0))
  return ranked.map(({ m }) => m)
}
