import {
  and,
  arrayContains,
  asc,
  desc,
  eq,
  gte,
  ilike,
  isNotNull,
  isNull,
  lte,
  type SQL,
  sql,
} from 'drizzle-orm'
import type { Db } from './create-db.ts'
import { ValidationError } from './errors.ts'
import { assertJson, normalizeAddress, normalizeUint, optional } from './normalize.ts'
import { decodeCursor, encodeCursor, type Page, type PageParameters, pageLimit, toPage } from './page.ts'
import {
  agents,
  type JsonObject,
  type MarketAgent,
  type MarketOffering,
  marketAgents,
  marketOfferings,
} from './schema.ts'

/** Where an offering is sold: as a paid HTTP resource (x402) and through its runtime's escrow API. */
export type MarketEndpoints = { x402?: string; escrow?: string }

export type MarketOfferingInput = {
  name: string
  description?: string
  /** Smallest units of `token`, as a decimal string. */
  price: string
  /** ERC-20 address; the zero address means ETH. */
  token: string
  inputSchema?: Record<string, unknown> | null
  outputSchema?: Record<string, unknown> | null
  capabilities?: string[]
  endpoints?: MarketEndpoints
}

/** What the chain says of an agent: written with every listing, valid or not. */
export type ListingIdentity = {
  chainAgentId: string
  owner: string
  /** The wallet bound to the identity, if any. */
  wallet?: string | null
  /** The registration file's URI (its token URI). */
  uri: string
  /** The runtime id of the agent when it is hosted here. */
  agentId?: string | null
}

export type WriteListingParameters = ListingIdentity & {
  name: string
  description: string
  active: boolean
  /** The registration file as validated. */
  file: Record<string, unknown>
  fileHash: string
  offerings: MarketOfferingInput[]
}

/**
 * Lists an agent with the offerings of its registration file, replacing whatever was listed for it
 * before (offerings not in the file leave the market), in one transaction.
 *
 * @example
 * await writeListing(db, { chainAgentId: '7', owner, uri, name: 'scribe', description: '', active: true, file, fileHash, offerings })
 */
export async function writeListing(db: Db, parameters: WriteListingParameters): Promise<MarketAgent> {
  const identity = identityRow(parameters)
  assertJson(parameters.file, 'file')
  const offerings = parameters.offerings.map((o) => {
    assertJson(o.inputSchema ?? null, 'inputSchema')
    assertJson(o.outputSchema ?? null, 'outputSchema')
    return {
      chainAgentId: identity.chainAgentId,
      name: o.name,
      description: o.description ?? '',
      price: normalizeUint(o.price, 'price'),
      token: normalizeAddress(o.token, 'token'),
      inputSchema: o.inputSchema ?? null,
      outputSchema: o.outputSchema ?? null,
      capabilities: o.capabilities ?? [],
      endpoints: o.endpoints ?? {},
    }
  })
  const listing = {
    ...identity,
    name: parameters.name,
    description: parameters.description,
    status: 'listed' as const,
    active: parameters.active,
    error: null,
    file: parameters.file,
    fileHash: parameters.fileHash,
    fetchedAt: sql`now()`,
    updatedAt: sql`now()`,
  }
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(marketAgents)
      .values(listing)
      .onConflictDoUpdate({ target: marketAgents.chainAgentId, set: listing })
      .returning()
    await tx.delete(marketOfferings).where(eq(marketOfferings.chainAgentId, identity.chainAgentId))
    // The provider's record as last read goes with each offering: searches sort by it.
    const ranked = offerings.map((o) => ({
      ...o,
      active: row!.active,
      searchText: `${o.name}\n${o.description}\n${parameters.name}`.toLowerCase(),
      score: row!.score,
      rating: row!.rating,
      earned: row!.earned[o.token] ?? '0',
    }))
    if (ranked.length > 0) await tx.insert(marketOfferings).values(ranked)
    return row!
  })
}

