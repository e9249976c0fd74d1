/**
 * `npm start`: Agora behind its HTTP API, configured through environment variables (see
 * docs/configuration.md). Without `RPC_URL` everything runs on embedded defaults: the devnet (anvil
 * with Safe 1.4.1, ERC-6551 and Agora's contracts), PGlite (or Postgres) and the demo agents, with
 * their state under the data directory. With `RPC_URL` the runtime joins that chain through its
 * deployment manifest, keys and relayers. Ctrl-C stops it; the next start resumes.
 */
import cluster from 'node:cluster'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { evaluator, summarizer, translator } from '@agora/agents'
import { createDb, type Db, isDriverClosedSocketCrash } from '@agora/db'
import { type AgentView, createRuntime, type Runtime, startEmbeddedRuntime } from '@agora/runtime'
import { createAdaptorServer, serve } from '@hono/node-server'
import { createApp } from './app.ts'
import { type ChainConfig, type Config, ConfigError, type EmbeddedConfig, loadConfig } from './config.ts'
import { startDemoClient } from './demo-client.ts'
import { errorLogLine } from './error-log.ts'
import { superviseWorkers } from './workers.ts'

// A lost Postgres connection must not take the API down: postgres.js 3.4.9 can throw from a timer
// when one closes mid-write (see isDriverClosedSocketCrash); the query it belonged to has already
// failed as CONNECTION_CLOSED. Anything else uncaught still ends the process, as node would.
process.on('uncaughtException', (error) => {
  if (isDriverClosedSocketCrash(error)) {
    console.error('db: a Postgres connection closed mid-write (postgres.js); carrying on')
    return
  }
  console.error(`uncaught: ${errorLogLine(error)}`)
  process.exit(1)
})

let config: Config
try {
  config = loadConfig(process.env)
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  console.error(error.message)
  console.error('See docs/configuration.md for every variable.')
  process.exit(2)
}
const { port, host, publicUrl, dataDir } = config
// AGORA_WORKERS: this process only starts and replaces the ones that serve (see workers.ts).
if (config.workers > 1 && cluster.isPrimary) await superviseWorkers(config)

/** The app, once built: the internal listener answers 503 until then. */
let handler: ((request: Request) => Response | Promise<Response>) | undefined
/**
 * Where the other processes reach this one: `AGORA_INTERNAL_URL`; for a process of `AGORA_WORKERS`
 * a port of its own on loopback (the shared port may send a request to any of them); else the API.
 */
async function internalUrlOf(): Promise<string> {
  if (config.internalUrl) return config.internalUrl
  if (!cluster.isWorker) return publicUrl
  const server = createAdaptorServer({
    fetch: (request: Request) => handler?.(request) ?? new Response('starting', { status: 503 }),
  })
  await new Promise<void>((resolve) =>
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, resolve),
  )
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

type Started = {
  runtime: Runtime
  db: Db
  stop(): Promise<void>
  rows: [string, string][]
  notes: string
  /** The devnet's RPC URL, shown by `/health` (embedded mode only). */
  devnetRpcUrl?: string
  /** Resolves once the agents this process hosts are launched (the demo agents, in the background). */
  launched: Promise<void>
  /**
   * The models of the definitions given in code here, by agent name: what those agents think with in
   * this process (an `AGORA_MODEL_*` set after their launch included), whatever was stored then.
   */
  hostedModels: Map<string, Record<string, unknown> | undefined>
}

