import { and, arrayContains, asc, eq, ilike, isNotNull, isNull, lte, or, sql } from 'drizzle-orm'
import type { Db } from './create-db.ts'
import { assertJson, normalizeAddress, normalizeUint, optional } from './normalize.ts'
import { agents, type MarketAgent, type MarketOffering, marketAgents, marketOfferings } from './schema.ts'

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
    if (offerings.length > 0) await tx.insert(marketOfferings).values(offerings)
    return row!
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

export type SearchMarketOfferingsParameters = {
  /** Case-insensitive substring of the offering's name or description, or of the agent's name. */
  text?: string
  /** Offerings that list this capability. */
  capability?: string
  /** Highest price, inclusive, in smallest units as a decimal string. */
  maxPrice?: string
  token?: string
  limit?: number
}

/**
 * Offerings of listed, active agents, hosted here or not, cheapest first.
 *
 * @example
 * const matches = await searchMarketOfferings(db, { capability: 'summarize', maxPrice: '5000000', token: usdc })
 */
export async function searchMarketOfferings(
  db: Db,
  parameters: SearchMarketOfferingsParameters = {},
): Promise<MarketOfferingMatch[]> {
  const pattern = parameters.text ? `%${parameters.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined
  return db
    .select({ offering: marketOfferings, agent: summary })
    .from(marketOfferings)
    .innerJoin(marketAgents, eq(marketAgents.chainAgentId, marketOfferings.chainAgentId))
    .where(
      and(
        eq(marketAgents.status, 'listed'),
        eq(marketAgents.active, true),
        pattern
          ? or(
              ilike(marketOfferings.name, pattern),
              ilike(marketOfferings.description, pattern),
              ilike(marketAgents.name, pattern),
            )
          : undefined,
        parameters.capability
          ? arrayContains(marketOfferings.capabilities, [parameters.capability])
          : undefined,
        parameters.maxPrice
          ? lte(marketOfferings.price, normalizeUint(parameters.maxPrice, 'maxPrice'))
          : undefined,
        parameters.token ? eq(marketOfferings.token, normalizeAddress(parameters.token, 'token')) : undefined,
      ),
    )
    .orderBy(asc(marketOfferings.price), asc(marketOfferings.id))
    .limit(parameters.limit ?? 50)
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
