import { and, asc, eq, sql } from 'drizzle-orm'
import type { Db } from './create-db.ts'
import { createId } from './create-id.ts'
import { ConflictError, NotFoundError } from './errors.ts'
import { normalizeAddress, normalizeUint, optional } from './normalize.ts'
import { decodeCursor, encodeCursor, type Page, type PageParameters, pageLimit, toPage } from './page.ts'
import { type Agent, type AgentStatus, agents, type Owner, owners } from './schema.ts'

/**
 * Records an owner address once; later calls return the existing row.
 *
 * @example
 * await ensureOwner(db, '0xAbC...')
 */
export async function ensureOwner(db: Db, address: string): Promise<Owner> {
  const normalized = normalizeAddress(address, 'owner')
  const [inserted] = await db.insert(owners).values({ address: normalized }).onConflictDoNothing().returning()
  if (inserted) return inserted
  const [existing] = await db.select().from(owners).where(eq(owners.address, normalized))
  return existing!
}

export type InsertAgentParameters = {
  /** Defaults to a fresh `agt_…` id. */
  id?: string
  owner: string
  name: string
  description?: string
  instructions?: string
  definition?: Record<string, unknown>
  status?: AgentStatus
  signerAddress: string
  /** Ciphertext only: encrypt before calling. */
  encryptedKey: string
  /** The model's API key, sealed (ciphertext only), when its owner gave one. */
  modelKey?: string | null
  chainAgentId?: string | null
  safeAddress?: string | null
  accountAddress?: string | null
  launchTx?: string | null
  /** The shard that serves it (default 0): the one of the process launching it. */
  shard?: number
}

/**
 * Inserts an agent (status `launching` unless given) and its owner if new, atomically. Names are
 * unique: a taken one throws `ConflictError` with code `NAME_TAKEN`.
 *
 * @example
 * const agent = await insertAgent(db, { owner, name: 'summarizer', signerAddress, encryptedKey })
 */
export async function insertAgent(db: Db, parameters: InsertAgentParameters): Promise<Agent> {
  const values = {
    ...parameters,
    id: parameters.id ?? createId('agt'),
    owner: normalizeAddress(parameters.owner, 'owner'),
    signerAddress: normalizeAddress(parameters.signerAddress, 'signerAddress'),
    chainAgentId: optional(parameters.chainAgentId, (v) => normalizeUint(v, 'chainAgentId')),
    safeAddress: optional(parameters.safeAddress, (v) => normalizeAddress(v, 'safeAddress')),
    accountAddress: optional(parameters.accountAddress, (v) => normalizeAddress(v, 'accountAddress')),
  }
  return db.transaction(async (tx) => {
    await ensureOwner(tx, values.owner)
    // Offering handlers are found by name, so a name belongs to one agent: the unique index decides.
    const [agent] = await tx
      .insert(agents)
      .values(values)
      .onConflictDoNothing({ target: agents.name })
      .returning()
    if (!agent)
      throw new ConflictError(`An agent named "${values.name}" exists already.`, { code: 'NAME_TAKEN' })
    return agent
  })
}

/** @example const agent = await getAgent(db, 'agt_…') */
export async function getAgent(db: Db, id: string): Promise<Agent | undefined> {
  const [agent] = await db.select().from(agents).where(eq(agents.id, id))
  return agent
}

/**
 * Finds the local agent behind an on-chain agent id, if it is ours.
 *
 * @example
 * await getAgentByChainId(db, '7')
 */
export async function getAgentByChainId(db: Db, chainAgentId: string): Promise<Agent | undefined> {
  const [agent] = await db
    .select()
    .from(agents)
    .where(eq(agents.chainAgentId, normalizeUint(chainAgentId, 'chainAgentId')))
  return agent
}

/** @example const agent = await getAgentBySafe(db, '0xSafe…') */
export async function getAgentBySafe(db: Db, safeAddress: string): Promise<Agent | undefined> {
  const [agent] = await db
    .select()
    .from(agents)
    .where(eq(agents.safeAddress, normalizeAddress(safeAddress, 'safeAddress')))
  return agent
}

export type ListAgentsParameters = {
  owner?: string
  status?: AgentStatus
  /** Only the agents one shard serves. */
  shard?: number
}

/**
 * Agents oldest first, optionally of one owner and in one status.
 *
 * @example
 * await listAgents(db, { status: 'active' })
 */
export async function listAgents(db: Db, parameters: ListAgentsParameters = {}): Promise<Agent[]> {
  const owner = optional(parameters.owner, (v) => normalizeAddress(v, 'owner'))
  return db
    .select()
    .from(agents)
    .where(
      and(
        owner ? eq(agents.owner, owner) : undefined,
        parameters.status ? eq(agents.status, parameters.status) : undefined,
        parameters.shard === undefined ? undefined : eq(agents.shard, parameters.shard),
      ),
    )
    .orderBy(asc(agents.createdAt), asc(agents.id))
}

/**
 * A page of agents, oldest first, optionally of one owner and in one status. Agents launched while
 * pages are read come at the end: a page never repeats or skips one.
 *
 * @example
 * const first = await pageAgents(db, { limit: 50 })
 * const second = await pageAgents(db, { limit: 50, cursor: first.next! })
 */
export async function pageAgents(
  db: Db,
  parameters: ListAgentsParameters & PageParameters = {},
): Promise<Page<Agent>> {
  const limit = pageLimit(parameters.limit)
  const owner = optional(parameters.owner, (v) => normalizeAddress(v, 'owner'))
  const [after] = parameters.cursor ? decodeCursor(parameters.cursor, 'agents', ['string']) : []
  const rows = await db
    .select()
    .from(agents)
    .where(
      and(
        owner ? eq(agents.owner, owner) : undefined,
        parameters.status ? eq(agents.status, parameters.status) : undefined,
        after === undefined
          ? undefined
          : sql`(${agents.createdAt}, ${agents.id}) > (select a.created_at, a.id from ${agents} a where a.id = ${after})`,
      ),
    )
    .orderBy(asc(agents.createdAt), asc(agents.id))
    .limit(limit + 1)
  return toPage(rows, limit, (last) => encodeCursor('agents', [last.id]))
}

/** @example const mine = await listAgentsByOwner(db, session.address) */
export function listAgentsByOwner(db: Db, owner: string): Promise<Agent[]> {
  return listAgents(db, { owner })
}

export type UpdateAgentParameters = Partial<
  Pick<
    Agent,
    | 'name'
    | 'description'
    | 'instructions'
    | 'definition'
    | 'status'
    | 'chainAgentId'
    | 'safeAddress'
    | 'accountAddress'
    | 'launchTx'
    | 'encryptedKey'
    | 'modelKey'
  >
>

/**
 * Changes the given fields of an agent; fields left out keep their value.
 *
 * @example
 * await updateAgent(db, id, { status: 'active', chainAgentId: '7', safeAddress, accountAddress, launchTx })
 */
export async function updateAgent(db: Db, id: string, patch: UpdateAgentParameters): Promise<Agent> {
  const values = {
    ...patch,
    chainAgentId: optional(patch.chainAgentId, (v) => normalizeUint(v, 'chainAgentId')),
    safeAddress: optional(patch.safeAddress, (v) => normalizeAddress(v, 'safeAddress')),
    accountAddress: optional(patch.accountAddress, (v) => normalizeAddress(v, 'accountAddress')),
    updatedAt: sql`now()`,
  }
  const [agent] = await db.update(agents).set(values).where(eq(agents.id, id)).returning()
  if (!agent) throw new NotFoundError(`Agent ${id} not found.`, { code: 'NOT_FOUND' })
  return agent
}
