import { type AgoraContracts, agentEconomyAbi, type SafeAddresses } from '@agora/contracts'
import { type Db, listAgents, listJobs, listPayments, searchOfferings, upsertOfferings } from '@agora/db'
import {
  type Address,
  createPublicClient,
  encodeFunctionData,
  erc20Abi,
  getAddress,
  type Hex,
  http,
  type PublicClient,
  zeroAddress,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { type AgentActions, type RunTaskParameters, runTask } from './agent-loop.ts'
import { createContext, type RuntimeContext } from './context.ts'
import type { AgentDefinition } from './define-agent.ts'
import { BaseError } from './errors.ts'
import { createIndexer, type Indexer } from './indexer.ts'
import { createIndexerStore } from './indexer-store.ts'
import { createJobEngine, type HireParameters } from './jobs.ts'
import { createKeyVault, parseMasterKey } from './keys.ts'
import { type LaunchParameters, launchAgent, launchKind } from './launch.ts'
import { createPayments, type PayParameters } from './pay.ts'
import { createPolicyGuard } from './policy.ts'
import { createSafeSigner } from './safe.ts'
import { safeCallKind } from './safe-call-kind.ts'
import { createTokenRegistry, type Token } from './tokens.ts'
import { createTransactionManager } from './transactions.ts'

/** Where the runtime's contracts are: the devnet manifest has this shape, and so does a production one. */
export type DeploymentManifest = {
  chainId: number
  deploymentBlock: number
  contracts: AgoraContracts
  safe: SafeAddresses
  economy: { feeBps: number; submissionGraceSeconds: number }
}

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
  /**
   * The most payments queued by one agent that go out in one Safe transaction (through
   * MultiSendCallOnly; default 16). 1 sends every payment in its own transaction.
   */
  maxBatch?: number
  log?: (line: string) => void
}

/**
 * The engine: launches agents with identities and Safes, moves their money through the economy, and
 * runs the job cycle for the agents it hosts. Call `start()` to finish what a previous process left
 * (intents, missed events) and to follow the chain; `stop()` to end.
 *
 * @example
 * const runtime = await createRuntime({ chain: { rpcUrl, manifest }, db, masterKey, relayerKeys })
 * await runtime.start()
 * const alice = await runtime.launch(aliceDefinition, { owner })
 * await alice.pay({ to: bob.chainAgentId, amount: '2.5' })
 */
