import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import {
  ConfigError as BaseConfigError,
  type DeploymentManifest,
  type ModelConfig,
  modelConfigFromEnv,
  type QuotasParameters,
} from '@agora/runtime'
import type { Hex } from 'viem'
import { z } from 'zod'

type Common = {
  /** Where the API listens. */
  port: number
  /**
   * The interface the API listens on: loopback on the devnet (its agents are owned by development
   * accounts whose keys are public), every interface on a real chain, unless `HOST` says otherwise.
   */
  host: string
  /** Where users reach the API; SIWE messages and registration files name it. */
  publicUrl: string
  /** Chain state (embedded), the PGlite database and the generated master key (embedded) live here. */
  dataDir: string
  /** Postgres; PGlite in `dataDir` when absent. */
  databaseUrl: string | undefined
  /** The model the demo agents think with, from `AGORA_MODEL_*`; none when no provider is set. */
  model: ModelConfig | undefined
  /** Per-owner quotas (`AGORA_QUOTA_*`; `AGORA_QUOTAS=off` turns them off); the runtime's defaults otherwise. */
  quotas: QuotasParameters
  /** Limits on event streams (`AGORA_STREAMS_*`); the API's defaults otherwise. */
  eventStreams: { perClient?: number; total?: number }
  /** `AGORA_WORKERS`: processes to run, each serving a shard of the agents (1: this process alone). */
  workers: number
  /** `AGORA_SHARD`: the shard this process serves (0 by default; set by `AGORA_WORKERS` for its processes). */
  shard: number
  /** `AGORA_INTERNAL_URL`: where the other processes reach this one (they forward its agents' requests). */
  internalUrl: string | undefined
}

/** Everything on embedded defaults: a devnet in the data directory, development relayers. */
export type EmbeddedConfig = Common & {
  mode: 'embedded'
  devnetPort: number | undefined
  /** `AGORA_DEMO_TRADING`: a demo client hires the demo agents every 30 s, so the economy is seen live (default on). */
  demoTrading: boolean
}

/** A real chain: contracts from a deployment manifest, keys from the environment. */
export type ChainConfig = Common & {
  mode: 'chain'
  rpcUrl: string
  chainId: number
  manifest: DeploymentManifest
  /** 64 hex characters; seals agent keys at rest. */
  masterKey: string
  relayerKeys: Hex[]
}

export type Config = EmbeddedConfig | ChainConfig
export type ConfigEnv = Record<string, string | undefined>

