import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// Configuration on a real chain needs a deployment manifest on disk; the config suites share one.

const a = (n: number) => `0x${n.toString(16).padStart(40, '0')}`

/** A deployment manifest for chain 8453 whose addresses are made up: 0x…01 to 0x…06, then 0x…0a on. */
export const fakeManifest = {
  chainId: 8453,
  deploymentBlock: 100,
  contracts: {
    identityRegistry: a(1),
    economy: a(2),
    factory: a(3),
    module: a(7),
    erc6551Registry: a(4),
    agentAccount: a(5),
    devUSD: a(6),
  },
  safe: Object.fromEntries(
    [
      'safeSingleton',
      'safeL2Singleton',
      'safeProxyFactory',
      'fallbackHandler',
      'multiSend',
      'multiSendCallOnly',
      'signMessageLib',
      'createCall',
      'simulateTxAccessor',
    ].map((name, i) => [name, a(10 + i)]),
  ),
  economy: { feeBps: 100, submissionGraceSeconds: 3_600 },
}

/**
 * Writes `fakeManifest` into a new temporary folder and returns the folder, the file's path, and an
 * environment that configures a real chain with it (`relayerKeys` as `RELAYER_KEYS`).
 */
export function writeFakeManifest(
  prefix: string,
  relayerKeys = `0x${'1'.repeat(64)}`,
): { dir: string; manifestPath: string; chainEnv: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const manifestPath = join(dir, 'manifest.json')
  writeFileSync(manifestPath, JSON.stringify(fakeManifest))
  return {
    dir,
    manifestPath,
    chainEnv: {
      RPC_URL: 'https://rpc.example.com',
      CHAIN_ID: '8453',
      DEPLOYMENT_MANIFEST: manifestPath,
      MASTER_KEY: 'ab'.repeat(32),
      RELAYER_KEYS: relayerKeys,
    },
  }
}