export type SetMarketReputationParameters = {
  /** The record as read (kept as given, answered with each match). */
  reputation: Record<string, unknown>
  /** How far the market trusts it, 0-100. */
  score: number
  /** Its average rating, 0-100. */
  rating: number
  /** What it earned per token: address → base units as a decimal string. */
  earned: Record<string, string>
}

/**
 * Stores an agent's on-chain record as last read, on its listing and on each of its offerings (so
 * a search sorts and filters by it in SQL); a no-op for an agent the market does not know.
 *
 * @example
 * await setMarketReputation(db, '7', { reputation, score: 70, rating: 95, earned: { [usdc]: '5000000' } })
 */
export async function setMarketReputation(
  db: Db,
  chainAgentId: string,
  parameters: SetMarketReputationParameters,
): Promise<void> {
  const id = normalizeUint(chainAgentId, 'chainAgentId')
  assertJson(parameters.reputation, 'reputation')
  const earned = Object.fromEntries(
    Object.entries(parameters.earned).map(([token, value]) => [
      normalizeAddress(token, 'earned token'),
      normalizeUint(value, 'earned'),
    ]),
  )
  for (const [field, value] of [
    ['score', parameters.score],
    ['rating', parameters.rating],
  ] as const)
    if (!Number.isFinite(value) || value < 0 || value > 100)
      throw new ValidationError(`${field} must be a number from 0 to 100, got ${value}.`, {
        code: 'INVALID_INPUT',
      })
  const { score, rating } = parameters
  await db.transaction(async (tx) => {
    await tx
      .update(marketAgents)
      .set({
        reputation: parameters.reputation as JsonObject,
        score,
        rating,
        earned,
        reputationAt: sql`now()`,
      })
      .where(eq(marketAgents.chainAgentId, id))
    await tx
      .update(marketOfferings)
      .set({
        score,
        rating,
        earned: sql`coalesce((${JSON.stringify(earned)}::jsonb ->> ${marketOfferings.token})::numeric, 0)`,
      })
      .where(eq(marketOfferings.chainAgentId, id))
  })
}

export type SkipListingParameters = ListingIdentity & {
  /** Why the registration file was not listed: kept for people reading the market. */
  error: string
}

/**
 * Records that an agent's registration file could not be listed, and why. Its offerings leave the
 * market: a file that became invalid no longer vouches for what it listed before. The next valid
 * file lists it again.
 *
 * @example
 * await skipListing(db, { chainAgentId: '7', owner, uri, error: 'answered HTTP 404' })
 */
export async function skipListing(db: Db, parameters: SkipListingParameters): Promise<MarketAgent> {
  const identity = identityRow(parameters)
  const skipped = {
    ...identity,
    status: 'skipped' as const,
    error: parameters.error,
    file: null,
    fileHash: null,
    fetchedAt: sql`now()`,
    updatedAt: sql`now()`,
  }
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(marketAgents)
      .values(skipped)
      .onConflictDoUpdate({ target: marketAgents.chainAgentId, set: skipped })
      .returning()
    await tx.delete(marketOfferings).where(eq(marketOfferings.chainAgentId, identity.chainAgentId))
    return row!
  })
}

/**
 * Notes that an agent's listing was checked and found unchanged.
 *
 * @example
 * await touchListing(db, '7')
 */
export async function touchListing(db: Db, chainAgentId: string): Promise<void> {
  await db
    .update(marketAgents)
    .set({ fetchedAt: sql`now()` })
    .where(eq(marketAgents.chainAgentId, normalizeUint(chainAgentId, 'chainAgentId')))
}

/**
 * An agent as the market knows it (listed or skipped), by on-chain id.
 *
 * @example
 * const listing = await getListing(db, '7')
 */
export async function getListing(db: Db, chainAgentId: string): Promise<MarketAgent | undefined> {
  const [row] = await db
    .select()
    .from(marketAgents)
    .where(eq(marketAgents.chainAgentId, normalizeUint(chainAgentId, 'chainAgentId')))
  return row
}