/** Thrown by `loadConfig` with one line per problem, each naming its variable. */
export class ConfigError extends BaseConfigError {
  readonly problems: string[]
  constructor(problems: string[]) {
    super(`The configuration is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      meta: { problems },
    })
    this.problems = problems
  }
}

const port = z
  .string()
  .regex(/^\d+$/, 'must be a TCP port (1-65535)')
  .transform(Number)
  .refine((n) => n > 0 && n < 65_536, 'must be a TCP port (1-65535)')
const url = (protocols: string[], example: string) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol)
      } catch {
        return false
      }
    },
    `must be a ${protocols.map((p) => p.replace(':', '')).join(' or ')} URL, e.g. "${example}"`,
  )
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be an address')
const count = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a whole number')
  .transform(Number)
  .refine((n) => n > 0, 'must be more than zero')
const key = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 0x-prefixed 32-byte hex private key')

const manifestSchema = z.object({
  chainId: z.number().int().positive(),
  deploymentBlock: z.number().int().nonnegative(),
  contracts: z.object({
    identityRegistry: address,
    economy: address,
    factory: address,
    module: address,
    erc6551Registry: address,
    agentAccount: address,
    multicall3: address.optional(),
    // The devnet's stablecoin; a real chain names its tokens under `tokens`.
    devUSD: address.optional(),
  }),
  safe: z.object({
    safeSingleton: address,
    safeL2Singleton: address,
    safeProxyFactory: address,
    fallbackHandler: address,
    multiSend: address,
    multiSendCallOnly: address,
    signMessageLib: address,
    createCall: address,
    simulateTxAccessor: address,
  }),
  economy: z.object({
    feeBps: z.number().int().min(0).max(10_000),
    submissionGraceSeconds: z.number().int().nonnegative(),
  }),
  tokens: z
    .array(
      z.object({
        symbol: z.string().regex(/^[A-Za-z][A-Za-z0-9.]{0,15}$/, 'must be a token symbol, e.g. "USDC"'),
        address,
        decimals: z.number().int().min(0).max(36),
      }),
    )
    .refine(
      (tokens) => new Set(tokens.map((t) => t.symbol.toLowerCase())).size === tokens.length,
      'must not name one symbol twice',
    )
    .optional(),
})

// An IPv4 or IPv6 address, or a host name (no scheme, port or path).
const host = z
  .string()
  .regex(
    /^(?:[0-9a-fA-F:.]+|[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?)$/,
    'must be an interface address or host name, e.g. "127.0.0.1" or "0.0.0.0"',
  )

const envSchema = z.object({
  PORT: port.optional(),
  HOST: host.optional(),
  DEVNET_PORT: port.optional(),
  PUBLIC_URL: url(['http:', 'https:'], 'https://agora.example.com').optional(),
  AGORA_DATA_DIR: z.string().optional(),
  DATABASE_URL: url(['postgres:', 'postgresql:'], 'postgres://user:password@host:5432/agora').optional(),
  RPC_URL: url(['http:', 'https:'], 'https://rpc.example.com').optional(),
  CHAIN_ID: z
    .string()
    .regex(/^\d{1,15}$/, 'must be a chain id (digits)')
    .transform(Number)
    .optional(),
  DEPLOYMENT_MANIFEST: z.string().optional(),
  MASTER_KEY: z
    .string()
    .regex(/^(0x)?[0-9a-fA-F]{64}$/, 'must be 64 hex characters (32 bytes), e.g. from `openssl rand -hex 32`')
    .optional(),
  RELAYER_KEYS: z
    .string()
    .transform((v) => v.split(',').map((k) => k.trim()))
    .pipe(z.array(key).min(1))
    .optional(),
  AGORA_QUOTAS: z.enum(['on', 'off'], { error: 'must be "on" or "off"' }).optional(),
  AGORA_QUOTA_LAUNCHES: count.optional(),
  AGORA_QUOTA_TRANSACTIONS: count.optional(),
  AGORA_QUOTA_GAS: count.optional(),
  AGORA_QUOTA_PERIOD_HOURS: count.optional(),
  AGORA_STREAMS_PER_CLIENT: count.optional(),
  AGORA_STREAMS_TOTAL: count.optional(),
  AGORA_DEMO_TRADING: z.enum(['on', 'off'], { error: 'must be "on" or "off"' }).optional(),
  AGORA_WORKERS: count.refine((n) => n <= 32, 'must be at most 32').optional(),
  AGORA_SHARD: z
    .string()
    .regex(/^\d{1,4}$/, 'must be a shard number (0-1023)')
    .transform(Number)
    .refine((n) => n < 1024, 'must be a shard number (0-1023)')
    .optional(),
  AGORA_INTERNAL_URL: url(['http:', 'https:'], 'http://10.0.0.7:8787').optional(),
})

/** What running several processes over one database needs: Postgres, a chain of its own, relayers enough. */
function checkSharding(vars: z.output<typeof envSchema>, set: ConfigEnv, problems: string[]) {
  const workers = vars.AGORA_WORKERS ?? 1
  if (workers > 1 && vars.AGORA_SHARD !== undefined)
    problems.push('AGORA_SHARD: is set for each process by AGORA_WORKERS; unset one of them')
  if ((workers > 1 || (vars.AGORA_SHARD ?? 0) > 0) && set.DATABASE_URL === undefined)
    problems.push(
      `${workers > 1 ? 'AGORA_WORKERS' : 'AGORA_SHARD'}: several processes share one Postgres database; set DATABASE_URL`,
    )
  if (workers > 1 && set.RPC_URL === undefined)
    problems.push(
      'AGORA_WORKERS: the processes share a chain they do not start; set RPC_URL (`npm run devnet` runs one)',
    )
  const relayers = vars.RELAYER_KEYS?.length ?? 0
  if (workers > 1 && relayers > 0 && relayers < workers)
    problems.push(
      `RELAYER_KEYS: each of the ${workers} processes needs relayer keys of its own; ${relayers} given`,
    )
}

/** The quotas the environment sets: off, or the limits it names (the rest keep the runtime's defaults). */
function quotasOf(vars: z.output<typeof envSchema>): QuotasParameters {
  if (vars.AGORA_QUOTAS === 'off') return false
  return {
    ...(vars.AGORA_QUOTA_LAUNCHES !== undefined && { launches: vars.AGORA_QUOTA_LAUNCHES }),
    ...(vars.AGORA_QUOTA_TRANSACTIONS !== undefined && { transactions: vars.AGORA_QUOTA_TRANSACTIONS }),
    ...(vars.AGORA_QUOTA_GAS !== undefined && { gas: BigInt(vars.AGORA_QUOTA_GAS) }),
    ...(vars.AGORA_QUOTA_PERIOD_HOURS !== undefined && {
      periodMs: vars.AGORA_QUOTA_PERIOD_HOURS * 3_600_000,
    }),
  }
}

/** Variables needed when `RPC_URL` names a real chain. */
const chainVariables = ['CHAIN_ID', 'DEPLOYMENT_MANIFEST', 'MASTER_KEY', 'RELAYER_KEYS'] as const

function readManifest(path: string, problems: string[]): DeploymentManifest | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    problems.push(
      `DEPLOYMENT_MANIFEST: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? error})`,
    )
    return undefined
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    problems.push(`DEPLOYMENT_MANIFEST: ${path} is not JSON`)
    return undefined
  }
  const parsed = manifestSchema.safeParse(data)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`DEPLOYMENT_MANIFEST: ${path}: ${issue.path.join('.') || '(file)'} ${issue.message}`)
    }
    return undefined
  }
  return parsed.data as DeploymentManifest
}

/**
 * Reads the server's configuration from environment variables. Without `RPC_URL` everything runs on
 * the embedded devnet; with it, `CHAIN_ID`, `DEPLOYMENT_MANIFEST`, `MASTER_KEY` and `RELAYER_KEYS`
 * are required. Every problem is collected before throwing, so one start shows them all.
 *
 * @example
 * const config = loadConfig(process.env) // { mode: 'embedded', port: 8787, ... }
 */
export function loadConfig(env: ConfigEnv, options: { cwd?: string } = {}): Config {
  // An exported-but-empty variable means "not set", as shells and .env files commonly leave them.
  const set = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''),
  ) as ConfigEnv
  const problems: string[] = []
  const parsed = envSchema.safeParse(set)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [name, ...rest] = issue.path.map(String)
      problems.push(`${name}${rest.length ? ` (item ${Number(rest[0]) + 1})` : ''}: ${issue.message}`)
    }
  }
  const vars = parsed.success ? parsed.data : ({} as z.output<typeof envSchema>)

  let model: ModelConfig | undefined
  try {
    model = modelConfigFromEnv(set)
  } catch (error) {
    const issues = (error as { meta?: { issues?: { path: string; message: string }[] } }).meta?.issues
    if (issues?.length) for (const i of issues) problems.push(`${i.path}: ${i.message}`)
    else problems.push(`AGORA_MODEL_*: ${(error as Error).message}`)
  }

  const port = vars.PORT ?? 8787
  const common = {
    port,
    host: vars.HOST ?? (set.RPC_URL === undefined ? '127.0.0.1' : '0.0.0.0'),
    publicUrl: (vars.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/$/, ''),
    dataDir: resolve(vars.AGORA_DATA_DIR ?? join(set.INIT_CWD ?? options.cwd ?? process.cwd(), '.agora')),
    databaseUrl: vars.DATABASE_URL,
    model,
    quotas: quotasOf(vars),
    eventStreams: {
      ...(vars.AGORA_STREAMS_PER_CLIENT !== undefined && { perClient: vars.AGORA_STREAMS_PER_CLIENT }),
      ...(vars.AGORA_STREAMS_TOTAL !== undefined && { total: vars.AGORA_STREAMS_TOTAL }),
    },
    workers: vars.AGORA_WORKERS ?? 1,
    shard: vars.AGORA_SHARD ?? 0,
    internalUrl: vars.AGORA_INTERNAL_URL?.replace(/\/$/, ''),
  }
  checkSharding(vars, set, problems)

  if (set.RPC_URL === undefined) {
    for (const name of chainVariables) {
      if (set[name] !== undefined)
        problems.push(`${name}: is only used with RPC_URL; set RPC_URL or unset it`)
    }
    if (problems.length) throw new ConfigError(problems)
    return {
      mode: 'embedded',
      ...common,
      devnetPort: vars.DEVNET_PORT,
      demoTrading: vars.AGORA_DEMO_TRADING !== 'off',
    }
  }

  for (const name of chainVariables) {
    if (set[name] === undefined) problems.push(`${name}: is required when RPC_URL is set`)
  }
  if (set.DEVNET_PORT !== undefined)
    problems.push('DEVNET_PORT: has no use with RPC_URL (no devnet is started)')
  if (set.AGORA_DEMO_TRADING !== undefined)
    problems.push('AGORA_DEMO_TRADING: the demo trades on the embedded devnet only; unset it with RPC_URL')
  const manifest = set.DEPLOYMENT_MANIFEST ? readManifest(set.DEPLOYMENT_MANIFEST, problems) : undefined
  if (manifest && vars.CHAIN_ID !== undefined && manifest.chainId !== vars.CHAIN_ID) {
    problems.push(`DEPLOYMENT_MANIFEST: is for chain ${manifest.chainId}, but CHAIN_ID is ${vars.CHAIN_ID}`)
  }
  if (problems.length) throw new ConfigError(problems)
  return {
    mode: 'chain',
    ...common,
    rpcUrl: vars.RPC_URL!,
    chainId: vars.CHAIN_ID!,
    manifest: manifest!,
    masterKey: vars.MASTER_KEY!.replace(/^0x/, ''),
    relayerKeys: vars.RELAYER_KEYS as Hex[],
  }
}