/** The embedded devnet with the demo agents (summarizer, translator, evaluator) owned by dev account #1. */
async function startEmbedded(config: EmbeddedConfig): Promise<Started> {
  // The demo agents use deterministic handlers, or the model in AGORA_MODEL_* when one is configured.
  const model = config.model as Record<string, unknown> | undefined
  const demo = [summarizer({ model }), translator({ model }), evaluator({ model })]
  const embedded = await startEmbeddedRuntime({
    dataDir,
    publicUrl,
    databaseUrl: config.databaseUrl,
    devnetPort: config.devnetPort,
    definitions: demo,
    quotas: config.quotas,
  })
  const { devnet, runtime } = embedded
  let stopDemo: (() => Promise<void>) | undefined
  // In the background: a launch waits for the chain, and the API listens meanwhile.
  const launched = (async () => {
    const present = new Set<string>()
    for (let cursor: string | undefined, page = true; page; page = cursor !== undefined) {
      const { agents, next } = await runtime.listAgents({ limit: 200, cursor })
      for (const agent of agents) present.add(agent.name)
      cursor = next ?? undefined
    }
    for (const definition of demo) {
      if (!present.has(definition.name))
        await runtime.launch(definition, { owner: devnet.manifest.accounts[1]!.address })
    }
    // The economy trades from the start: what someone opening the dashboard sees live.
    if (config.demoTrading) stopDemo = await startDemoClient(runtime, devnet)
  })().catch((error: unknown) => console.error(`demo agents: launching failed: ${errorLogLine(error)}`))
  const { manifest } = devnet
  const account = manifest.accounts[1]!
  return {
    runtime,
    db: embedded.db,
    async stop() {
      await stopDemo?.()
      await embedded.stop()
    },
    devnetRpcUrl: devnet.rpcUrl,
    launched,
    hostedModels: new Map(demo.map((d) => [d.name, d.model])),
    rows: [
      ['RPC URL', devnet.rpcUrl],
      ['chain id', String(manifest.chainId)],
      ['identity registry', manifest.contracts.identityRegistry],
      ['agent economy', manifest.contracts.economy],
      ['dev stablecoin (dUSD)', manifest.contracts.devUSD],
      ['dev account #1', `${account.address} (key ${account.privateKey})`],
      ['demo agents', demo.map((d) => d.name).join(', ')],
    ],
    notes: `Agora ${devnet.resumed ? 'resumed' : 'started'} on the embedded devnet (data in ${dataDir})`,
  }
}

/** A real chain: no devnet and no demo agents; agents are launched over HTTP by their owners. */
async function startOnChain(config: ChainConfig): Promise<Started> {
  const log = (line: string) => process.stderr.write(`${line}\n`)
  const database = await createDb({
    url: config.databaseUrl,
    dataDir: config.databaseUrl ? undefined : join(dataDir, 'db'),
    log,
  })
  try {
    const runtime = await createRuntime({
      chain: { rpcUrl: config.rpcUrl, manifest: config.manifest },
      db: database.db,
      masterKey: config.masterKey,
      relayerKeys: config.relayerKeys,
      publicUrl,
      quotas: config.quotas,
      shard: config.shard,
      shardUrl: await internalUrlOf(),
      log,
    })
    await runtime.start()
    return {
      runtime,
      db: database.db,
      async stop() {
        await runtime.stop()
        await database.close()
      },
      // Agents launched over HTTP were restored by `start()`; none is defined in code here.
      launched: Promise.resolve(),
      hostedModels: new Map(),
      rows: [
        ['RPC URL', config.rpcUrl],
        ['chain id', String(config.chainId)],
        ['identity registry', config.manifest.contracts.identityRegistry],
        ['agent economy', config.manifest.contracts.economy],
        [
          'tokens',
          (config.manifest.tokens ?? []).map((t) => `${t.symbol} ${t.address}`).join(', ') || 'ETH only',
        ],
        ['database', config.databaseUrl ? 'Postgres' : `PGlite in ${join(dataDir, 'db')}`],
        ['relayers', String(config.relayerKeys.length)],
        ['shard', `${config.shard} (process ${process.pid})`],
      ],
      notes: `Agora started on chain ${config.chainId}`,
    }
  } catch (error) {
    await database.close().catch(() => {})
    throw error
  }
}

