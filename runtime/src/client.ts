import type { AgoraContracts, DeploymentManifest, SafeAddresses } from '@agora/contracts'
import type { Db } from '@agora/db'
import { type Hex, type PublicClient, zeroAddress } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { type AgentStore, createAgentStore } from './actions/agents/agent-store.ts'
import { createPaymentWriter, type PaymentWriter } from './actions/payments/payment-writer.ts'
import { type ActivityLog, createActivityLog } from './activity/activity-log.ts'
import type { AgentDefinition } from './define-agent.ts'
import { createPolicyGuard, type PolicyGuard } from './guard/policy-guard.ts'
import { createQuotas, type Quotas, type QuotasParameters } from './guard/quotas.ts'
import { createListingQueue, type ListingQueue } from './market/listing-queue.ts'
import { refreshListing } from './market/refresh-listing.ts'
import { refreshReputation } from './market/refresh-reputation.ts'
import { type CreateOutboxParameters, createOutbox, type Outbox } from './outbox/outbox.ts'
import { createJobWatch, type JobWatch } from './projection/job-watch.ts'
import { type AgentSigners, createAgentSigners } from './wallet/agent-signers.ts'
import { createKeyVault, type KeyVault } from './wallet/key-vault.ts'
import { createSafeSigner, type SafeSigner } from './wallet/safe-signer.ts'
import { createTokenRegistry, type Token, type TokenRegistry } from './wallet/tokens.ts'

/** Where the runtime's contracts are: `npm run deploy` writes one, and the devnet's has this shape too. */
export type { DeploymentManifest }

/** The chain the runtime works on and the contracts it uses there. */
export type ChainContext = {
  publicClient: PublicClient
  chainId: number
  manifest: DeploymentManifest
  contracts: AgoraContracts
  /** Safe 1.4.1's contracts on this chain (MultiSendCallOnly batches a Safe's queued calls). */
  safeContracts: SafeAddresses
  /** Seconds a submitted job stays open past its deadline (the economy's `submissionGrace`). */
  submissionGraceSeconds: number
  /**
   * The tokens known by symbol: ETH, then dUSD on the devnet and the manifest's tokens. Balances and
   * reputation read these; the first ERC-20 among them is the default token.
   */
  knownTokens: Token[]
}

/**
 * What the runtime's actions work with, built once by `createRuntime`: each action takes the client
 * first and uses only the parts it needs.
 */
export type RuntimeClient = {
  db: Db
  chain: ChainContext
  tokens: TokenRegistry
  /** Seals new agent keys and opens stored ones. */
  keys: KeyVault
  signers: AgentSigners
  safes: SafeSigner
  outbox: Outbox
  /** Payment writes shared by concurrent payments (group commit). */
  payments: PaymentWriter
  agents: AgentStore
  activity: ActivityLog
  guard: PolicyGuard
  /** Per-owner caps on what the relayers pay for (launches, transactions, gas per period). */
  quotas: Quotas
  jobs: JobWatch
  /** Definitions given in code, by agent name: where offering handlers and evaluators come from. */
  definitions: Map<string, AgentDefinition>
  /**
   * The shard this process serves: its agents are this process's to run and sign for (0 unless
   * several processes share the database; see `createRuntime`'s `shard`).
   */
  shard: number
  /** Where the runtime's HTTP API is reachable, if it has one (named in registration files). */
  publicUrl: string | undefined
  /** How long a job funded by a client not hosted here waits for its input before it is declined. */
  jobInputGraceMs: number
  /** Refreshes of the market's listings (agents' registration files), in the background or now. */
  market: ListingQueue
  /** Refreshes of the on-chain records stored with the market's listings (after settlements), in the background. */
  reputations: ListingQueue
  log(line: string): void
}

export type CreateClientParameters = {
  db: Db
  publicClient: PublicClient
  chainId: number
  manifest: DeploymentManifest
  masterKey: Uint8Array
  relayerKeys: readonly Hex[]
  definitions: AgentDefinition[]
  /** The shard this process serves (default 0). */
  shard?: number
  publicUrl?: string
  /** How long a job funded by a client not hosted here waits for its input before it is declined (default 10 min). */
  jobInputGraceMs?: number
  maxBatch?: number
  /** Gas caps, when a transaction counts as stuck, how long new ones wait for recovery. */
  gasCaps?: CreateOutboxParameters['gasCaps']
  stuckAfterMs?: number
  recoveryWaitMs?: number
  quotas?: QuotasParameters
  log(line: string): void
}

/** Builds the client's parts; nothing is read from the chain or the database yet. */
export function createClient(parameters: CreateClientParameters): RuntimeClient {
  const { db, publicClient, chainId, manifest, log } = parameters
  const knownTokens = knownTokensOf(manifest)
  const tokens = createTokenRegistry(publicClient, knownTokens)
  const keys = createKeyVault(parameters.masterKey)
  const activity = createActivityLog(db)
  const outbox = createOutbox({
    publicClient,
    chainId,
    db,
    relayers: parameters.relayerKeys.map((key) => privateKeyToAccount(key)),
    log,
    maxBatch: parameters.maxBatch,
    gasCaps: parameters.gasCaps,
    stuckAfterMs: parameters.stuckAfterMs,
    recoveryWaitMs: parameters.recoveryWaitMs,
  })
  const client: RuntimeClient = {
    db,
    chain: {
      publicClient,
      chainId,
      manifest,
      contracts: manifest.contracts,
      safeContracts: manifest.safe,
      submissionGraceSeconds: manifest.economy.submissionGraceSeconds,
      knownTokens,
    },
    tokens,
    keys,
    signers: createAgentSigners(keys),
    safes: createSafeSigner(publicClient, chainId, {
      module: manifest.contracts.module,
      multiSendCallOnly: manifest.safe.multiSendCallOnly,
    }),
    outbox,
    payments: createPaymentWriter(db, outbox),
    agents: createAgentStore(db, { shard: parameters.shard ?? 0 }),
    activity,
    guard: createPolicyGuard({ db, tokens, activity }),
    quotas: createQuotas(db, parameters.quotas),
    jobs: createJobWatch(),
    definitions: new Map(parameters.definitions.map((d) => [d.name, d])),
    shard: parameters.shard ?? 0,
    publicUrl: parameters.publicUrl,
    jobInputGraceMs: parameters.jobInputGraceMs ?? 10 * 60_000,
    market: createListingQueue({
      // A file refused or not read may be served in a moment (another runtime settling a launch).
      refresh: async (chainAgentId, signal) => {
        const { status } = await refreshListing(client, chainAgentId, { signal })
        return { retry: status === 'skipped' || status === 'unavailable' }
      },
      log,
    }),
    reputations: createListingQueue({
      refresh: async (chainAgentId) => void (await refreshReputation(client, chainAgentId)),
      log,
    }),
    log,
  }
  return client
}

/** ETH, the devnet's dUSD when the manifest has it, then the manifest's tokens (each address once). */
export function knownTokensOf(manifest: Pick<DeploymentManifest, 'contracts' | 'tokens'>): Token[] {
  const known: Token[] = [{ symbol: 'ETH', address: zeroAddress, decimals: 18 }]
  if (manifest.contracts.devUSD)
    known.push({ symbol: 'dUSD', address: manifest.contracts.devUSD, decimals: 6 })
  for (const token of manifest.tokens ?? []) {
    if (!known.some((t) => t.address.toLowerCase() === token.address.toLowerCase())) known.push(token)
  }
  return known
}
