import { EventEmitter } from 'node:events'
import type { AgoraContracts, SafeAddresses } from '@agora/contracts'
import {
  type Agent,
  type AppendActivityParameters,
  appendActivities,
  type Db,
  getAgent,
  getAgentByChainId,
  type UpdateAgentParameters,
  updateAgent,
} from '@agora/db'
import type { Address, LocalAccount, PublicClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { createBatcher } from './batcher.ts'
import type { AgentDefinition } from './define-agent.ts'
import { BaseError } from './errors.ts'
import type { KeyVault } from './keys.ts'
import type { SafeSigner } from './safe.ts'
import type { TokenRegistry } from './tokens.ts'
import type { TransactionManager } from './transactions.ts'

/** One entry of an agent's activity feed, as stored and as pushed to listeners. */
export type ActivityEvent = {
  id: number
  agentId: string | null
  kind: 'job' | 'payment' | 'model' | 'tool' | 'tx' | 'guardrail' | 'lifecycle'
  data: Record<string, unknown>
  createdAt: Date
}

/** What every part of the runtime shares. Built once by `createRuntime`. */
export type RuntimeContext = {
  db: Db
  publicClient: PublicClient
  chainId: number
  contracts: AgoraContracts
  /** Safe 1.4.1's contracts on this chain (MultiSendCallOnly batches a Safe's queued calls). */
  safeContracts: SafeAddresses
  tokens: TokenRegistry
  vault: KeyVault
  tx: TransactionManager
  safes: SafeSigner
  /** Where the runtime's HTTP API is reachable, if it has one (named in registration files). */
  publicUrl?: string
  /** Seconds a submitted job stays open past its deadline (the economy's `submissionGrace`). */
  submissionGraceSeconds: number
  /** Definitions given in code, by agent name: where offering handlers and evaluators come from. */
  definitions: Map<string, AgentDefinition>
  events: EventEmitter<{ activity: [ActivityEvent]; job: [jobId: string] }>
  log(line: string): void
  /** The agent's key as an account; decrypted once per process and never logged. */
  signerOf(agent: Agent): LocalAccount
  /** The same, by agent id, reading the agent only the first time. */
  signerFor(agentId: string): Promise<LocalAccount>
  /** The launched agent hosted here behind an on-chain id (id and addresses never change after launch). */
  localAgent(chainAgentId: string): Promise<Pick<Agent, 'id' | 'name' | 'safeAddress'> | undefined>
  record(agentId: string | null, kind: ActivityEvent['kind'], data: Record<string, unknown>): Promise<void>
  /** Several activity entries in one write. */
  recordMany(
    entries: { agentId: string | null; kind: ActivityEvent['kind']; data: Record<string, unknown> }[],
  ): Promise<void>
  /** The agent's row; kept in memory after the first read (every write goes through `updateAgent`). */
  requireAgent(id: string): Promise<Agent>
  /** Writes the agent's row and keeps the in-memory copy in step. */
  updateAgent(id: string, patch: UpdateAgentParameters): Promise<Agent>
}

export function createContext(
  base: Omit<
    RuntimeContext,
    | 'events'
    | 'signerOf'
    | 'signerFor'
    | 'localAgent'
    | 'record'
    | 'recordMany'
    | 'requireAgent'
    | 'updateAgent'
  >,
): RuntimeContext {
  const signers = new Map<string, LocalAccount>()
  const byChainId = new Map<string, Pick<Agent, 'id' | 'name' | 'safeAddress'>>()
  // The runtime is the only writer of its agents' rows, so a row read once stays true until it
  // writes it again; the money paths then check an agent's status without a query.
  const agents = new Map<string, Agent>()
  const events = new EventEmitter<{ activity: [ActivityEvent]; job: [jobId: string] }>()
  events.setMaxListeners(0)
  // Group commit: entries recorded in the same tick are written together, one transaction for many
  // concurrent payments and jobs instead of one each.
  const append = createBatcher(async (batches: AppendActivityParameters[][]) => {
    const rows = await appendActivities(base.db, batches.flat())
    for (const row of rows) events.emit('activity', row as ActivityEvent)
  })
  const recordMany = (entries: AppendActivityParameters[]) => append(entries)
  return {
    ...base,
    events,
    signerOf(agent) {
      let account = signers.get(agent.id)
      if (!account) {
        account = privateKeyToAccount(base.vault.open(agent.encryptedKey, agent.signerAddress as Address))
        signers.set(agent.id, account)
      }
      return account
    },
    async signerFor(agentId) {
      const known = signers.get(agentId)
      if (known) return known
      return this.signerOf(await this.requireAgent(agentId))
    },
    async localAgent(chainAgentId) {
      const known = byChainId.get(chainAgentId)
      if (known) return known
      const agent = await getAgentByChainId(base.db, chainAgentId)
      if (!agent) return undefined
      const entry = { id: agent.id, name: agent.name, safeAddress: agent.safeAddress }
      byChainId.set(chainAgentId, entry)
      return entry
    },
    record: (agentId, kind, data) => recordMany([{ agentId, kind, data }]),
    recordMany,
    async requireAgent(id) {
      const known = agents.get(id)
      if (known) return known
      const agent = await getAgent(base.db, id)
      if (!agent) throw new BaseError(`No agent with id "${id}".`, { code: 'NOT_FOUND' })
      agents.set(id, agent)
      return agent
    },
    async updateAgent(id, patch) {
      agents.delete(id)
      const agent = await updateAgent(base.db, id, patch)
      agents.set(id, agent)
      return agent
    },
  }
}

/** JSON with sorted keys: the same value always hashes the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (typeof v === 'bigint') return v.toString()
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    }
    return v
  })
}
