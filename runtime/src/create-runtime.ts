import { ConfigError, type Db, deleteJobInputsBefore, type IntentKind, refreshStatistics } from '@agora/db'
import { createPublicClient, type Hex, http, type PublicClient } from 'viem'
import { getAgent } from './actions/agents/get-agent.ts'
import { getBalances } from './actions/agents/get-balances.ts'
import { getRegistrationFile } from './actions/agents/get-registration-file.ts'
import { launchAgent } from './actions/agents/launch-agent.ts'
import { listActivity } from './actions/agents/list-activity.ts'
import { listAgents } from './actions/agents/list-agents.ts'
import { moveToModule } from './actions/agents/move-to-module.ts'
import { reportOwnerKeys } from './actions/agents/report-owner-keys.ts'
import { restoreAgents } from './actions/agents/restore-agents.ts'
import { setAgentStatus } from './actions/agents/set-agent-status.ts'
import { subscribeActivity } from './actions/agents/subscribe-activity.ts'
import { updateAgent } from './actions/agents/update-agent.ts'
import { withdraw } from './actions/agents/withdraw.ts'
import { getJob } from './actions/jobs/get-job.ts'
import { handOverInput } from './actions/jobs/hand-over-input.ts'
import { hire } from './actions/jobs/hire.ts'
import { listJobs } from './actions/jobs/list-jobs.ts'
import { resumeJobs } from './actions/jobs/resume-jobs.ts'
import { waitForJob } from './actions/jobs/wait-for-job.ts'
import { getListing } from './actions/market/get-listing.ts'
import { getMarketOffering } from './actions/market/get-market-offering.ts'
import { getReputation } from './actions/market/get-reputation.ts'
import { searchMarket } from './actions/market/search-market.ts'
import { getPayment } from './actions/payments/get-payment.ts'
import { listPayments } from './actions/payments/list-payments.ts'
import { pay } from './actions/payments/pay.ts'
import { payX402 } from './actions/payments/pay-x402.ts'
import { resolveX402Purchases } from './actions/payments/resolve-x402-purchases.ts'
import { failInterruptedTasks } from './actions/tasks/fail-interrupted-tasks.ts'
import { getTask } from './actions/tasks/get-task.ts'
import { listTasks } from './actions/tasks/list-tasks.ts'
import { runTask } from './actions/tasks/run-task.ts'
import { startTask } from './actions/tasks/start-task.ts'
import { deliverSale } from './actions/x402/deliver-sale.ts'
import { quoteSale } from './actions/x402/quote-sale.ts'
import { createClient, type DeploymentManifest, type RuntimeClient } from './client.ts'
import { followChain } from './cluster/follow-chain.ts'
import { holdShard } from './cluster/hold-shard.ts'
import { locateAgent, requireHosted } from './cluster/hosted.ts'
import { followJobNotices } from './cluster/job-notices.ts'
import type { AgentDefinition } from './define-agent.ts'
import { ChainUnavailableError, withErrorBoundary } from './errors.ts'
import type { QuotasParameters } from './guard/quotas.ts'
import { createHealthMonitor } from './health-monitor.ts'
import { holdRelayers } from './outbox/hold-relayers.ts'
import { createOutboxWorker } from './outbox/outbox-worker.ts'
import { resumeStalledJobs } from './projection/resume-stalled-jobs.ts'
import type { AgentHandle, JobHandle, Runtime } from './runtime.ts'
import { parseMasterKey } from './wallet/key-vault.ts'
import { verifyWalletMessage } from './wallet/verify-wallet-message.ts'
import { createSaleFacilitator } from './x402/facilitator.ts'

export type CreateRuntimeParameters = {
  chain: { rpcUrl: string; manifest: DeploymentManifest }
  db: Db
  /** 32-byte key that seals agent keys at rest (64 hex characters, or bytes). */
  masterKey: string | Uint8Array
  /** Private keys of the accounts that send transactions and pay their gas (relayers). */
  relayerKeys: readonly Hex[]
  /** Agents defined in code; their offering handlers and evaluators run in this process. */
  definitions?: AgentDefinition[]
  /** Blocks the indexer waits before acting on an event (default 0: the devnet mines instantly). */
  confirmations?: number
  /** How often the indexer polls, in milliseconds (default 250). */
  pollIntervalMs?: number
  /**
   * The shard this process serves (default 0). Several processes share one Postgres database each
   * with a shard of its own (and relayer keys of its own): a shard's agents are run and signed for
   * by the process holding it, one at a time (a session lock; see docs/operations.md). One process
   * among them follows the chain.
   */
  shard?: number
  /** Where the other processes reach this one's API, recorded with its shard (they forward its agents' requests there). */
  shardUrl?: string
  /** Where this runtime's HTTP API is reachable; named in agents' registration files. */
  publicUrl?: string
  /** The most payments of one agent sent in one Safe transaction (MultiSendCallOnly; default 16, 1 = off). */
  maxBatch?: number
  /**
   * Per-owner caps on what the relayers pay for: launches, transactions and gas per period
   * (defaults in `defaultQuotaLimits`: 20 launches, 2,000 transactions, 200M gas a day); `false` for none.
   */
  quotas?: QuotasParameters
  /** The most gas one call of a kind may be given (defaults: `gasCaps`, a few times what each uses). */
  gasCaps?: Partial<Record<IntentKind, bigint>>
  /** A transaction not mined after this long is rebroadcast or replaced with higher fees (default 30 s). */
  stuckAfterMs?: number
  /**
   * How long `start()`, and a new transaction of a lane being recovered, wait for recovery before
   * going on without it (default 5 s); a new transaction then answers `ChainUnavailableError`.
   */
  recoveryWaitMs?: number
  /** How often unfinished intents (sends an outage interrupted, say) are retried (default 5 s). */
  retryIntervalMs?: number
  /** How long one RPC request may take before it counts as unavailable (default 10 s). */
  rpcTimeoutMs?: number
  /**
   * How often every agent the market lists is refreshed from its registration file, so files changed
   * at the same URI are picked up (default 5 minutes). Registry events refresh an agent at once.
   */
  marketRefreshMs?: number
  /**
   * How long a job funded on chain by a client not hosted here waits for its input (handed over with
   * `handOverInput`) before the provider declines it and the client is refunded (default 10 minutes).
   */
  jobInputGraceMs?: number
  log?: (line: string) => void
}

