import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { fakeManifest, writeFakeManifest } from '../test/config-fixture.ts'
import { ConfigError, loadConfig } from './config.ts'

const relayer = `0x${'1'.repeat(64)}`
const { dir, chainEnv } = writeFakeManifest('agora-config-', `${relayer}, 0x${'2'.repeat(64)}`)
const manifest = fakeManifest

/** The problems `loadConfig` lists for an environment (it must throw). */
function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env, { cwd: dir })
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as Error).message).toContain('The configuration is invalid')
    return (error as ConfigError).problems
  }
  throw new Error('loadConfig accepted the environment')
}

describe('loadConfig', () => {
  test('default: embedded on an empty environment', () => {
    expect(loadConfig({}, { cwd: dir })).toEqual({
      mode: 'embedded',
      port: 8787,
      host: '127.0.0.1',
      publicUrl: 'http://localhost:8787',
      dataDir: join(dir, '.agora'),
      databaseUrl: undefined,
      devnetPort: undefined,
      model: undefined,
      quotas: {},
      eventStreams: {},
      demoTrading: true,
      workers: 1,
      shard: 0,
      internalUrl: undefined,
    })
  })

  test('behavior: embedded with every variable; empty ones count as unset', () => {
    const config = loadConfig(
      {
        PORT: '9000',
        DEVNET_PORT: '',
        PUBLIC_URL: 'https://agora.example.com/',
        AGORA_DATA_DIR: join(dir, 'data'),
        DATABASE_URL: 'postgres://u:p@db:5432/agora',
        AGORA_MODEL_PROVIDER: 'ollama',
        AGORA_MODEL: 'llama3.1',
      },
      { cwd: dir },
    )
    expect(config).toMatchObject({
      mode: 'embedded',
      port: 9000,
      publicUrl: 'https://agora.example.com',
      dataDir: join(dir, 'data'),
      databaseUrl: 'postgres://u:p@db:5432/agora',
      model: { provider: 'ollama', model: 'llama3.1', baseURL: 'http://127.0.0.1:11434/v1' },
    })
  })

  test('behavior: a real chain with RPC_URL and its companions', () => {
    const config = loadConfig(chainEnv, { cwd: dir })
    expect(config).toMatchObject({
      mode: 'chain',
      rpcUrl: 'https://rpc.example.com',
      chainId: 8453,
      manifest,
      masterKey: 'ab'.repeat(32),
      relayerKeys: [relayer, `0x${'2'.repeat(64)}`],
    })
  })

  test('behavior: bad ports, URLs and model variables are each named', () => {
    expect(
      problemsOf({
        PORT: '70000',
        DEVNET_PORT: 'x',
        PUBLIC_URL: 'agora.example.com',
        DATABASE_URL: 'mysql://db',
        AGORA_MODEL_PROVIDER: 'skynet',
      }),
    ).toEqual([
      expect.stringMatching(/^PORT: must be a TCP port/),
      expect.stringMatching(/^DEVNET_PORT: must be a TCP port/),
      expect.stringMatching(/^PUBLIC_URL: must be a http or https URL/),
      expect.stringMatching(/^DATABASE_URL: must be a postgres or postgresql URL/),
      expect.stringMatching(/^AGORA_MODEL_PROVIDER: /),
      expect.stringMatching(/^AGORA_MODEL: is required/),
    ])
  })

  test('behavior: RPC_URL alone lists every missing companion', () => {
    expect(problemsOf({ RPC_URL: 'https://rpc.example.com' })).toEqual([
      'CHAIN_ID: is required when RPC_URL is set',
      'DEPLOYMENT_MANIFEST: is required when RPC_URL is set',
      'MASTER_KEY: is required when RPC_URL is set',
      'RELAYER_KEYS: is required when RPC_URL is set',
    ])
  })

  test('behavior: chain variables without RPC_URL are refused rather than ignored', () => {
    const { RPC_URL: _, ...rest } = chainEnv
    expect(problemsOf(rest)).toHaveLength(4)
  })

  test('behavior: bad keys', () => {
    const problems = problemsOf({
      ...chainEnv,
      MASTER_KEY: 'secret',
      RELAYER_KEYS: `${relayer},0x12`,
      CHAIN_ID: 'base',
    })
    expect(problems).toEqual([
      expect.stringMatching(/^CHAIN_ID: must be a chain id/),
      expect.stringMatching(/^MASTER_KEY: must be 64 hex characters/),
      expect.stringMatching(/^RELAYER_KEYS \(item 2\): must be a 0x-prefixed 32-byte hex private key/),
    ])
  })

  test('behavior: an unreadable, malformed or incomplete manifest', () => {
    expect(problemsOf({ ...chainEnv, DEPLOYMENT_MANIFEST: join(dir, 'missing.json') })).toEqual([
      expect.stringMatching(/^DEPLOYMENT_MANIFEST: cannot read .*missing\.json \(ENOENT\)/),
    ])
    const notJson = join(dir, 'not.json')
    writeFileSync(notJson, '{ chainId: ')
    expect(problemsOf({ ...chainEnv, DEPLOYMENT_MANIFEST: notJson })).toEqual([
      `DEPLOYMENT_MANIFEST: ${notJson} is not JSON`,
    ])
    const partial = join(dir, 'partial.json')
    writeFileSync(
      partial,
      JSON.stringify({ ...manifest, contracts: { ...manifest.contracts, economy: 'x' } }),
    )
    expect(problemsOf({ ...chainEnv, DEPLOYMENT_MANIFEST: partial })).toEqual([
      expect.stringMatching(/contracts\.economy must be an address/),
    ])
  })

  test('behavior: a manifest without dUSD, with the tokens `npm run deploy` records', () => {
    const { devUSD: _, ...contracts } = manifest.contracts
    const deployed = {
      ...manifest,
      deployer: `0x${'d'.repeat(40)}`,
      contracts: { ...contracts, multicall3: '0xcA11bde05977b3631167028862bE2a173976CA11' },
      tokens: [{ symbol: 'USDC', address: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', decimals: 6 }],
    }
    const path = join(dir, 'deployed.json')
    writeFileSync(path, JSON.stringify(deployed))
    const config = loadConfig({ ...chainEnv, DEPLOYMENT_MANIFEST: path }, { cwd: dir })
    expect(config).toMatchObject({ mode: 'chain', manifest: { contracts, tokens: deployed.tokens } })
    expect(config.mode === 'chain' && config.manifest.contracts.devUSD).toBe(undefined)

    const badTokens = join(dir, 'bad-tokens.json')
    writeFileSync(
      badTokens,
      JSON.stringify({
        ...deployed,
        tokens: [
          { symbol: 'USDC', address: '0x12', decimals: 6 },
          { symbol: 'usdc', address: contracts.economy, decimals: 6 },
        ],
      }),
    )
    expect(problemsOf({ ...chainEnv, DEPLOYMENT_MANIFEST: badTokens })).toEqual([
      expect.stringMatching(/tokens\.0\.address must be an address$/),
      expect.stringMatching(/tokens must not name one symbol twice$/),
    ])
  })

  test('behavior: a manifest for another chain than CHAIN_ID', () => {
    expect(problemsOf({ ...chainEnv, CHAIN_ID: '1' })).toEqual([
      'DEPLOYMENT_MANIFEST: is for chain 8453, but CHAIN_ID is 1',
    ])
  })

  test('behavior: quotas and event stream limits from the environment', () => {
    expect(loadConfig({})).toMatchObject({ quotas: {}, eventStreams: {} })
    expect(loadConfig({ AGORA_QUOTAS: 'off' }).quotas).toBe(false)
    expect(
      loadConfig({
        AGORA_QUOTA_LAUNCHES: '5',
        AGORA_QUOTA_TRANSACTIONS: '100',
        AGORA_QUOTA_GAS: '30000000',
        AGORA_QUOTA_PERIOD_HOURS: '1',
        AGORA_STREAMS_PER_CLIENT: '3',
        AGORA_STREAMS_TOTAL: '50',
      }),
    ).toMatchObject({
      quotas: { launches: 5, transactions: 100, gas: 30_000_000n, periodMs: 3_600_000 },
      eventStreams: { perClient: 3, total: 50 },
    })
    expect(
      problemsOf({ AGORA_QUOTAS: 'maybe', AGORA_QUOTA_LAUNCHES: '-1', AGORA_STREAMS_TOTAL: '0' }),
    ).toEqual([
      'AGORA_QUOTAS: must be "on" or "off"',
      'AGORA_QUOTA_LAUNCHES: must be a whole number',
      'AGORA_STREAMS_TOTAL: must be more than zero',
    ])
  })
})
