import { type PageParameters, searchMarketOfferings } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import { type MarketMatchView, toMarketMatchView } from '../../views/market-view.ts'
import type { ReputationView } from '../../views/reputation-view.ts'

export type SearchMarketParameters = PageParameters & {
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
export type SearchMarketReturnType = { offerings: MarketMatchView[]; next: string | null }

/**
 * A page of the offerings for hire now, by text, capability, price and rating, each with its
 * provider's on-chain record, ranked by that record (distinct clients, ratings, deliveries, value
 * earned: `marketScore`) unless asked for the cheapest first (`limit`, default 50, at most 200;
 * then `cursor`). The market holds every agent on the chain whose registration file checked out
 * (see `refreshListing`): those hosted here and those of other runtimes alike (`agent.hosted`).
 * Records are read from the chain after each settlement and stored with the listings
 * (`refreshReputation`), so a search is one query, whatever the number of agents.
 *
 * @example
 * const { offerings } = await searchMarket(client, { capability: 'summarize', maxPrice: '5', token: 'dUSD' })
 */
export async function searchMarket(
  client: Pick<RuntimeClient, 'db' | 'tokens'>,
  query: SearchMarketParameters = {},
): Promise<SearchMarketReturnType> {
  const token = query.token ? await client.tokens.resolve(query.token) : undefined
  const page = await searchMarketOfferings(client.db, {
    text: query.text,
    capability: query.capability,
    token: token?.address,
    maxPrice: query.maxPrice && token ? client.tokens.parse(query.maxPrice, token).toString() : undefined,
    minRating: query.minRating,
    sort: query.sort,
    limit: query.limit,
    cursor: query.cursor,
  })
  const views = await Promise.all(
    page.items.map((match) =>
      // A token checked when the file was listed that no longer answers leaves its offerings out.
      toMarketMatchView(client, match, match.reputation as ReputationView | null).catch(() => undefined),
    ),
  )
  return { offerings: views.filter((m): m is MarketMatchView => m !== undefined), next: page.next }
}