/**
 * The composition root: builds the runtime's client (database, chain, wallets, outbox, caches) and
 * binds every action to it. Call `start()` to finish what a previous process left and follow the chain.
 *
 * @example
 * const runtime = await createRuntime({ chain: { rpcUrl, manifest }, db, masterKey, relayerKeys })
 * await runtime.start()
 * const alice = await runtime.launch(aliceDefinition, { owner })
 * await alice.pay({ to: bobChainAgentId, amount: '2.5' })
 */
export async function createRuntime(parameters: CreateRuntimeParameters): Promise<Runtime> {
  const { manifest } = parameters.chain
  const log = parameters.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  const { publicClient, chainId } = await connectChain(parameters)
  const masterKey =
    typeof parameters.masterKey === 'string' ? parseMasterKey(parameters.masterKey) : parameters.masterKey
  const client = createClient({
    ...parameters,
    publicClient,
    chainId,
    manifest,
    masterKey,
    log,
    definitions: parameters.definitions ?? [],
  })
  const releaseRelayers = await holdRelayers(client)
  const releaseShard = await holdShard(client, { url: parameters.shardUrl }).catch(async (error: unknown) => {
    await releaseRelayers()
    throw error
  })
  const chain = followChain(client, {
    publicClient,
    confirmations: parameters.confirmations ?? 0,
    pollIntervalMs: parameters.pollIntervalMs ?? 250,
    marketRefreshMs: parameters.marketRefreshMs,
  })
  const worker = createOutboxWorker(client, {
    intervalMs: parameters.retryIntervalMs,
    onReplayed: (count) => log(`runtime: the chain had lost ${count} transaction(s); they are back on it`),
  })
  const health = createHealthMonitor(client, worker)
  let sweep: ReturnType<typeof setInterval> | undefined
  let stopNotices: (() => Promise<void>) | undefined
  let stopActivity: (() => Promise<void>) | undefined
  const job = (jobId: string): JobHandle => ({
    jobId,
    get: () => getJob(client, jobId),
    done: (p) => waitForJob(client, jobId, p),
  })
  // Only the process serving an agent's shard acts for it (see `requireHosted`).
  const here = async <T>(id: string, action: () => Promise<T>) => {
    await requireHosted(client, id)
    return action()
  }
  const agent = (id: string): AgentHandle => agentHandle(client, id, job, here)
  const runtime: Runtime = {
    chainId,
    manifest,
    shard: client.shard,
    async start() {
      // Recovery runs in the background: a stuck transaction never keeps the runtime (or its API) down.
      const { settled } = worker.start()
      await restoreAgents(client)
      void reportOwnerKeys(client).catch(() => {})
      await failInterruptedTasks(client)
      stopNotices = await followJobNotices(client)
      stopActivity = await client.activity.follow()
      await chain.start()
      let sweeps = 0
      sweep = setInterval(() => sweepOnce(client, chain.sweep, sweeps++), 5_000)
      await resumeJobs(client)
      await waitAtMost(settled, parameters.recoveryWaitMs ?? 5_000)
    },
    async stop() {
      if (sweep) clearInterval(sweep)
      await stopNotices?.()
      await stopActivity?.()
      await worker.stop()
      await chain.stop()
      await releaseShard()
      await releaseRelayers()
    },
    register: (definition) => void client.definitions.set(definition.name, definition),
    launch: async (definition, p) => agent((await launchAgent(client, definition, p)).id),
    agent,
    getAgent: (id) => getAgent(client, id),
    listAgents: (p) => listAgents(client, p),
    updateAgent: (id, p) => here(id, () => updateAgent(client, id, p)),
    moveToModule: (id, p) => here(id, () => moveToModule(client, id, p)),
    setAgentStatus: (id, p) => here(id, () => setAgentStatus(client, id, p)),
    pay: (agentId, p) => here(agentId, () => pay(client, agentId, p)),
    payX402: (agentId, p) => here(agentId, () => payX402(client, agentId, p)),
    hire: (agentId, p) => here(agentId, async () => getJob(client, (await hire(client, agentId, p)).jobId)),
    listPayments: (agentId, p) => listPayments(client, agentId, p),
    getPayment: (agentId, paymentId, p) => getPayment(client, agentId, paymentId, p),
    getJob: (jobId, p) => getJob(client, jobId, p),
    handOverInput: (p) => here(p.provider, () => handOverInput(client, p)),
    job,
    listJobs: (agentId, p) => listJobs(client, agentId, p),
    getBalances: (agentId, p) => getBalances(client, agentId, p),
    withdraw: (agentId, p) => here(agentId, () => withdraw(client, agentId, p)),
    searchMarket: (query) => searchMarket(client, query),
    getReputation: (agent) => getReputation(client, agent),
    getListing: (chainAgentId) => getListing(client, chainAgentId),
    getMarketOffering: (chainAgentId, name) => getMarketOffering(client, chainAgentId, name),
    registrationFile: (chainAgentId) => getRegistrationFile(client, chainAgentId),
    runTask: (agentId, p) => here(agentId, () => runTask(client, agentId, p)),
    startTask: (agentId, p) => here(agentId, () => startTask(client, agentId, p)),
    getTask: (agentId, taskId, p) => getTask(client, agentId, taskId, p),
    listTasks: (agentId, p) => listTasks(client, agentId, p),
    listActivity: (agentId, p) => listActivity(client, agentId, p),
    subscribe: (listener, p) => subscribeActivity(client, listener, p),
    quoteSale: (agent, offering, input) => here(agent, () => quoteSale(client, agent, offering, input)),
    deliverSale: (quote, p) => deliverSale(client, quote, p),
    x402Facilitator: createSaleFacilitator(client),
    health: async () => ({ ...(await health.read()), shard: client.shard, followsChain: chain.leading }),
    locateAgent: (id) => locateAgent(client, id),
    verifyMessage: (p) =>
      p.asAgent ? verifyWalletMessage(client.chain, p) : publicClient.verifyMessage(p).catch(() => false),
  }
  // What escapes an action from the chain or the database reaches callers as the runtime's own error.
  return withErrorBoundary(runtime, ['agent', 'job', 'launch', 'hire'])
}

