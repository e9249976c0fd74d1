import { type SQL, sql } from 'drizzle-orm'
import {
  type AnyPgColumn,
  bigint,
  bigserial,
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core'

export const agentStatuses = ['launching', 'active', 'paused', 'retired'] as const
export type AgentStatus = (typeof agentStatuses)[number]

/** Lower-case names on purpose: the contracts package numbers the on-chain enum with its own names. */
/**
 * `pending`: recorded with its createJob intent, not yet on-chain; `failed`: that intent failed, so
 * the job never existed on-chain. The rest mirror the economy contract.
 */
export const jobRecordStatuses = [
  'pending',
  'funded',
  'submitted',
  'completed',
  'rejected',
  'declined',
  'expired',
  'failed',
] as const
export type JobRecordStatus = (typeof jobRecordStatuses)[number]

export const paymentStatuses = ['pending', 'sent', 'confirmed', 'failed'] as const
export type PaymentStatus = (typeof paymentStatuses)[number]

/** `pay`: through the economy's `pay`; `x402`: an EIP-3009 authorization settled for an x402 resource. */
export const paymentKinds = ['pay', 'x402'] as const
export type PaymentKind = (typeof paymentKinds)[number]

/** `listed`: its registration file was read and is valid; `skipped`: it could not be (see `error`). */
export const listingStatuses = ['listed', 'skipped'] as const
export type ListingStatus = (typeof listingStatuses)[number]

export const intentStatuses = ['pending', 'sent', 'confirmed', 'failed'] as const
export type IntentStatus = (typeof intentStatuses)[number]

export const intentKinds = [
  'launch',
  'approve',
  'pay',
  'createJob',
  'submitJob',
  'completeJob',
  'rejectJob',
  'declineJob',
  'refundExpired',
  'withdraw',
  'x402Settle',
  'topUp',
  'ownerTransaction',
] as const
export type IntentKind = (typeof intentKinds)[number]

export const activityKinds = ['job', 'payment', 'model', 'tool', 'tx', 'guardrail', 'lifecycle'] as const
export type ActivityKind = (typeof activityKinds)[number]

/** The token address that stands for native ETH in offerings, jobs and payments. */
export const zeroAddress = '0x0000000000000000000000000000000000000000'

export type JsonObject = Record<string, unknown>

// uint256 fits in numeric(78,0); drizzle hands it over as a decimal string, never a JS number.
const uint256 = (name: string) => numeric(name, { precision: 78, scale: 0 })
const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow()

// Addresses are compared as text, so one spelling only: lower-case hex.
const isAddress = (column: AnyPgColumn): SQL => sql`${column} ~ '^0x[0-9a-f]{40}$'`
const isOneOf = (column: AnyPgColumn, values: readonly string[]): SQL =>
  sql`${column} in (${sql.raw(values.map((value) => `'${value}'`).join(', '))})`

export const owners = pgTable(
  'owners',
  {
    address: text('address').primaryKey(),
    createdAt: createdAt(),
  },
  (t) => [check('owners_address_check', isAddress(t.address))],
)

export const agents = pgTable(
  'agents',
  {
    id: text('id').primaryKey(),
    chainAgentId: uint256('chain_agent_id').unique(),
    owner: text('owner')
      .notNull()
      .references(() => owners.address),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    instructions: text('instructions').notNull().default(''),
    /** Model config, spending policy and offerings as the owner declared them. */
    definition: jsonb('definition').$type<JsonObject>().notNull().default({}),
    status: text('status', { enum: agentStatuses }).notNull().default('launching'),
    signerAddress: text('signer_address').notNull().unique(),
    /** Ciphertext of the agent's private key; the plaintext never reaches the database. */
    encryptedKey: text('encrypted_key').notNull(),
    /** Ciphertext of the API key of the agent's model provider, when its owner gave one (never returned). */
    modelKey: text('model_key'),
    safeAddress: text('safe_address').unique(),
    accountAddress: text('account_address').unique(),
    launchTx: text('launch_tx'),
    /**
     * The shard that serves the agent: one runtime process at a time holds a shard (a lease), runs
     * its agents and signs with its relayers. 0 unless several processes share the database.
     */
    shard: integer('shard').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('agents_owner_idx').on(t.owner),
    index('agents_shard_idx').on(t.shard, t.createdAt, t.id),
    index('agents_created_at_idx').on(t.createdAt, t.id),
    uniqueIndex('agents_name_idx').on(t.name),
    check('agents_status_check', isOneOf(t.status, agentStatuses)),
    check('agents_signer_address_check', isAddress(t.signerAddress)),
    check('agents_safe_address_check', isAddress(t.safeAddress)),
    check('agents_account_address_check', isAddress(t.accountAddress)),
  ],
)

export const offerings = pgTable(
  'offerings',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    agentId: text('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    price: uint256('price').notNull(),
    token: text('token').notNull().default(zeroAddress),
    inputSchema: jsonb('input_schema').$type<JsonObject>(),
    capabilities: text('capabilities').array().notNull().default([]),
    active: boolean('active').notNull().default(true),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('offerings_agent_id_name_idx').on(t.agentId, t.name),
    index('offerings_capabilities_idx').using('gin', t.capabilities),
    check('offerings_price_check', sql`${t.price} >= 0`),
    check('offerings_token_check', isAddress(t.token)),
  ],
)

export const jobs = pgTable(
  'jobs',
  {
    /** The on-chain job id as a decimal string. */
    jobId: text('job_id').primaryKey(),
    clientAddress: text('client_address').notNull(),
    clientAgentId: text('client_agent_id').references(() => agents.id),
    providerChainAgentId: uint256('provider_chain_agent_id').notNull(),
    providerAgentId: text('provider_agent_id').references(() => agents.id),
    /** Name of the offering hired. */
    offering: text('offering').notNull(),
    input: jsonb('input').$type<unknown>(),
    specHash: text('spec_hash').notNull(),
    token: text('token').notNull(),
    budget: uint256('budget').notNull(),
    deadline: timestamp('deadline', { withTimezone: true }).notNull(),
    evaluator: text('evaluator'),
    status: text('status', { enum: jobRecordStatuses }).notNull().default('funded'),
    /** The delivered content itself; the chain only holds its hash. */
    deliverable: jsonb('deliverable').$type<unknown>(),
    deliverableHash: text('deliverable_hash'),
    rating: integer('rating'),
    fee: uint256('fee'),
    payout: uint256('payout'),
    createTx: text('create_tx'),
    submitTx: text('submit_tx'),
    settleTx: text('settle_tx'),
    /** The key the client hired with, if it gave one: a retry finds the job by it, another job under it is refused. */
    idempotencyKey: text('idempotency_key'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('jobs_client_agent_id_idx').on(t.clientAgentId),
    uniqueIndex('jobs_client_idempotency_key_idx')
      .on(t.clientAgentId, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
    index('jobs_provider_agent_id_idx').on(t.providerAgentId),
    index('jobs_provider_chain_agent_id_idx').on(t.providerChainAgentId),
    index('jobs_client_address_idx').on(t.clientAddress),
    index('jobs_status_deadline_idx').on(t.status, t.deadline),
    check('jobs_job_id_check', sql`${t.jobId} ~ '^[0-9]+$'`),
    check('jobs_status_check', isOneOf(t.status, jobRecordStatuses)),
    check('jobs_client_address_check', isAddress(t.clientAddress)),
    check('jobs_token_check', isAddress(t.token)),
    check('jobs_evaluator_check', isAddress(t.evaluator)),
    check('jobs_budget_check', sql`${t.budget} >= 0`),
  ],
)

export const payments = pgTable(
  'payments',
  {
    id: text('id').primaryKey(),
    idempotencyKey: text('idempotency_key').notNull().unique(),
    kind: text('kind', { enum: paymentKinds }).notNull().default('pay'),
    /** The paying agent when it is hosted here; null for an outside payer (an x402 sale). */
    fromAgentId: text('from_agent_id').references(() => agents.id),
    fromAddress: text('from_address').notNull(),
    toChainAgentId: uint256('to_chain_agent_id'),
    /** The paid agent when it is hosted here (an x402 sale, or a payment between two agents hosted here). */
    toAgentId: text('to_agent_id').references(() => agents.id),
    toAddress: text('to_address').notNull(),
    token: text('token').notNull(),
    amount: uint256('amount').notNull(),
    memo: text('memo'),
    /** What an x402 payment bought: the resource's URL. */
    resource: text('resource'),
    txHash: text('tx_hash'),
    status: text('status', { enum: paymentStatuses }).notNull().default('pending'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('payments_from_agent_id_idx').on(t.fromAgentId, t.createdAt),
    index('payments_to_agent_id_idx').on(t.toAgentId, t.createdAt),
    check('payments_status_check', isOneOf(t.status, paymentStatuses)),
    check('payments_kind_check', isOneOf(t.kind, paymentKinds)),
    check('payments_party_check', sql`${t.fromAgentId} is not null or ${t.toAgentId} is not null`),
    check('payments_from_address_check', isAddress(t.fromAddress)),
    check('payments_to_address_check', isAddress(t.toAddress)),
    check('payments_token_check', isAddress(t.token)),
    check('payments_amount_check', sql`${t.amount} >= 0`),
  ],
)

/**
 * A job's input handed over by a client that is not hosted here (any wallet), with the client's
 * signature: kept until the job is funded on chain (or matched at once when it already is).
 * `specHash` is the hash the job was (or will be) created with; it binds the input to the job.
 */
export const jobInputs = pgTable(
  'job_inputs',
  {
    jobId: text('job_id').primaryKey(),
    clientAddress: text('client_address').notNull(),
    providerChainAgentId: uint256('provider_chain_agent_id').notNull(),
    offering: text('offering').notNull(),
    input: jsonb('input').$type<unknown>().notNull(),
    nonce: text('nonce').notNull(),
    specHash: text('spec_hash').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    check('job_inputs_job_id_check', sql`${t.jobId} ~ '^[0-9]+$'`),
    check('job_inputs_client_address_check', isAddress(t.clientAddress)),
    index('job_inputs_created_at_idx').on(t.createdAt),
  ],
)

/**
 * Every agent on the chain as the market knows it: read from its registration file (tokenURI) by the
 * indexer, or written directly for agents hosted here. The file is kept as validated.
 */
export const marketAgents = pgTable(
  'market_agents',
  {
    chainAgentId: uint256('chain_agent_id').primaryKey(),
    owner: text('owner').notNull(),
    /** Where payments to it go (its bound wallet), when known. */
    wallet: text('wallet'),
    uri: text('uri').notNull().default(''),
    name: text('name').notNull().default(''),
    description: text('description').notNull().default(''),
    /** The agent's runtime id when it is hosted here. */
    agentId: text('agent_id').references(() => agents.id, { onDelete: 'set null' }),
    status: text('status', { enum: listingStatuses }).notNull().default('skipped'),
    active: boolean('active').notNull().default(true),
    /** Why the file was skipped, when it was. */
    error: text('error'),
    file: jsonb('file').$type<JsonObject>(),
    /** keccak256 of the file's bytes: a refresh that finds the same hash changes nothing. */
    fileHash: text('file_hash'),
    fetchedAt: timestamp('fetched_at', { withTimezone: true }),
    /** Its on-chain record as last read (the runtime's reputation view); null until read. */
    reputation: jsonb('reputation').$type<JsonObject>(),
    /** How far the market trusts that record, 0-100 (50 until read); copied onto its offerings. */
    score: doublePrecision('score').notNull().default(50),
    /** Its average rating, 0-100; copied onto its offerings. */
    rating: doublePrecision('rating').notNull().default(0),
    /** What it earned per token (lower-case address → base units); copied onto its offerings in their token. */
    earned: jsonb('earned').$type<Record<string, string>>().notNull().default({}),
    reputationAt: timestamp('reputation_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    check('market_agents_status_check', isOneOf(t.status, listingStatuses)),
    check('market_agents_owner_check', isAddress(t.owner)),
    check('market_agents_wallet_check', isAddress(t.wallet)),
    index('market_agents_agent_id_idx').on(t.agentId),
    index('market_agents_wallet_idx').on(t.wallet),
  ],
)

/** The offerings of the market's agents, from their registration files. */
export const marketOfferings = pgTable(
  'market_offerings',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    chainAgentId: uint256('chain_agent_id')
      .notNull()
      .references(() => marketAgents.chainAgentId, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    price: uint256('price').notNull(),
    token: text('token').notNull(),
    inputSchema: jsonb('input_schema').$type<JsonObject>(),
    outputSchema: jsonb('output_schema').$type<JsonObject>(),
    capabilities: text('capabilities').array().notNull().default([]),
    /** Where it is sold: `x402` (a paid HTTP resource) and `escrow` (the runtime's API base), when offered. */
    endpoints: jsonb('endpoints').$type<{ x402?: string; escrow?: string }>().notNull().default({}),
    /**
     * Whether its agent takes work (its listing's `active`), and the provider's market score, average
     * rating and earnings in this offering's token: kept with it so a search reads one index in order.
     */
    active: boolean('active').notNull().default(true),
    /** Its name and description and its agent's name, lower-case: what a text search matches (trigram index). */
    searchText: text('search_text').notNull().default(''),
    score: doublePrecision('score').notNull().default(50),
    rating: doublePrecision('rating').notNull().default(0),
    earned: uint256('earned').notNull().default('0'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('market_offerings_agent_name_idx').on(t.chainAgentId, t.name),
    index('market_offerings_capabilities_idx').using('gin', t.capabilities),
    index('market_offerings_token_price_idx').on(t.token, t.price),
    index('market_offerings_rank_idx')
      .on(t.score.desc().nullsFirst(), t.earned.desc().nullsFirst(), t.price, t.id)
      .where(sql`${t.active}`),
    index('market_offerings_price_idx').on(t.price, t.id).where(sql`${t.active}`),
    index('market_offerings_search_text_idx').using('gin', sql`${t.searchText} gin_trgm_ops`),
    check('market_offerings_price_check', sql`${t.price} >= 0`),
    check('market_offerings_token_check', isAddress(t.token)),
  ],
)

/**
 * The outbox of chain intents. A row is written before anything is signed, in the same transaction
 * as the domain row it serves; the signed bytes are stored before they are broadcast, so a restart
 * rebroadcasts exactly the same transaction instead of signing a second one.
 */
export const intents = pgTable(
  'intents',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    idempotencyKey: text('idempotency_key').notNull().unique(),
    kind: text('kind').$type<IntentKind>().notNull(),
    agentId: text('agent_id').references(() => agents.id),
    payload: jsonb('payload').$type<JsonObject>().notNull().default({}),
    status: text('status', { enum: intentStatuses }).notNull().default('pending'),
    /** The address that signs and sends the transaction. */
    signer: text('signer').notNull(),
    nonce: integer('nonce'),
    txHash: text('tx_hash'),
    rawTx: text('raw_tx'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    result: jsonb('result').$type<unknown>(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [
    index('intents_unfinished_idx').on(t.id).where(sql`${t.status} in ('pending', 'sent')`),
    index('intents_agent_id_idx').on(t.agentId, t.id),
    // What an owner's agents sent in a period (quotas).
    index('intents_agent_id_created_at_idx').on(t.agentId, t.createdAt),
    // Two live transactions of one signer can never share a nonce; a failed one frees its nonce.
    uniqueIndex('intents_signer_nonce_idx')
      .on(t.signer, t.nonce)
      .where(sql`${t.nonce} is not null and ${t.status} <> 'failed'`),
    check('intents_status_check', isOneOf(t.status, intentStatuses)),
    check('intents_signer_check', isAddress(t.signer)),
    check('intents_nonce_check', sql`${t.nonce} >= 0`),
  ],
)

/**
 * Which process serves each shard now, and where other processes reach it: written by the process
 * when it takes the shard's lease (a session lock), read to forward an agent's requests to it.
 */
export const runtimeShards = pgTable(
  'runtime_shards',
  {
    shard: integer('shard').primaryKey(),
    /** The holder's internal URL (its API, reachable by the other processes). */
    url: text('url'),
    pid: integer('pid').notNull(),
    takenAt: timestamp('taken_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('runtime_shards_shard_check', sql`${t.shard} >= 0`)],
)

export const indexerCursors = pgTable('indexer_cursors', {
  name: text('name').primaryKey(),
  blockNumber: bigint('block_number', { mode: 'bigint' }).notNull(),
  blockHash: text('block_hash').notNull(),
  updatedAt: updatedAt(),
})

/** Hashes of recently indexed blocks, kept for the last N blocks to notice reorgs. */
export const indexedBlocks = pgTable('indexed_blocks', {
  number: bigint('number', { mode: 'bigint' }).primaryKey(),
  hash: text('hash').notNull(),
})

/** Append-only feed; `id` only grows and serves as the SSE event id. */
export const activity = pgTable(
  'activity',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    agentId: text('agent_id').references(() => agents.id, { onDelete: 'cascade' }),
    kind: text('kind').$type<ActivityKind>().notNull(),
    data: jsonb('data').$type<JsonObject>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [index('activity_agent_id_id_idx').on(t.agentId, t.id)],
)

export const taskStatuses = ['running', 'succeeded', 'failed'] as const
export type TaskStatus = (typeof taskStatuses)[number]

/** A goal given to an agent's model; its steps stream on the agent's activity under the task id. */
export const tasks = pgTable(
  'tasks',
  {
    id: text('id').primaryKey(),
    agentId: text('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    goal: text('goal').notNull(),
    status: text('status', { enum: taskStatuses }).notNull().default('running'),
    /** The model's final answer once it succeeded. */
    answer: text('answer'),
    error: text('error'),
    steps: integer('steps').notNull().default(0),
    createdAt: createdAt(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    index('tasks_agent_id_created_at_idx').on(t.agentId, t.createdAt),
    check('tasks_status_check', isOneOf(t.status, taskStatuses)),
  ],
)

export const usage = pgTable(
  'usage',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    agentId: text('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    // No foreign key: a client agent spends tokens deciding to hire before its job row exists.
    jobId: text('job_id'),
    model: text('model').notNull(),
    promptTokens: integer('prompt_tokens').notNull(),
    completionTokens: integer('completion_tokens').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('usage_agent_id_created_at_idx').on(t.agentId, t.createdAt),
    index('usage_job_id_idx').on(t.jobId),
    check('usage_tokens_check', sql`${t.promptTokens} >= 0 and ${t.completionTokens} >= 0`),
  ],
)

export const siweNonces = pgTable(
  'siwe_nonces',
  {
    nonce: text('nonce').primaryKey(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index('siwe_nonces_expires_at_idx').on(t.expiresAt)],
)

export const sessions = pgTable(
  'sessions',
  {
    /** SHA-256 of the bearer token; the token itself is never stored. */
    tokenHash: text('token_hash').primaryKey(),
    address: text('address').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    index('sessions_address_idx').on(t.address),
    index('sessions_expires_at_idx').on(t.expiresAt),
    check('sessions_address_check', isAddress(t.address)),
  ],
)

export type Owner = typeof owners.$inferSelect
export type Agent = typeof agents.$inferSelect
export type Offering = typeof offerings.$inferSelect
export type Job = typeof jobs.$inferSelect
export type Payment = typeof payments.$inferSelect
export type HandedInput = typeof jobInputs.$inferSelect
export type MarketAgent = typeof marketAgents.$inferSelect
export type MarketOffering = typeof marketOfferings.$inferSelect
export type Intent = typeof intents.$inferSelect
export type IndexerCursor = typeof indexerCursors.$inferSelect
export type IndexedBlock = typeof indexedBlocks.$inferSelect
export type Activity = typeof activity.$inferSelect
export type Usage = typeof usage.$inferSelect
export type SiweNonce = typeof siweNonces.$inferSelect
export type Session = typeof sessions.$inferSelect
