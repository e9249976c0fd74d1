// Issue 10, finding 14: on the devnet the API listened on every interface by default, so anyone on
// the network could reach the development accounts' agents. It listens on loopback unless told otherwise.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { loadConfig } from './config.ts'

const a = (n: number) => `0x${n.toString(16).padStart(40, '0')}`
const names = ['identityRegistry', 'economy', 'factory', 'erc6551Registry', 'agentAccount', 'devUSD']
const safeNames = [
  'safeSingleton',
  'safeL2Singleton',
  'safeProxyFactory',
  'fallbackHandler',
  'multiSend',
  'multiSendCallOnly',
  'signMessageLib',
  'createCall',
  'simulateTxAccessor',
]
const manifestPath = join(mkdtempSync(join(tmpdir(), 'agora-host-')), 'manifest.json')
writeFileSync(
  manifestPath,
  JSON.stringify({
    chainId: 8453,
    deploymentBlock: 1,
    contracts: Object.fromEntries(names.map((name, i) => [name, a(1 + i)])),
    safe: Object.fromEntries(safeNames.map((name, i) => [name, a(10 + i)])),
    economy: { feeBps: 100, submissionGraceSeconds: 3_600 },
  }),
)
const chainEnv = {
  RPC_URL: 'https://rpc.example.com',
  CHAIN_ID: '8453',
  DEPLOYMENT_MANIFEST: manifestPath,
  MASTER_KEY: 'ab'.repeat(32),
  RELAYER_KEYS: `0x${'1'.repeat(64)}`,
}

describe('loadConfig (HOST)', () => {
  test('default: the devnet API listens on loopback only', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1')
  })

  test('behavior: HOST chooses the interface, on the devnet too', () => {
    expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0')
    expect(loadConfig({ HOST: '::1' }).host).toBe('::1')
  })

  test('behavior: a HOST that is not an interface address or name is refused', () => {
    expect(() => loadConfig({ HOST: 'http://x' })).toThrow(/HOST: /)
  })

  test('behavior: on a real chain the API listens on every interface unless HOST says otherwise', () => {
    expect(loadConfig(chainEnv).host).toBe('0.0.0.0')
    expect(loadConfig({ ...chainEnv, HOST: '10.0.0.5' }).host).toBe('10.0.0.5')
  })
})