export async function createRuntime(parameters: CreateRuntimeParameters) {
  const { manifest, rpcUrl } = parameters.chain
  const log = parameters.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  // Requests issued in the same tick share one HTTP round trip: under load that is most of them.
  const publicClient = createPublicClient({
    transport: http(rpcUrl, { retryCount: 0, batch: { wait: 0, batchSize: 100 } }),
  }) as PublicClient
  const chainId = await publicClient.getChainId().catch((cause: unknown) => {
    throw new BaseError(`The chain at ${rpcUrl} does not answer.`, { code: 'CHAIN_UNAVAILABLE', cause })
  })
  if (chainId !== manifest.chainId) {
    throw new BaseError(
      `The RPC at ${rpcUrl} serves chain ${chainId}, but the manifest is for chain ${manifest.chainId}.`,
      {
        code: 'INVALID_CONFIG',
      },
    )
  }
  const masterKey =
    typeof parameters.masterKey === 'string' ? parseMasterKey(parameters.masterKey) : parameters.masterKey
  const relayers = parameters.relayerKeys.map((key) => privateKeyToAccount(key))
  const known: Token[] = [{ symbol: 'ETH', address: zeroAddress, decimals: 18 }]
  if (manifest.contracts.devUSD)
    known.push({ symbol: 'dUSD', address: manifest.contracts.devUSD, decimals: 6 })

  const tx = createTransactionManager({
    publicClient,
    db: parameters.db,
    relayers,
    log,
    maxBatch: parameters.maxBatch,
  })
  const ctx: RuntimeContext = createContext({
    db: parameters.db,
    publicClient,
    chainId,
    contracts: manifest.contracts,
    safeContracts: manifest.safe,
    submissionGraceSeconds: manifest.economy.submissionGraceSeconds,
    publicUrl: parameters.publicUrl,
    tokens: createTokenRegistry(publicClient, known),
    vault: createKeyVault(masterKey),
    tx,
    safes: createSafeSigner(publicClient, chainId),
    definitions: new Map((parameters.definitions ?? []).map((d) => [d.name, d])),
    log,
  })
  const guard = createPolicyGuard(ctx)
  const jobs = createJobEngine(ctx, guard)
  const payments = createPayments(ctx, guard)
  tx.registerKind('launch', launchKind(ctx))
  tx.registerKind('approve', safeCallKind(ctx))
  tx.registerKind('withdraw', safeCallKind(ctx))
  tx.registerKind('pay', payments.kind)
  for (const kind of ['createJob', 'submitJob', 'declineJob', 'completeJob', 'rejectJob'] as const) {
    tx.registerKind(kind, jobs.kind())
  }
  tx.registerKind('refundExpired', jobs.refundKind())

  const indexer: Indexer = createIndexer({
    publicClient,
    store: createIndexerStore(parameters.db),
    addresses: [manifest.contracts.economy],
    fromBlock: BigInt(manifest.deploymentBlock),
    confirmations: parameters.confirmations ?? 0,
    pollIntervalMs: parameters.pollIntervalMs ?? 250,
    log,
    async onEvents(events) {
      for (const event of events) await jobs.applyEvent(event as never)
    },
    async onReorg() {
      log('runtime: chain reorganised; job states are replayed from the common ancestor')
    },
  })
  let sweep: ReturnType<typeof setInterval> | undefined

  async function withdraw(
    id: string,
    p: { token?: string; amount?: string; to?: Address; idempotencyKey?: string },
  ) {
    const agent = await ctx.requireAgent(id)
    if (!agent.safeAddress || agent.status === 'launching') {
      throw new BaseError(`Agent "${agent.name}" has no wallet yet.`, { code: 'CONFLICT' })
    }
    const token = await ctx.tokens.resolve(p.token ?? 'dUSD')
    const to = getAddress(p.to ?? agent.owner)
    const safe = agent.safeAddress as Address
    const held = await ctx.tokens.balanceOf(token, safe)
    const amount = p.amount === undefined ? held : ctx.tokens.parse(p.amount, token)
    if (amount <= 0n)
      throw new BaseError(`The agent holds no ${token.symbol} to withdraw.`, { code: 'CONFLICT' })
    if (amount > held) {
      throw new BaseError(
        `The agent holds ${ctx.tokens.format(held, token)} ${token.symbol}, less than ${ctx.tokens.format(amount, token)}.`,
        { code: 'CONFLICT' },
      )
    }
    const call =
      token.address === zeroAddress
        ? { to, data: '0x' as const, value: amount.toString() }
        : {
            to: token.address,
            data: encodeFunctionData({ abi: erc20Abi, functionName: 'transfer', args: [to, amount] }),
            value: '0',
          }
    const { receipt } = await tx.execute({
      idempotencyKey: `withdraw:${id}:${p.idempotencyKey ?? crypto.randomUUID()}`,
      kind: 'withdraw',
      agentId: id,
      payload: { safe, ...call },
    })
    await ctx.record(id, 'payment', {
      event: 'withdrawn',
      token: token.symbol,
      amount: ctx.tokens.format(amount, token),
      to,
      txHash: receipt.transactionHash,
    })
    return {
      txHash: receipt.transactionHash,
      amount: ctx.tokens.format(amount, token),
      token: token.symbol,
      to,
    }
  }

  /** The agent tools' actions: the very functions code calls, with their guardrails. */
  function taskActions(id: string): AgentActions {
    return {
      async searchMarket(query) {
        const matches = await searchMarket({ ...query, token: query.maxPrice ? 'dUSD' : undefined })
        return Promise.all(
          matches.map(async (m) => {
            const token = await ctx.tokens.resolve(m.offering.token)
            return {
              providerId: m.agent.chainAgentId,
              agent: m.agent.name,
              offering: m.offering.name,
              description: m.offering.description,
              price: ctx.tokens.format(BigInt(m.offering.price), token),
              token: token.symbol,
              capabilities: m.offering.capabilities,
              rating: m.reputation?.averageRating ?? null,
              completedJobs: m.reputation?.completed ?? 0,
            }
          }),
        )
      },
      async hire(p) {
        const handle = await jobs.hire(id, p)
        const job = await handle.done()
        return { jobId: job.jobId, status: job.status, deliverable: job.deliverable, rating: job.rating }
      },
      async pay(p) {
        const payment = await payments.pay(id, p)
        return { paymentId: payment.id, status: payment.status, txHash: payment.txHash }
      },
      async jobStatus(jobId) {
        const job = await jobs.handle(jobId).get()
        if (!job || (job.clientAgentId !== id && job.providerAgentId !== id)) {
          throw new BaseError(`Job ${jobId} is not one of yours.`, { code: 'NOT_FOUND' })
        }
        return {
          jobId,
          status: job.status,
          offering: job.offering,
          deliverable: job.deliverable,
          rating: job.rating,
        }
      },
      async balances() {
        const agent = await ctx.requireAgent(id)
        if (!agent.safeAddress) return {}
        const held = await agentHandle(id).balances()
        const out: Record<string, string> = {}
        for (const [symbol, value] of Object.entries(held))
          out[symbol] = ctx.tokens.format(value, await ctx.tokens.resolve(symbol))
        return out
      },
    }
  }

  /** Offerings by text, capability and price, with each provider's on-chain reputation. */
  async function searchMarket(
    query: { text?: string; capability?: string; maxPrice?: string; token?: string; minRating?: number } = {},
  ) {
    const token = query.token ? await ctx.tokens.resolve(query.token) : undefined
    const matches = await searchOfferings(parameters.db, {
      text: query.text,
      capability: query.capability,
      token: token?.address,
      maxPrice: query.maxPrice && token ? ctx.tokens.parse(query.maxPrice, token).toString() : undefined,
    })
    // One read per provider, however many of its offerings match.
    const byAgent = new Map<string, ReturnType<typeof reputation>>()
    const withReputation = await Promise.all(
      matches.map(async (match) => {
        const id = match.agent.chainAgentId
        if (id && !byAgent.has(id)) byAgent.set(id, reputation(id))
        return { ...match, reputation: id ? await byAgent.get(id)! : null }
      }),
    )
    return withReputation.filter(
      (m) => query.minRating === undefined || (m.reputation?.averageRating ?? 0) >= query.minRating,
    )
  }

  function agentHandle(id: string) {
    return {
      id,
      info: () => ctx.requireAgent(id),
      pay: (p: PayParameters) => payments.pay(id, p),
      hire: (p: HireParameters) => jobs.hire(id, p),
      payments: () => listPayments(parameters.db, { agentId: id }),
      /**
       * Sends the agent's tokens from its Safe to its owner (or `to`): everything by default. Owner
       * withdrawals are not spending, so the spending policy does not apply; a paused agent can withdraw.
       */
      withdraw: (p: { token?: string; amount?: string; to?: Address; idempotencyKey?: string } = {}) =>
        withdraw(id, p),
      /** Works towards a goal with a model and the agent tools, inside the spending policy. */
      runTask: (p: RunTaskParameters) => runTask(ctx, id, taskActions(id), p),
      jobs: () => listJobs(parameters.db, { agentId: id }),
      /** ETH and dUSD (or the given tokens) held by the agent's Safe, in base units. */
      async balances(tokens: string[] = known.map((t) => t.symbol)) {
        const agent = await ctx.requireAgent(id)
        if (!agent.safeAddress) return {}
        const safe = agent.safeAddress as Address
        const entries = await Promise.all(
          tokens.map(async (symbol) => {
            const token = await ctx.tokens.resolve(symbol)
            const amount = await ctx.tokens.balanceOf(token, safe)
            return [token.symbol, amount] as const
          }),
        )
        return Object.fromEntries(entries) as Record<string, bigint>
      },
    }
  }

  return {
    context: ctx,
    publicClient,
    manifest,
    /** Finishes the last run's intents, catches up with the chain, then follows it. */
    async start() {
      const { recovered } = await tx.recover()
      if (recovered > 0) log(`runtime: finished ${recovered} intent(s) from the previous run`)
      await indexer.step()
      indexer.start()
      const refund = async () => {
        const block = await publicClient.getBlock().catch(() => undefined)
        if (block) await jobs.refundExpired(Number(block.timestamp))
      }
      await refund()
      sweep = setInterval(() => void refund().catch(() => {}), 5_000)
      // Work a previous process accepted but did not finish: serve funded jobs, evaluate submitted ones.
      for (const job of await listJobs(parameters.db, { status: 'funded' })) void jobs.serve(job.jobId)
      for (const job of await listJobs(parameters.db, { status: 'submitted' })) void jobs.evaluate(job.jobId)
    },
    async stop() {
      if (sweep) clearInterval(sweep)
      await indexer.stop()
    },
    /** Makes a definition's handlers available (for agents launched by an earlier process). */
    register(definition: AgentDefinition) {
      ctx.definitions.set(definition.name, definition)
    },
    async launch(definition: AgentDefinition, options: LaunchParameters) {
      const agent = await launchAgent(ctx, definition, options)
      return agentHandle(agent.id)
    },
    agent(id: string) {
      return agentHandle(id)
    },
    /**
     * Pauses (no payments, hires or serving), resumes or retires (for good) an agent. Its jobs in
     * flight still settle; refunds still happen.
     */
    async setStatus(id: string, status: 'active' | 'paused' | 'retired') {
      const agent = await ctx.requireAgent(id)
      if (agent.status === 'launching')
        throw new BaseError(`Agent "${agent.name}" is still launching.`, { code: 'CONFLICT' })
      if (agent.status === 'retired' && status !== 'retired') {
        throw new BaseError(`Agent "${agent.name}" is retired; that is final.`, { code: 'CONFLICT' })
      }
      const updated = await ctx.updateAgent(id, { status })
      if (status === 'retired') {
        await upsertOfferings(parameters.db, { agentId: id, offerings: [], deactivateMissing: true })
      }
      await ctx.record(id, 'lifecycle', { event: status === 'active' ? 'resumed' : status })
      return updated
    },
    async agents(owner?: string) {
      return listAgents(parameters.db, owner ? { owner } : {})
    },
    job: jobs.handle,
    /** Offerings by text, capability and price, with each provider's on-chain reputation. */
    searchMarket,
    reputation,
    indexer,
  }

  /**
   * An agent's on-chain reputation over the tokens this runtime knows (others could be minted only to
   * inflate or smear a record): settled job counts and the average rating (0-100).
   */
  async function reputation(chainAgentId: string) {
    const records = await Promise.all(
      known.map((token) =>
        publicClient.readContract({
          address: manifest.contracts.economy,
          abi: agentEconomyAbi,
          functionName: 'reputationIn',
          args: [BigInt(chainAgentId), token.address],
        }),
      ),
    )
    const total = { completed: 0, rejected: 0, expired: 0, declined: 0, ratingSum: 0 }
    for (const r of records) {
      total.completed += r.completed
      total.rejected += r.rejected
      total.expired += r.expired
      total.declined += r.declined
      total.ratingSum += Number(r.ratingSum)
    }
    const { ratingSum, ...counts } = total
    return {
      ...counts,
      averageRating: counts.completed === 0 ? 0 : Math.round((ratingSum * 100) / counts.completed) / 100,
    }
  }
}

export type Runtime = Awaited<ReturnType<typeof createRuntime>>
export type AgentHandle = ReturnType<Runtime['agent']>