/**
 * The agent the market knows whose bound wallet is `wallet` (the lowest id if several claim it).
 *
 * @example
 * const payer = await getListingByWallet(db, job.clientAddress)
 */
export async function getListingByWallet(db: Db, wallet: string): Promise<MarketAgent | undefined> {
  const [row] = await db
    .select()
    .from(marketAgents)
    .where(eq(marketAgents.wallet, normalizeAddress(wallet, 'wallet')))
    .orderBy(asc(marketAgents.chainAgentId))
    .limit(1)
  return row
}

/**
 * The on-chain ids the market knows (listed or skipped), lowest first; `hosted: false` leaves out
 * agents hosted here, `hosted: true` keeps only them.
 *
 * @example
 * const remote = await listListingIds(db, { hosted: false })
 */
export async function listListingIds(db: Db, options: { hosted?: boolean } = {}): Promise<string[]> {
  const rows = await db
    .select({ chainAgentId: marketAgents.chainAgentId })
    .from(marketAgents)
    .where(
      options.hosted === undefined
        ? undefined
        : options.hosted
          ? isNotNull(marketAgents.agentId)
          : isNull(marketAgents.agentId),
    )
    .orderBy(asc(marketAgents.chainAgentId))
  return rows.map((r) => r.chainAgentId)
}

/**
 * On-chain ids of launched agents hosted here that the market has no listing of yet.
 *
 * @example
 * for (const id of await listUnlistedAgents(db)) queue.schedule(id)
 */
export async function listUnlistedAgents(db: Db): Promise<string[]> {
  const rows = await db
    .select({ chainAgentId: agents.chainAgentId })
    .from(agents)
    .leftJoin(marketAgents, eq(marketAgents.chainAgentId, agents.chainAgentId))
    .where(and(isNotNull(agents.chainAgentId), isNull(marketAgents.chainAgentId)))
    .orderBy(asc(agents.chainAgentId))
  return rows.map((r) => r.chainAgentId!)
}

/** What a match says of the agent selling an offering. */
export type ListingSummary = Pick<
  MarketAgent,
  'chainAgentId' | 'agentId' | 'name' | 'owner' | 'wallet' | 'uri' | 'active'
>

export type MarketOfferingMatch = { offering: MarketOffering; agent: ListingSummary }

const summary = {
  chainAgentId: marketAgents.chainAgentId,
  agentId: marketAgents.agentId,
  name: marketAgents.name,
  owner: marketAgents.owner,
  wallet: marketAgents.wallet,
  uri: marketAgents.uri,
  active: marketAgents.active,
}

/**
 * One offering of a listed agent, by the agent's on-chain id and the offering's name, with the
 * agent's owner and wallet; inactive agents' too (the caller decides).
 *
 * @example
 * const found = await getMarketOffering(db, '7', 'summarize')
 */
export async function getMarketOffering(
  db: Db,
  chainAgentId: string,
  name: string,
): Promise<MarketOfferingMatch | undefined> {
  const [row] = await db
    .select({ offering: marketOfferings, agent: summary })
    .from(marketOfferings)
    .innerJoin(marketAgents, eq(marketAgents.chainAgentId, marketOfferings.chainAgentId))
    .where(
      and(
        eq(marketOfferings.chainAgentId, normalizeUint(chainAgentId, 'chainAgentId')),
        eq(marketOfferings.name, name),
        eq(marketAgents.status, 'listed'),
      ),
    )
  return row
}

export type SearchMarketOfferingsParameters = PageParameters & {
  /** Case-insensitive substring of the offering's name or description, or of the agent's name. */
  text?: string
  /** Offerings that list this capability. */
  capability?: string
  /** Highest price, inclusive, in smallest units as a decimal string. */
  maxPrice?: string
  token?: string
  /** The provider's lowest average rating (0-100). */
  minRating?: number
  /**
   * `reputation` (default): the most trusted providers first (their stored score), then the most
   * earned in the offering's token, then the cheapest; `price`: the cheapest first.
   */
  sort?: 'reputation' | 'price'
}

