import { ConfigError, type Db, listActivity as listActivityRows } from '@agora/db'
import { createPublicClient, type Hex, http, type PublicClient } from 'viem'
import { getAgent } from './actions/agents/get-agent.ts'
import { getBalances } from './actions/agents/get-balances.ts'
import { getRegistrationFile } from './actions/agents/get-registration-file.ts'
import { launchAgent } from './actions/agents/launch-agent.ts'
import { listActivity } from './actions/agents/list-activity.ts'
import { listAgents } from './actions/agents/list-agents.ts'
import { restoreAgents } from './actions/agents/restore-agents.ts'
import { setAgentStatus } from './actions/agents/set-agent-status.ts'
import { updateAgent } from './actions/agents/update-agent.ts'
import { withdraw } from './actions/agents/withdraw.ts'
import { getJob } from './actions/jobs/get-job.ts'
import { hire } from './actions/jobs/hire.ts'
import { listJobs } from './actions/jobs/list-jobs.ts'
import { refundExpiredJobs } from './actions/jobs/refund-expired-jobs.ts'
import { resumeJobs } from './actions/jobs/resume-jobs.ts'
import { waitForJob } from './actions/jobs/wait-for-job.ts'
import { getReputation } from './actions/market/get-reputation.ts'
import { searchMarket } from './actions/market/search-market.ts'
import { listPayments } from './actions/payments/list-payments.ts'
import { pay } from './actions/payments/pay.ts'
import { runTask } from './actions/tasks/run-task.ts'
import { startTask } from './actions/tasks/start-task.ts'
import { createClient, type DeploymentManifest, type RuntimeClient } from './client.ts'
import type { AgentDefinition } from './define-agent.ts'
import { ChainUnavailableError } from './errors.ts'
import { recoverIntents } from './outbox/recover-intents.ts'
import { applyJobEvent } from './projection/apply-job-event.ts'
import { createIndexer } from './projection/indexer.ts'
import { createIndexerStore } from './projection/indexer-store.ts'
import type { AgentHandle, JobHandle, Runtime } from './runtime.ts'
import { parseMasterKey } from './wallet/key-vault.ts'

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
  /** Where this runtime's HTTP API is reachable; named in agents' registration files. */
  publicUrl?: string
  /** The most payments of one agent sent in one Safe transaction (MultiSendCallOnly; default 16, 1 = off). */
  maxBatch?: number
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
  const { manifest, rpcUrl } = parameters.chain
  const log = parameters.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  // Requests issued in the same tick share one HTTP round trip: under load that is most of them.
  const transport = http(rpcUrl, { retryCount: 0, batch: { wait: 0, batchSize: 100 } })
  const publicClient = createPublicClient({ transport }) as PublicClient
  const chainId = await publicClient.getChainId().catch((cause: unknown) => {
    throw new ChainUnavailableError(`The chain at ${rpcUrl} does not answer.`, { cause })
  })
  if (chainId !== manifest.chainId)
    throw new ConfigError(
      `The RPC at ${rpcUrl} serves chain ${chainId}, but the manifest is for chain ${manifest.chainId}.`,
    )
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
  const indexer = createIndexer({
    publicClient,
    store: createIndexerStore(client.db),
    addresses: [manifest.contracts.economy],
    fromBlock: BigInt(manifest.deploymentBlock),
    confirmations: parameters.confirmations ?? 0,
    pollIntervalMs: parameters.pollIntervalMs ?? 250,
    log,
    async onEvents(events) {
      for (const event of events) await applyJobEvent(client, event)
    },
    async onReorg() {
      log('runtime: chain reorganised; job states are replayed from the common ancestor')
    },
  })
  let sweep: ReturnType<typeof setInterval> | undefined
  const refund = async () => {
    const block = await publicClient.getBlock().catch(() => undefined)
    if (block) await refundExpiredJobs(client, Number(block.timestamp))
  }
  const job = (jobId: string): JobHandle => ({
    jobId,
    get: () => getJob(client, jobId),
    done: (p) => waitForJob(client, jobId, p),
  })
  const agent = (id: string): AgentHandle => agentHandle(client, id, job)
  return {
    chainId,
    manifest,
    async start() {
      const { recovered } = await recoverIntents(client)
      if (recovered > 0) log(`runtime: finished ${recovered} intent(s) from the previous run`)
      await restoreAgents(client)
      await indexer.step()
      indexer.start()
      await refund()
      sweep = setInterval(() => void refund().catch(() => {}), 5_000)
      await resumeJobs(client)
    },
    async stop() {
      if (sweep) clearInterval(sweep)
      await indexer.stop()
    },
    register: (definition) => void client.definitions.set(definition.name, definition),
    launch: async (definition, p) => agent((await launchAgent(client, definition, p)).id),
    agent,
    getAgent: (id) => getAgent(client, id),
    listAgents: (p) => listAgents(client, p),
    updateAgent: (id, p) => updateAgent(client, id, p),
    setAgentStatus: (id, p) => setAgentStatus(client, id, p),
    pay: (agentId, p) => pay(client, agentId, p),
    hire: async (agentId, p) => getJob(client, (await hire(client, agentId, p)).jobId),
    listPayments: (agentId) => listPayments(client, agentId),
    getJob: (jobId) => getJob(client, jobId),
    job,
    listJobs: (agentId) => listJobs(client, agentId),
    getBalances: (agentId, p) => getBalances(client, agentId, p),
    withdraw: (agentId, p) => withdraw(client, agentId, p),
    searchMarket: (query) => searchMarket(client, query),
    getReputation: (agent) => getReputation(client, agent),
    registrationFile: (chainAgentId) => getRegistrationFile(client, chainAgentId),
    runTask: (agentId, p) => runTask(client, agentId, p),
    startTask: (agentId, p) => startTask(client, agentId, p),
    listActivity: (agentId, p) => listActivity(client, agentId, p),
    subscribe: (listener) => client.activity.subscribe(listener),
    async health() {
      const [block, database] = await Promise.all([
        publicClient.getBlockNumber().then(Number, () => null),
        listActivityRows(client.db, { limit: 1 }).then(
          () => 'ok' as const,
          () => 'unavailable' as const,
        ),
      ])
      return { chainId, block, database }
    },
    verifyMessage: (p) => publicClient.verifyMessage(p).catch(() => false),
  }
}

function agentHandle(client: RuntimeClient, id: string, job: (jobId: string) => JobHandle): AgentHandle {
  return {
    id,
    info: () => getAgent(client, id),
    pay: (p) => pay(client, id, p),
    hire: async (p) => job((await hire(client, id, p)).jobId),
    payments: () => listPayments(client, id),
    jobs: () => listJobs(client, id),
    balances: (p) => getBalances(client, id, p),
    withdraw: (p) => withdraw(client, id, p),
    runTask: (p) => runTask(client, id, p),
  }
}
