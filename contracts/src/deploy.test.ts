import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Address, type Hex, zeroAddress } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startAnvil } from './anvil.ts'
import { canonicalAddresses, safeCanonicalAddresses } from './canonical.ts'
import { type CanonicalChain, deployTestToken, startCanonicalChain } from './canonical-chain.ts'
import { agentEconomyAbi } from './generated/AgentEconomy.ts'
import { agentFactoryAbi } from './generated/AgentFactory.ts'
import { agentIdentityRegistryAbi } from './generated/AgentIdentityRegistry.ts'
import { agentModuleAbi } from './generated/AgentModule.ts'
import type { DeploymentManifest } from './manifest.ts'

const script = join(import.meta.dirname, '..', 'scripts', 'deploy.ts')

let chain: CanonicalChain
let tempDir: string
let deployerKey: Hex
let token: Address

beforeAll(async () => {
  tempDir = mkdtempSync(join(tmpdir(), 'agora-deploy-test-'))
  chain = await startCanonicalChain({ accounts: 4 })
  deployerKey = chain.anvil.privateKeys[1]!
  token = await deployTestToken(chain.anvil, chain.anvil.privateKeys[2]!)
})

afterAll(async () => {
  await chain?.stop()
  rmSync(tempDir, { recursive: true, force: true })
})

type Run = { code: number | null; stderr: string }

/**
 * `npm run deploy` as the operator runs it: a child process, the key in its environment (none when
 * `key` is null), stdin not a terminal. `until` kills it with SIGKILL once its output matches.
 */
function deploy(args: string[], options: { key?: Hex | null; until?: RegExp } = {}): Promise<Run> {
  const { AGORA_DEPLOYER_KEY: _, ...env } = process.env
  const key = options.key === undefined ? deployerKey : options.key
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      env: { ...env, ...(key && { AGORA_DEPLOYER_KEY: key }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      if (options.until?.test(stderr)) child.kill('SIGKILL')
    })
    child.once('error', reject)
    child.once('exit', (code) => resolve({ code, stderr }))
  })
}

const outPath = (name: string) => join(tempDir, `${name}.json`)
const readManifest = (path: string) =>
  JSON.parse(readFileSync(path, 'utf8')) as DeploymentManifest & { deployer: Address }
const usdc = () => `USDC=${token}`

async function hasCode(address: Address) {
  return ((await chain.publicClient.getCode({ address })) ?? '0x') !== '0x'
}

/** The manifest names contracts that are there and wired to each other and to the canonical ones. */
async function expectWired(manifest: DeploymentManifest) {
  const { publicClient } = chain
  const { contracts } = manifest
  for (const address of Object.values(contracts)) expect(await hasCode(address)).toBe(true)
  const factory = { address: contracts.factory, abi: agentFactoryAbi } as const
  expect(await publicClient.readContract({ ...factory, functionName: 'identity' })).toBe(
    contracts.identityRegistry,
  )
  expect(await publicClient.readContract({ ...factory, functionName: 'accountRegistry' })).toBe(
    canonicalAddresses.erc6551Registry,
  )
  expect(await publicClient.readContract({ ...factory, functionName: 'accountImplementation' })).toBe(
    contracts.agentAccount,
  )
  expect(await publicClient.readContract({ ...factory, functionName: 'safeProxyFactory' })).toBe(
    safeCanonicalAddresses.safeProxyFactory,
  )
  expect(
    await publicClient.readContract({
      address: contracts.module,
      abi: agentModuleAbi,
      functionName: 'economy',
    }),
  ).toBe(contracts.economy)
  expect(
    await publicClient.readContract({
      address: contracts.identityRegistry,
      abi: agentIdentityRegistryAbi,
      functionName: 'isLauncher',
      args: [contracts.factory],
    }),
  ).toBe(true)
}