const started = config.mode === 'chain' ? await startOnChain(config) : await startEmbedded(config)
const chainId = started.runtime.chainId
const app = createApp({
  runtime: started.runtime,
  db: started.db,
  devnetRpcUrl: started.devnetRpcUrl,
  domain: new URL(publicUrl).host,
  origin: new URL(publicUrl).origin,
  eventStreams: config.eventStreams,
})
handler = app.fetch
const server = serve({ fetch: app.fetch, port, hostname: host }, () => {
  // Of AGORA_WORKERS' processes, the first prints the banner; the others say which shard they serve.
  if (cluster.isWorker && config.shard !== 0) {
    console.log(`workers: process ${process.pid} serves shard ${config.shard}`)
    return
  }
  console.log(`\n${started.notes}`)
  const rows: [string, string][] = [
    ['API', `${publicUrl} (listening on ${host}:${port})`],
    ['dashboard', `${publicUrl}/`],
    ['API docs', `${publicUrl}/docs`],
    ['OpenAPI', `${publicUrl}/openapi.json`],
    ...started.rows,
  ]
  for (const [name, value] of rows) console.log(`  ${name.padEnd(22)} ${value}`)
  console.log(`
Sign in (Sign-In with Ethereum, EIP-4361):
  1. curl ${publicUrl}/auth/nonce
  2. sign an EIP-4361 message for domain "${new URL(publicUrl).host}", URI "${publicUrl}", chain ${chainId}
     with that nonce (any wallet, or viem's createSiweMessage + signMessage with a dev account's key)
  3. curl -X POST ${publicUrl}/auth/verify -H 'content-type: application/json' \\
       -d '{"message":"<the message>","signature":"0x..."}'
  4. send "Authorization: Bearer <token>" to POST /agents and to an agent's owner routes

Ctrl-C stops everything; the chain and the database are kept for the next start.`)
  void started.launched
    .then(() => printAgents(started.runtime, started.hostedModels))
    .catch((error: unknown) => console.error(`agents: listing failed: ${errorLogLine(error)}`))
})

/** The most agents the banner lists one by one; `GET /agents` has them all. */
const bannerAgents = 20

/**
 * The agents hosted here with the model each thinks with (`provider/model`, or "no model"), once
 * they are launched: a definition given in code here names its model; any other, the one stored.
 */
async function printAgents(runtime: Runtime, hostedModels: Started['hostedModels']) {
  const { agents, next } = await runtime.listAgents({ limit: bannerAgents })
  if (agents.length === 0) {
    console.log('\nNo agents yet: launch one with POST /agents (see docs/quickstart.md).')
    return
  }
  const modelOf = (agent: AgentView) => {
    const model = hostedModels.has(agent.name)
      ? hostedModels.get(agent.name)
      : (agent.model as Record<string, unknown> | null | undefined)
    return model?.model ? `${model.provider ?? 'openai'}/${model.model}` : 'no model'
  }
  const width = Math.max(...agents.map((a) => a.name.length))
  console.log('\nAgents hosted here (name, on-chain id, model):')
  for (const agent of agents) {
    const id = agent.chainAgentId ? `#${agent.chainAgentId}` : `(${agent.status})`
    console.log(`  ${agent.name.padEnd(width)}  ${id.padEnd(6)} ${modelOf(agent)}`)
  }
  if (next) console.log('  … and more (GET /agents)')
}

// A taken port fails after the chain started: stop it again rather than leave it running.
server.on('error', async (error: NodeJS.ErrnoException) => {
  const reason = error.code === 'EADDRINUSE' ? `port ${port} is in use (set PORT)` : error.message
  console.error(`The API cannot listen: ${reason}`)
  await started.stop().catch(() => {})
  process.exit(1)
})

let stopping = false
async function shutdown(signal: string) {
  if (stopping) return
  stopping = true
  console.log(`\n${signal}: stopping`)
  // Stop taking requests, let the runtime finish its step, then stop the chain.
  const http = server as typeof server & { closeAllConnections?: () => void }
  http.close()
  http.closeAllConnections?.()
  try {
    await started.stop()
    process.exit(0)
  } catch (error) {
    console.error(`stopping failed: ${errorLogLine(error)}`)
    process.exit(1)
  }
}
process.once('SIGINT', () => void shutdown('SIGINT'))
process.once('SIGTERM', () => void shutdown('SIGTERM'))
