import { and, arrayContains, asc, eq, ilike, lte, notInArray, or, sql } from 'drizzle-orm'
import type { Db } from './create-db.ts'
import { normalizeAddress, normalizeUint } from './normalize.ts'
import { type Agent, agents, type Offering, offerings, zeroAddress } from './schema.ts'

export type OfferingInput = {
  name: string
  description?: string
  /** Smallest units of `token`, as a decimal string. */
  price: string
  /** ERC-20 address; the zero address (the default) means ETH. */
  token?: string
  inputSchema?: Record<string, unknown> | null
  capabilities?: string[]
  active?: boolean
}

export type UpsertOfferingsParameters = {
  agentId: string
  offerings: OfferingInput[]
  /** Also deactivate the agent's offerings whose names are not in `offerings`. */
  deactivateMissing?: boolean
}

/**
 * Writes an agent's offerings as declared, matched by name: new names are inserted, known names
 * are overwritten (fields left out take their defaults).
 *
 * @example
 * await upsertOfferings(db, { agentId, offerings: [{ name: 'summarize', price: '1000000', token: usdc }] })
 */
export async function upsertOfferings(db: Db, parameters: UpsertOfferingsParameters): Promise<Offering[]> {
  const rows = parameters.offerings.map((offering) => ({
    agentId: parameters.agentId,
    name: offering.name,
    description: offering.description ?? '',
    price: normalizeUint(offering.price, 'price'),
    token: normalizeAddress(offering.token ?? zeroAddress, 'token'),
    inputSchema: offering.inputSchema ?? null,
    capabilities: offering.capabilities ?? [],
    active: offering.active ?? true,
  }))
  return db.transaction(async (tx) => {
    if (parameters.deactivateMissing)
      await tx
        .update(offerings)
        .set({ active: false, updatedAt: sql`now()` })
        .where(
          and(
            eq(offerings.agentId, parameters.agentId),
            rows.length > 0
              ? notInArray(
                  offerings.name,
                  rows.map((row) => row.name),
                )
              : undefined,
          ),
        )
    if (rows.length === 0) return []
    return tx
      .insert(offerings)
      .values(rows)
      .onConflictDoUpdate({
        target: [offerings.agentId, offerings.name],
        set: {
          description: sql`excluded.description`,
          price: sql`excluded.price`,
          token: sql`excluded.token`,
          inputSchema: sql`excluded.input_schema`,
          capabilities: sql`excluded.capabilities`,
          active: sql`excluded.active`,
          updatedAt: sql`now()`,
        },
      })
      .returning()
  })
}

/**
 * An agent's offerings by name; inactive ones too unless `activeOnly`.
 *
 * @example
 * await listOfferings(db, agentId, { activeOnly: true })
 */
export function listOfferings(
  db: Db,
  agentId: string,
  options: { activeOnly?: boolean } = {},
): Promise<Offering[]> {
  return db
    .select()
    .from(offerings)
    .where(and(eq(offerings.agentId, agentId), options.activeOnly ? eq(offerings.active, true) : undefined))
    .orderBy(asc(offerings.name))
}

export type SearchOfferingsParameters = {
  /** Case-insensitive substring of the offering's name or description, or of the agent's name. */
  text?: string
  /** Offerings that list this capability. */
  capability?: string
  /** Highest price, inclusive, in smallest units as a decimal string. */
  maxPrice?: string
  token?: string
  limit?: number
}

export type OfferingMatch = {
  offering: Offering
  agent: Pick<Agent, 'id' | 'chainAgentId' | 'name' | 'owner'>
}

/**
 * Finds offerings that can be hired now: active offerings of active agents, cheapest first.
 *
 * @example
 * const matches = await searchOfferings(db, { capability: 'summarize', maxPrice: '5000000', token: usdc })
 */
export async function searchOfferings(
  db: Db,
  parameters: SearchOfferingsParameters = {},
): Promise<OfferingMatch[]> {
  const pattern = parameters.text ? `%${parameters.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined
  return db
    .select({
      offering: offerings,
      agent: { id: agents.id, chainAgentId: agents.chainAgentId, name: agents.name, owner: agents.owner },
    })
    .from(offerings)
    .innerJoin(agents, eq(agents.id, offerings.agentId))
    .where(
      and(
        eq(offerings.active, true),
        eq(agents.status, 'active'),
        pattern
          ? or(
              ilike(offerings.name, pattern),
              ilike(offerings.description, pattern),
              ilike(agents.name, pattern),
            )
          : undefined,
        parameters.capability ? arrayContains(offerings.capabilities, [parameters.capability]) : undefined,
        parameters.maxPrice
          ? lte(offerings.price, normalizeUint(parameters.maxPrice, 'maxPrice'))
          : undefined,
        parameters.token ? eq(offerings.token, normalizeAddress(parameters.token, 'token')) : undefined,
      ),
    )
    .orderBy(asc(offerings.price), asc(offerings.id))
    .limit(parameters.limit ?? 50)
}