describe('npm run deploy', () => {
  test('error: a chain without the canonical contracts is refused, each one named', async () => {
    const bare = await startAnvil({ accounts: 2, log: () => {} })
    try {
      const run = await deploy(['--rpc-url', bare.rpcUrl, '--out', outPath('bare')], {
        key: bare.privateKeys[0]!,
      })
      expect(run.code).toBe(1)
      expect(run.stderr).toContain('Chain 31337 lacks contracts Agora reuses at their canonical addresses:')
      expect(run.stderr).toContain(`safeSingleton at ${safeCanonicalAddresses.safeSingleton}: no code`)
      expect(run.stderr).toContain(`erc6551Registry at ${canonicalAddresses.erc6551Registry}: no code`)
      expect(run.stderr).toContain(`multicall3 at ${canonicalAddresses.multicall3}: no code`)
      expect(existsSync(`${outPath('bare')}.progress`)).toBe(false)
    } finally {
      await bare.stop()
    }
  })

  test('error: every bad input is refused with what is wrong, before anything is sent', async () => {
    const rpcUrl = chain.anvil.rpcUrl
    const out = outPath('refused')
    const block = await chain.publicClient.getBlockNumber({ cacheTime: 0 })
    const cases: [string[], { key?: Hex | null }, number, RegExp][] = [
      [['--rpc-url', rpcUrl, '--out', out], { key: null }, 2, /no deployer key: set AGORA_DEPLOYER_KEY/],
      [['--rpc-url', rpcUrl, '--out', out], { key: '0x1234' }, 2, /must be a 32-byte hex private key/],
      [['--rpc-url', rpcUrl, `--private-key=${deployerKey}`], {}, 2, /--private-key is not accepted/],
      [['--out', out], {}, 2, /--rpc-url is required/],
      [['--rpc-url', 'localhost:8545', '--out', out], {}, 2, /the RPC URL must be an http or https URL/],
      [
        ['--rpc-url', 'http://127.0.0.1:1', '--out', out],
        {},
        1,
        /Cannot reach the RPC at http:\/\/127\.0\.0\.1:1/,
      ],
      [
        ['--rpc-url', rpcUrl, '--out', out, '--chain-id', '84532'],
        {},
        1,
        /The RPC at http:\/\/127\.0\.0\.1:\d+ serves chain 31337, not chain 84532 \(--chain-id\)/,
      ],
      [
        ['--rpc-url', rpcUrl, '--out', out],
        { key: generatePrivateKey() },
        1,
        /The deployer 0x[0-9a-fA-F]{40} holds 0 ETH on chain 31337; the steps left need about [\d.]+ ETH/,
      ],
      [['--rpc-url', rpcUrl, '--out', out, '--token', 'USDC'], {}, 2, /--token must be SYMBOL=0xaddress/],
      [
        ['--rpc-url', rpcUrl, '--out', out, '--token', 'ETH=0x1'],
        {},
        2,
        /token symbol "ETH" is reserved[\s\S]*"0x1" is not an address/,
      ],
      [
        ['--rpc-url', rpcUrl, '--out', out, '--token', `USDC=${privateKeyToAccount(deployerKey).address}`],
        {},
        1,
        /Token USDC: no contract at 0x[0-9a-fA-F]{40} on chain 31337/,
      ],
      [
        ['--rpc-url', rpcUrl, '--out', out, '--token', `USDC=${canonicalAddresses.multicall3}`],
        {},
        1,
        /Token USDC: 0xcA11bde05977b3631167028862bE2a173976CA11 does not answer decimals\(\) and symbol\(\)/,
      ],
      [['--rpc-url', rpcUrl, '--out', out, '--fee-bps', 'one'], {}, 2, /--fee-bps must be a whole number/],
    ]
    // Three at a time: each is a Node process compiling TypeScript.
    const runs: Run[] = []
    for (let i = 0; i < cases.length; i += 3)
      runs.push(...(await Promise.all(cases.slice(i, i + 3).map(([args, options]) => deploy(args, options)))))
    for (const [i, run] of runs.entries()) {
      const [args, , code, message] = cases[i]!
      expect({ args, code: run.code, stderr: run.stderr }).toEqual({
        args,
        code,
        stderr: expect.stringMatching(message),
      })
    }
    expect(existsSync(`${out}.progress`)).toBe(false)
    expect(existsSync(out)).toBe(false)
    expect(await chain.publicClient.getBlockNumber({ cacheTime: 0 })).toBe(block)
  })

  test('default: deploys Agora beside the canonical contracts and writes the manifest; a rerun sends nothing', async () => {
    const out = outPath('base')
    const run = await deploy(['--rpc-url', chain.anvil.rpcUrl, '--out', out, '--token', usdc()])
    expect(run.code, run.stderr).toBe(0)
    const manifest = readManifest(out)
    expect(manifest).toEqual({
      chainId: 31337,
      deploymentBlock: expect.any(Number),
      deployer: privateKeyToAccount(deployerKey).address,
      contracts: {
        identityRegistry: expect.any(String),
        economy: expect.any(String),
        factory: expect.any(String),
        module: expect.any(String),
        erc6551Registry: canonicalAddresses.erc6551Registry,
        agentAccount: expect.any(String),
        multicall3: canonicalAddresses.multicall3,
      },
      safe: safeCanonicalAddresses,
      economy: { feeBps: 100, submissionGraceSeconds: 86_400 },
      tokens: [{ symbol: 'USDC', address: token, decimals: 6 }],
    })
    await expectWired(manifest)
    // Indexers start before the first contract: nothing of Agora's is older.
    // (Read from the logs: the devnet keeps the state of recent blocks only.) The registry's
    // constructor emits its first event, OwnershipTransferred, in the block that gives it its code.
    const [firstEvent] = await chain.publicClient.getLogs({
      address: manifest.contracts.identityRegistry,
      fromBlock: 0n,
      toBlock: 'latest',
    })
    expect(firstEvent!.blockNumber).toBeGreaterThan(BigInt(manifest.deploymentBlock))
    const economy = { address: manifest.contracts.economy, abi: agentEconomyAbi } as const
    expect(await chain.publicClient.readContract({ ...economy, functionName: 'feeBps' })).toBe(100)
    expect(await chain.publicClient.readContract({ ...economy, functionName: 'owner' })).toBe(
      manifest.deployer,
    )
    expect(
      await chain.publicClient.readContract({ ...economy, functionName: 'minJobValue', args: [token] }),
    ).toBe(10_000n)
    expect(
      await chain.publicClient.readContract({ ...economy, functionName: 'minJobValue', args: [zeroAddress] }),
    ).toBe(10n ** 13n)
    // One line per step, with its address, transaction and gas.
    for (const contract of [
      'AgentIdentityRegistry',
      'AgentAccount',
      'AgentEconomy',
      'AgentModule',
      'AgentFactory',
    ])
      expect(run.stderr).toMatch(
        new RegExp(`deploy: ${contract} at 0x[0-9a-fA-F]{40} \\(tx 0x[0-9a-f]{64}, gas [\\d,]+\\)`),
      )
    expect(run.stderr).toMatch(/deploy: trusting the factory as launcher \(tx 0x[0-9a-f]{64}, gas [\d,]+\)/)
    expect(run.stderr).toContain(`deploy: manifest written to ${out}`)

    const block = await chain.publicClient.getBlockNumber({ cacheTime: 0 })
    const again = await deploy(['--rpc-url', chain.anvil.rpcUrl, '--out', out, '--token', usdc()])
    expect(again.code, again.stderr).toBe(0)
    expect(again.stderr).toContain(`deploy: AgentEconomy already at ${manifest.contracts.economy}`)
    expect(again.stderr).toContain('deploy: nothing to do: every step was already done on chain 31337')
    expect(readManifest(out)).toEqual(manifest)
    expect(await chain.publicClient.getBlockNumber({ cacheTime: 0 })).toBe(block)

    // A finished manifest without its progress file is never overwritten.
    rmSync(`${out}.progress`)
    const overwrite = await deploy(['--rpc-url', chain.anvil.rpcUrl, '--out', out])
    expect(overwrite.code).toBe(2)
    expect(overwrite.stderr).toMatch(/exists and no deployment is in progress beside it/)
  })

  test('behavior: a run killed halfway is finished by the next, keeping what it deployed', async () => {
    const out = outPath('killed')
    const killed = await deploy(['--rpc-url', chain.anvil.rpcUrl, '--out', out, '--token', usdc()], {
      until: /AgentEconomy at/,
    })
    expect(killed.code).toBe(null)
    expect(existsSync(out)).toBe(false)
    const economy = /AgentEconomy at (0x[0-9a-fA-F]{40})/.exec(killed.stderr)![1]
    const resumed = await deploy(['--rpc-url', chain.anvil.rpcUrl, '--out', out, '--token', usdc()])
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(resumed.stderr).toMatch(/AgentIdentityRegistry already at .*; kept/)
    expect(resumed.stderr).toMatch(/AgentEconomy already at .*; kept/)
    const manifest = readManifest(out)
    expect(manifest.contracts.economy).toBe(economy)
    await expectWired(manifest)
  })

  test('behavior: a deployment sent but not recorded is adopted, not sent twice', async () => {
    const done = readManifest(outPath('base'))
    // Rebuilt as the progress of a run killed after sending the factory, before its receipt.
    const out = outPath('pending')
    const runAgain = () => deploy(['--rpc-url', chain.anvil.rpcUrl, '--out', out, '--token', usdc()])
    expect((await runAgain()).code).toBe(0)
    const progress = JSON.parse(readFileSync(`${out}.progress`, 'utf8'))
    const factory = progress.deployed.factory
    const { nonce } = await chain.publicClient.getTransaction({ hash: factory.txHash })
    delete progress.deployed.factory
    progress.pending = { step: 'factory', nonce, address: factory.address, txHash: factory.txHash }
    writeFileSync(`${out}.progress`, JSON.stringify(progress))
    rmSync(out)
    const block = await chain.publicClient.getBlockNumber({ cacheTime: 0 })
    const adopted = await runAgain()
    expect(adopted.code, adopted.stderr).toBe(0)
    expect(adopted.stderr).toContain(`AgentFactory sent by an earlier run landed at ${factory.address}; kept`)
    expect(readManifest(out).contracts.factory).toBe(factory.address)
    expect(await chain.publicClient.getBlockNumber({ cacheTime: 0 })).toBe(block)

    // A recorded contract the chain does not hold is deployed again, with everything built on it.
    const stale = JSON.parse(readFileSync(`${out}.progress`, 'utf8'))
    stale.deployed.module.codeHash = `0x${'0'.repeat(64)}`
    writeFileSync(`${out}.progress`, JSON.stringify(stale))
    const redeployed = await runAgain()
    expect(redeployed.code, redeployed.stderr).toBe(0)
    expect(redeployed.stderr).toContain(
      `AgentModule recorded at ${stale.deployed.module.address} is not on the chain; deploying it and what follows again`,
    )
    const manifest = readManifest(out)
    expect(manifest.contracts.economy).toBe(stale.deployed.economy.address)
    expect(manifest.contracts.module).not.toBe(stale.deployed.module.address)
    expect(manifest.contracts.factory).not.toBe(factory.address)
    await expectWired(manifest)
    expect(done.contracts.economy).not.toBe(manifest.contracts.economy)

    // Progress made on another chain (here: another first block) is refused.
    const other = JSON.parse(readFileSync(`${out}.progress`, 'utf8'))
    other.genesisHash = `0x${'1'.repeat(64)}`
    writeFileSync(`${out}.progress`, JSON.stringify(other))
    const refused = await runAgain()
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/is for another chain with id 31337 \(its first block differs/)
  })
})
