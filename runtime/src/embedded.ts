import { randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { agentIdentityRegistryAbi, type Devnet, startDevnet } from '@agora/contracts'
import { createDb, type Db } from '@agora/db'
import { createPublicClient, createWalletClient, http } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { createRuntime } from './create-runtime.ts'
import type { AgentDefinition } from './define-agent.ts'
import type { QuotasParameters } from './guard/quotas.ts'
import type { Runtime } from './runtime.ts'
import { loadOrCreateMasterKey } from './wallet/key-vault.ts'

export type StartEmbeddedRuntimeParameters = {
  /** Keeps the chain, the database and the master key here; in memory and temporary without it. */
  dataDir?: string
  /** Postgres URL; PGlite (in `dataDir`) when omitted. */
  databaseUrl?: string
  /** Devnet RPC port (default: a free one). */
  devnetPort?: number
  definitions?: AgentDefinition[]
  log?: (line: string) => void
  /** How many development accounts relay transactions (default 8). */
  relayers?: number
  /**
   * Where the HTTP API is reachable: the registry's base URI is pointed at `<publicUrl>/registration/`,
   * so every agent's token URI names its registration file there.
   */
  publicUrl?: string
  /** Per-owner quotas (see `createRuntime`); the defaults when omitted, none with `false`. */
  quotas?: QuotasParameters
}

/** Sets the registry's base URI (the devnet deployer owns the registry) unless it is already that. */
async function pointRegistryAt(devnet: Devnet, baseURI: string) {
  const transport = http(devnet.rpcUrl)
  const publicClient = createPublicClient({ chain: devnet.chain, transport })
  const deployer = createWalletClient({
    account: privateKeyToAccount(devnet.manifest.accounts[0]!.privateKey),
    chain: devnet.chain,
    transport,
  })
  const registry = devnet.manifest.contracts.identityRegistry
  const logs = await publicClient.getContractEvents({
    address: registry,
    abi: agentIdentityRegistryAbi,
    eventName: 'BaseURISet',
    fromBlock: BigInt(devnet.manifest.deploymentBlock),
  })
  if (logs.at(-1)?.args.baseURI === baseURI) return
  const hash = await deployer.writeContract({
    address: registry,
    abi: agentIdentityRegistryAbi,
    functionName: 'setBaseURI',
    args: [baseURI],
  })
  await publicClient.waitForTransactionReceipt({ hash })
}

export type EmbeddedRuntime = {
  runtime: Runtime
  devnet: Devnet
  /** The runtime's database: an application may keep its own tables there (the API keeps sessions). */
  db: Db
  stop(): Promise<void>
}

/**
 * Everything on embedded defaults: the devnet (anvil with every contract), PGlite (or Postgres), a
 * generated master key, development accounts as relayers. No keys or services needed.
 *
 * @example
 * const { runtime, devnet, stop } = await startEmbeddedRuntime({ definitions: [summarizer] })
 */
export async function startEmbeddedRuntime(
  parameters: StartEmbeddedRuntimeParameters = {},
): Promise<EmbeddedRuntime> {
  const { dataDir, log = (line: string) => process.stderr.write(`${line}\n`) } = parameters
  // The chain, the database and the master key are the owner's alone.
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    chmodSync(dataDir, 0o700)
  }
  // The chain saves its state every second, whole; after a kill -9 it comes back at most that much
  // older than the database, and the runtime sends again what it lost (see docs/runtime.md).
  const devnet = await startDevnet({
    statePath: dataDir ? join(dataDir, 'devnet', 'chain.json') : undefined,
    port: parameters.devnetPort,
    log,
  })
  try {
    const database = await createDb({
      url: parameters.databaseUrl,
      dataDir: parameters.databaseUrl || !dataDir ? undefined : join(dataDir, 'db'),
      log,
    })
    const relayerCount = parameters.relayers ?? 8
    // Accounts 0-9 are left to people (the deployer is 0); relayers come from the end of the list.
    const relayerKeys = devnet.manifest.accounts.slice(-relayerCount).map((a) => a.privateKey)
    if (parameters.publicUrl) await pointRegistryAt(devnet, `${parameters.publicUrl}/registration/`)
    const runtime = await createRuntime({
      publicUrl: parameters.publicUrl,
      chain: { rpcUrl: devnet.rpcUrl, manifest: devnet.manifest },
      db: database.db,
      masterKey: dataDir ? loadOrCreateMasterKey(join(dataDir, 'master.key')) : randomBytes(32),
      relayerKeys,
      definitions: parameters.definitions,
      pollIntervalMs: 100,
      // The devnet mines at once: a transaction not mined in a few seconds was lost by a restarted node.
      stuckAfterMs: 5_000,
      retryIntervalMs: 1_000,
      quotas: parameters.quotas,
      log,
    })
    await runtime.start()
    return {
      runtime,
      devnet,
      db: database.db,
      async stop() {
        await runtime.stop()
        await database.close()
        await devnet.stop()
      },
    }
  } catch (error) {
    await devnet.stop()
    throw error
  }
}