/**
 * What the runtime does every few seconds: refunds of expired jobs, job work an outage interrupted,
 * x402 purchases left sent, inputs handed over for jobs never funded (kept for a day), and once a
 * minute the planner statistics of an embedded database.
 */
function sweepOnce(client: RuntimeClient, refund: () => Promise<void>, tick: number) {
  // Every minute: the planner's statistics on PGlite (searches read the market's index in order).
  if (tick % 12 === 0) void refreshStatistics(client.db).catch(() => {})
  void refund().catch(() => {})
  void resumeStalledJobs(client).catch(() => {})
  void resolveX402Purchases(client).catch(() => {})
  void deleteJobInputsBefore(client.db, new Date(Date.now() - 86_400_000)).catch(() => {})
}

/** Resolves when `promise` settles or after `ms`, whichever comes first. */
async function waitAtMost(promise: Promise<unknown>, ms: number) {
  let timer: ReturnType<typeof setTimeout> | undefined
  await Promise.race([promise.catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, ms)))])
  clearTimeout(timer)
}

function agentHandle(
  client: RuntimeClient,
  id: string,
  job: (jobId: string) => JobHandle,
  here: <T>(id: string, action: () => Promise<T>) => Promise<T>,
): AgentHandle {
  return {
    id,
    info: () => getAgent(client, id),
    pay: (p) => here(id, () => pay(client, id, p)),
    payX402: (p) => here(id, () => payX402(client, id, p)),
    hire: (p) => here(id, async () => job((await hire(client, id, p)).jobId)),
    payments: async () => (await listPayments(client, id)).payments,
    jobs: async () => (await listJobs(client, id)).jobs,
    balances: (p) => getBalances(client, id, p),
    withdraw: (p) => here(id, () => withdraw(client, id, p)),
    runTask: (p) => here(id, () => runTask(client, id, p)),
  }
}

/** A public client of the chain the manifest describes; refuses an RPC that serves another chain. */
async function connectChain(parameters: CreateRuntimeParameters) {
  const { manifest, rpcUrl } = parameters.chain
  // Requests issued in the same tick share one HTTP round trip: under load that is most of them.
  const transport = http(rpcUrl, {
    retryCount: 0,
    timeout: parameters.rpcTimeoutMs ?? 10_000,
    batch: { wait: 0, batchSize: 100 },
  })
  const publicClient = createPublicClient({ transport }) as PublicClient
  const chainId = await publicClient.getChainId().catch((cause: unknown) => {
    throw new ChainUnavailableError(`The chain at ${rpcUrl} does not answer.`, { cause })
  })
  if (chainId !== manifest.chainId)
    throw new ConfigError(
      `The RPC at ${rpcUrl} serves chain ${chainId}, but the manifest is for chain ${manifest.chainId}.`,
    )
  return { publicClient, chainId }
}