/** A match with its provider's record as last stored (null until read). */
export type MarketSearchMatch = MarketOfferingMatch & { reputation: JsonObject | null }

/**
 * A page of the offerings of listed, active agents, hosted here or not, in the order `sort` names;
 * every filter and the order are answered by the database (indexes on capability, token and price,
 * and on the stored reputation), so a search costs the same with ten agents or ten thousand.
 *
 * @example
 * const { items, next } = await searchMarketOfferings(db, { capability: 'summarize', maxPrice: '5000000', token: usdc })
 */
export async function searchMarketOfferings(
  db: Db,
  parameters: SearchMarketOfferingsParameters = {},
): Promise<Page<MarketSearchMatch>> {
  const limit = pageLimit(parameters.limit)
  const byPrice = parameters.sort === 'price'
  const pattern = parameters.text ? `%${parameters.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined
  if (parameters.minRating !== undefined && !(parameters.minRating >= 0 && parameters.minRating <= 100))
    throw new ValidationError(`minRating must be a number from 0 to 100, got ${parameters.minRating}.`, {
      code: 'INVALID_INPUT',
    })
  const o = marketOfferings
  const rows = await db
    .select({ offering: o, agent: summary, reputation: marketAgents.reputation })
    .from(o)
    .innerJoin(marketAgents, eq(marketAgents.chainAgentId, o.chainAgentId))
    .where(
      and(
        // Only listed agents have offerings (a skipped listing loses them), each saying whether its agent is active.
        eq(o.active, true),
        pattern ? ilike(o.searchText, pattern) : undefined,
        parameters.capability ? arrayContains(o.capabilities, [parameters.capability]) : undefined,
        parameters.maxPrice ? lte(o.price, normalizeUint(parameters.maxPrice, 'maxPrice')) : undefined,
        parameters.token ? eq(o.token, normalizeAddress(parameters.token, 'token')) : undefined,
        parameters.minRating !== undefined ? gte(o.rating, parameters.minRating) : undefined,
        parameters.cursor ? after(parameters.cursor, byPrice) : undefined,
      ),
    )
    .orderBy(
      ...(byPrice ? [asc(o.price), asc(o.id)] : [desc(o.score), desc(o.earned), asc(o.price), asc(o.id)]),
    )
    .limit(limit + 1)
  return toPage(rows, limit, ({ offering: last }) =>
    byPrice
      ? encodeCursor('offerings by price', [last.price, last.id])
      : encodeCursor('offerings', [last.score, last.earned, last.price, last.id]),
  )
}

/** The offerings after a cursor's, in the order it was made for. */
function after(cursor: string, byPrice: boolean): SQL {
  const o = marketOfferings
  if (byPrice) {
    const [price, id] = decodeCursor(cursor, 'offerings by price', ['string', 'number'])
    return sql`(${o.price}, ${o.id}) > (${normalizeUint(price, 'cursor')}::numeric, ${id})`
  }
  const [score, earnedValue, price, id] = decodeCursor(cursor, 'offerings', [
    'number',
    'string',
    'string',
    'number',
  ])
  const earned = normalizeUint(earnedValue, 'cursor')
  const at = normalizeUint(price, 'cursor')
  return sql`(${o.score} < ${score} or (${o.score} = ${score} and (${o.earned} < ${earned}::numeric or (${o.earned} = ${earned}::numeric and (${o.price}, ${o.id}) > (${at}::numeric, ${id})))))`
}

function identityRow(parameters: ListingIdentity) {
  return {
    chainAgentId: normalizeUint(parameters.chainAgentId, 'chainAgentId'),
    owner: normalizeAddress(parameters.owner, 'owner'),
    wallet: optional(parameters.wallet, (w) => normalizeAddress(w, 'wallet')) ?? null,
    uri: parameters.uri,
    agentId: parameters.agentId ?? null,
  }
}
