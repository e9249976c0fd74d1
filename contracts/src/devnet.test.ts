import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type Address,
  createPublicClient,
  createWalletClient,
  getAddress,
  type Hex,
  http,
  multicall3Abi,
  type PublicClient,
  parseEther,
  parseEventLogs,
  parseUnits,
  zeroAddress,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import {
  checkCanonicalContracts,
  erc6551RegistryCanonical,
  multicall3Canonical,
  safeCanonicalAddresses,
} from './canonical.ts'
import { type Devnet, type DevnetManifest, safeContractNetworks, startDevnet } from './devnet.ts'
import { agentEconomyAbi } from './generated/AgentEconomy.ts'
import { agentFactoryAbi } from './generated/AgentFactory.ts'
import { agentIdentityRegistryAbi } from './generated/AgentIdentityRegistry.ts'
import { devUSDAbi } from './generated/DevUSD.ts'
import { erc6551RegistryAbi, erc6551RegistryBytecode } from './generated/ERC6551Registry.ts'

/** anvil's default balance for each development account. */
const anvilBalance = parseEther('10000')

let tempDir: string
const running: Devnet[] = []

beforeAll(() => {
  tempDir = mkdtempSync(join(tmpdir(), 'agora-devnet-test-'))
})

afterEach(async () => {
  await Promise.all(running.splice(0).map((devnet) => devnet.stop()))
})

afterAll(() => {
  rmSync(tempDir, { recursive: true, force: true })
})

/** Starts a devnet that is stopped after the test, collecting its progress lines. */
async function start(parameters: Parameters<typeof startDevnet>[0] = {}) {
  const lines: string[] = []
  const devnet = await startDevnet({ log: (line) => lines.push(line), ...parameters })
  running.push(devnet)
  const publicClient = createPublicClient({ chain: devnet.chain, transport: http(devnet.rpcUrl) })
  return { devnet, lines, publicClient }
}

function statePathFor(name: string) {
  return join(tempDir, name, 'chain.json')
}

async function hasCode(publicClient: PublicClient, address: Address) {
  return ((await publicClient.getCode({ address })) ?? '0x') !== '0x'
}

function dUSDBalance(publicClient: PublicClient, manifest: DevnetManifest, address: Address) {
  return publicClient.readContract({
    address: manifest.contracts.devUSD,
    abi: devUSDAbi,
    functionName: 'balanceOf',
    args: [address],
  })
}

describe('startDevnet', () => {
  test('default: Safe 1.4.1 at its canonical addresses, Agora deployed and wired, accounts funded', async () => {
    const { devnet, lines, publicClient } = await start()
    const { manifest } = devnet
    expect(devnet.resumed).toBe(false)
    expect(manifest.rpcUrl).toBe(devnet.rpcUrl)
    expect(manifest.chainId).toBe(31337)
    expect(devnet.chain.id).toBe(31337)
    expect(await publicClient.getChainId()).toBe(31337)

    expect(manifest.safe).toEqual(safeCanonicalAddresses)
    for (const address of Object.values(manifest.safe))
      expect(await hasCode(publicClient, address)).toBe(true)
    for (const address of Object.values(manifest.contracts))
      expect(await hasCode(publicClient, address)).toBe(true)
    expect(new Set(Object.values(manifest.contracts)).size).toBe(8)
    // The canonical contracts, with the code they have on public chains, where outside tools look.
    expect(manifest.contracts.erc6551Registry).toBe(erc6551RegistryCanonical.address)
    expect(manifest.contracts.multicall3).toBe(multicall3Canonical.address)
    expect((await checkCanonicalContracts(publicClient)).filter((c) => c.status !== 'ok')).toEqual([])
    // The contracts were deployed after the block the manifest tells indexers to start from.
    // (Read from the logs: the devnet keeps the state of recent blocks only.) The registry's
    // constructor emits its first event, OwnershipTransferred, in the block that gives it its code.
    const [firstEvent] = await publicClient.getLogs({
      address: manifest.contracts.identityRegistry,
      fromBlock: 0n,
      toBlock: 'latest',
    })
    expect(firstEvent!.blockNumber).toBeGreaterThan(BigInt(manifest.deploymentBlock))

    // Wiring: the factory uses the canonical Safe and is the registry's trusted launcher.
    const registry = { address: manifest.contracts.identityRegistry, abi: agentIdentityRegistryAbi } as const
    const factory = { address: manifest.contracts.factory, abi: agentFactoryAbi } as const
    expect(await publicClient.readContract({ ...registry, functionName: 'owner' })).toBe(manifest.deployer)
    expect(
      await publicClient.readContract({
        ...registry,
        functionName: 'isLauncher',
        args: [manifest.contracts.factory],
      }),
    ).toBe(true)
    expect(await publicClient.readContract({ ...factory, functionName: 'identity' })).toBe(
      manifest.contracts.identityRegistry,
    )
    expect(await publicClient.readContract({ ...factory, functionName: 'safeProxyFactory' })).toBe(
      manifest.safe.safeProxyFactory,
    )
    expect(await publicClient.readContract({ ...factory, functionName: 'safeSingleton' })).toBe(
      manifest.safe.safeSingleton,
    )
    expect(await publicClient.readContract({ ...factory, functionName: 'safeFallbackHandler' })).toBe(
      manifest.safe.fallbackHandler,
    )
    expect(await publicClient.readContract({ ...factory, functionName: 'accountRegistry' })).toBe(
      manifest.contracts.erc6551Registry,
    )
    expect(await publicClient.readContract({ ...factory, functionName: 'accountImplementation' })).toBe(
      manifest.contracts.agentAccount,
    )
    const economy = { address: manifest.contracts.economy, abi: agentEconomyAbi } as const
    expect(manifest.economy).toEqual({ feeBps: 100, submissionGraceSeconds: 86_400 })
    expect(await publicClient.readContract({ ...economy, functionName: 'feeBps' })).toBe(100)
    expect(await publicClient.readContract({ ...economy, functionName: 'submissionGrace' })).toBe(86_400n)
    expect(await publicClient.readContract({ ...economy, functionName: 'identity' })).toBe(
      manifest.contracts.identityRegistry,
    )

    // Twenty funded development accounts whose keys match their addresses; the first deployed.
    expect(manifest.accounts).toHaveLength(20)
    expect(manifest.deployer).toBe(manifest.accounts[0]!.address)
    for (const [i, { address, privateKey }] of manifest.accounts.entries()) {
      expect(privateKeyToAccount(privateKey).address).toBe(address)
      const balance = await publicClient.getBalance({ address })
      // The deployer paid for the deployment; the others are untouched.
      if (i === 0) expect(balance).toBeGreaterThan(anvilBalance - parseEther('1'))
      else expect(balance).toBe(anvilBalance)
      expect(await dUSDBalance(publicClient, manifest, address)).toBe(parseUnits('1000000', 6))
    }
    expect(
      await publicClient.readContract({
        address: manifest.contracts.devUSD,
        abi: devUSDAbi,
        functionName: 'decimals',
      }),
    ).toBe(6)

    expect(lines[0]).toBe('devnet: starting anvil...')
    expect(lines).toContain('devnet: deploying Safe 1.4.1 at its canonical addresses...')
    expect(lines).toContain('devnet: deploying Agora contracts...')
    expect(lines).toContain('devnet: minting 1000000 dUSD to 20 development accounts...')
    expect(lines.at(-1)).toMatch(new RegExp(`^devnet: ready on ${devnet.rpcUrl}, chain 31337 \\(\\d+ ms\\)$`))

    // The manifest is plain JSON.
    expect(JSON.parse(JSON.stringify(manifest))).toEqual(manifest)
  })

  test('behavior: parameters choose the accounts, fee, grace period and dUSD per account', async () => {
    const { devnet, publicClient } = await start({
      accounts: 3,
      feeBps: 250,
      submissionGraceSeconds: 600,
      devUSDPerAccount: 5n,
    })
    const { manifest } = devnet
    expect(manifest.accounts).toHaveLength(3)
    expect(manifest.economy).toEqual({ feeBps: 250, submissionGraceSeconds: 600 })
    const economy = { address: manifest.contracts.economy, abi: agentEconomyAbi } as const
    expect(await publicClient.readContract({ ...economy, functionName: 'feeBps' })).toBe(250)
    expect(await publicClient.readContract({ ...economy, functionName: 'submissionGrace' })).toBe(600n)
    for (const { address } of manifest.accounts) {
      expect(await dUSDBalance(publicClient, manifest, address)).toBe(5_000_000n)
    }
  })

  test('behavior: two devnets run side by side on their own ports', async () => {
    // Test files run in parallel workers, each with its own devnet, as this suite does.
    const [a, b] = await Promise.all([start({ accounts: 2 }), start({ accounts: 2 })])
    expect(a.devnet.rpcUrl).not.toBe(b.devnet.rpcUrl)
    // Same deployer, same nonces: the same addresses on both chains, yet independent state.
    expect(a.devnet.manifest.contracts).toEqual(b.devnet.manifest.contracts)
    const [alice] = a.devnet.manifest.accounts.map(({ privateKey }) => privateKeyToAccount(privateKey))
    const wallet = createWalletClient({
      account: alice!,
      chain: a.devnet.chain,
      transport: http(a.devnet.rpcUrl),
    })
    await a.publicClient.waitForTransactionReceipt({
      hash: await wallet.writeContract({
        address: a.devnet.manifest.contracts.identityRegistry,
        abi: agentIdentityRegistryAbi,
        functionName: 'register',
        args: [''],
      }),
    })
    const nextAgentId = (client: PublicClient) =>
      client.readContract({
        address: a.devnet.manifest.contracts.identityRegistry,
        abi: agentIdentityRegistryAbi,
        functionName: 'nextAgentId',
      })
    expect(await nextAgentId(a.publicClient)).toBe(2n)
    expect(await nextAgentId(b.publicClient)).toBe(1n)
  })

  test('behavior: protocol-kit talks to the devnet’s Safe contracts', async () => {
    const { devnet, publicClient } = await start({ accounts: 2 })
    const { manifest } = devnet
    const protocolKit = (await import('@safe-global/protocol-kit')).default
    // Types read the CommonJS layout (class at `default.default`); Node loads the ES build (class at `default`).
    const Safe = ('init' in protocolKit ? protocolKit : protocolKit.default) as typeof protocolKit.default
    const owner = manifest.accounts[1]!
    const kit = await Safe.init({
      provider: devnet.rpcUrl,
      signer: owner.privateKey,
      predictedSafe: { safeAccountConfig: { owners: [owner.address], threshold: 1 } },
      contractNetworks: safeContractNetworks(manifest.chainId, manifest.safe),
    })
    const deployment = await kit.createSafeDeploymentTransaction()
    expect(getAddress(deployment.to)).toBe(manifest.safe.safeProxyFactory)
    const wallet = createWalletClient({
      account: privateKeyToAccount(owner.privateKey),
      chain: devnet.chain,
      transport: http(devnet.rpcUrl),
    })
    const hash = await wallet.sendTransaction({
      to: deployment.to as Address,
      data: deployment.data as Hex,
      value: BigInt(deployment.value),
    })
    expect((await publicClient.waitForTransactionReceipt({ hash })).status).toBe('success')
    expect(await hasCode(publicClient, (await kit.getAddress()) as Address)).toBe(true)
  })

  test('behavior: stop is idempotent and frees the RPC endpoint', async () => {
    const { devnet, publicClient } = await start({ accounts: 1 })
    await devnet.stop()
    await devnet.stop()
    await expect(publicClient.getBlockNumber()).rejects.toThrow()
  })
})

describe('startDevnet with statePath', () => {
  test('default: a restart resumes the chain: same contracts, agents and balances', async () => {
    const statePath = statePathFor('resume')
    const first = await start({ statePath })
    expect(first.devnet.resumed).toBe(false)
    const { manifest } = first.devnet
    expect(existsSync(statePath)).toBe(false)
    expect(JSON.parse(readFileSync(`${statePath}.manifest.json`, 'utf8'))).toEqual(manifest)

    // Some activity to survive the restart: an agent, a dUSD transfer, an ETH transfer.
    const [alice, bob] = manifest.accounts
      .slice(1, 3)
      .map(({ privateKey }) => privateKeyToAccount(privateKey)) as [
      ReturnType<typeof privateKeyToAccount>,
      ReturnType<typeof privateKeyToAccount>,
    ]
    const wallet = createWalletClient({ chain: first.devnet.chain, transport: http(first.devnet.rpcUrl) })
    const registered = await first.publicClient.waitForTransactionReceipt({
      hash: await wallet.writeContract({
        address: manifest.contracts.identityRegistry,
        abi: agentIdentityRegistryAbi,
        functionName: 'register',
        args: ['ipfs://survives-restart'],
        account: alice,
        chain: first.devnet.chain,
      }),
    })
    const [event] = parseEventLogs({
      abi: agentIdentityRegistryAbi,
      logs: registered.logs,
      eventName: 'Registered',
    })
    const agentId = event!.args.agentId
    await first.publicClient.waitForTransactionReceipt({
      hash: await wallet.writeContract({
        address: manifest.contracts.devUSD,
        abi: devUSDAbi,
        functionName: 'transfer',
        args: [bob.address, parseUnits('250', 6)],
        account: alice,
        chain: first.devnet.chain,
      }),
    })
    await first.publicClient.waitForTransactionReceipt({
      hash: await wallet.sendTransaction({
        to: bob.address,
        value: parseEther('3'),
        account: alice,
        chain: first.devnet.chain,
      }),
    })
    const before = {
      block: await first.publicClient.getBlockNumber(),
      aliceETH: await first.publicClient.getBalance({ address: alice.address }),
      bobETH: await first.publicClient.getBalance({ address: bob.address }),
      aliceDUSD: await dUSDBalance(first.publicClient, manifest, alice.address),
      bobDUSD: await dUSDBalance(first.publicClient, manifest, bob.address),
    }
    expect(before.bobDUSD).toBe(parseUnits('1000250', 6))
    await first.devnet.stop()
    expect(existsSync(statePath)).toBe(true)

    const second = await start({ statePath })
    expect(second.devnet.resumed).toBe(true)
    expect(second.devnet.manifest).toEqual({ ...manifest, rpcUrl: second.devnet.rpcUrl })
    expect(second.lines).toEqual([
      `devnet: starting anvil from ${statePath}...`,
      expect.stringMatching(
        new RegExp(`^devnet: resumed chain 31337 at ${second.devnet.rpcUrl} \\(\\d+ ms\\)$`),
      ),
    ])
    const publicClient = second.publicClient
    const registry = { address: manifest.contracts.identityRegistry, abi: agentIdentityRegistryAbi } as const
    expect(await publicClient.readContract({ ...registry, functionName: 'ownerOf', args: [agentId] })).toBe(
      alice.address,
    )
    expect(await publicClient.readContract({ ...registry, functionName: 'tokenURI', args: [agentId] })).toBe(
      'ipfs://survives-restart',
    )
    expect(await publicClient.readContract({ ...registry, functionName: 'nextAgentId' })).toBe(agentId + 1n)
    expect(await publicClient.getBlockNumber()).toBeGreaterThanOrEqual(before.block)
    expect({
      block: before.block,
      aliceETH: await publicClient.getBalance({ address: alice.address }),
      bobETH: await publicClient.getBalance({ address: bob.address }),
      aliceDUSD: await dUSDBalance(publicClient, manifest, alice.address),
      bobDUSD: await dUSDBalance(publicClient, manifest, bob.address),
    }).toEqual(before)
    for (const address of Object.values(manifest.safe))
      expect(await hasCode(publicClient, address)).toBe(true)

    // The resumed chain keeps working.
    const resumedWallet = createWalletClient({
      chain: second.devnet.chain,
      transport: http(second.devnet.rpcUrl),
    })
    await publicClient.waitForTransactionReceipt({
      hash: await resumedWallet.writeContract({
        address: manifest.contracts.identityRegistry,
        abi: agentIdentityRegistryAbi,
        functionName: 'register',
        args: [''],
        account: bob,
        chain: second.devnet.chain,
      }),
    })
    expect(
      await publicClient.readContract({ ...registry, functionName: 'ownerOf', args: [agentId + 1n] }),
    ).toBe(bob.address)
  })

  /** A stopped devnet's state and manifest, for the corruption cases to break. */
  async function savedDevnet(name: string) {
    const statePath = statePathFor(name)
    const { devnet } = await start({ statePath, accounts: 2 })
    await devnet.stop()
    return { statePath, manifestPath: `${statePath}.manifest.json`, manifest: devnet.manifest }
  }

  test('error: a corrupted or empty state file fails with anvil’s parse error naming the file', async () => {
    const { statePath } = await savedDevnet('bad-state')
    for (const content of ['', '{"not": "a state"', '{}']) {
      writeFileSync(statePath, content)
      await expect(start({ statePath, accounts: 2 })).rejects.toThrow(
        new RegExp(
          `anvil exited with code \\d+ before serving:[\\s\\S]*${statePath}[\\s\\S]*failed to parse`,
        ),
      )
    }
  })

  test('error: a corrupted, empty or incomplete manifest fails with a message saying how to recover', async () => {
    const { statePath, manifestPath } = await savedDevnet('bad-manifest')
    for (const content of ['', '{"chainId": 31337', 'null', '{}', '{"contracts": {}}']) {
      writeFileSync(manifestPath, content)
      await expect(start({ statePath, accounts: 2 })).rejects.toThrow(
        `devnet: cannot resume from ${statePath}: its manifest ${manifestPath} is unreadable`,
      )
    }
    writeFileSync(manifestPath, '')
    await expect(start({ statePath, accounts: 2 })).rejects.toThrow(/delete both files to deploy afresh/)
  })

  test('behavior: a manifest whose contracts are not in the state is replaced by a fresh deployment', async () => {
    const { statePath, manifestPath, manifest } = await savedDevnet('stale-manifest')
    const stale = { ...manifest, contracts: { ...manifest.contracts, economy: zeroAddress } }
    writeFileSync(manifestPath, JSON.stringify(stale))
    const { devnet, lines, publicClient } = await start({ statePath, accounts: 2 })
    expect(devnet.resumed).toBe(false)
    expect(lines).toContain('devnet: the saved state has no contracts; deploying afresh')
    expect(await hasCode(publicClient, devnet.manifest.contracts.economy)).toBe(true)
    expect(JSON.parse(readFileSync(manifestPath, 'utf8'))).toEqual(devnet.manifest)
  })

  test('behavior: a chain saved before the canonical registry and Multicall3 gets them; its manifest keeps its registry', async () => {
    // What an older devnet saved: a registry of its own (ours, compiled), nothing at the canonical addresses.
    const statePath = statePathFor('older')
    const { devnet, publicClient } = await start({ statePath, accounts: 2 })
    const wallet = createWalletClient({
      account: privateKeyToAccount(devnet.manifest.accounts[0]!.privateKey),
      chain: devnet.chain,
      transport: http(devnet.rpcUrl),
    })
    const ownRegistry = (
      await publicClient.waitForTransactionReceipt({
        hash: await wallet.deployContract({ abi: erc6551RegistryAbi, bytecode: erc6551RegistryBytecode }),
      })
    ).contractAddress!
    for (const address of [erc6551RegistryCanonical.address, multicall3Canonical.address]) {
      await publicClient.request({ method: 'anvil_setCode' as never, params: [address, '0x'] as never })
      await publicClient.request({ method: 'anvil_setNonce' as never, params: [address, '0x0'] as never })
    }
    const { multicall3: _, ...contracts } = devnet.manifest.contracts
    const older = {
      ...devnet.manifest,
      contracts: { ...contracts, erc6551Registry: getAddress(ownRegistry) },
    }
    writeFileSync(`${statePath}.manifest.json`, JSON.stringify(older))
    await devnet.stop()

    const resumed = await start({ statePath, accounts: 2 })
    expect(resumed.devnet.resumed).toBe(true)
    expect(resumed.lines).toContain(
      'devnet: the saved chain predates the canonical ERC-6551 registry and Multicall3; adding them...',
    )
    const expected = {
      ...older,
      rpcUrl: resumed.devnet.rpcUrl,
      contracts: { ...older.contracts, multicall3: multicall3Canonical.address },
    }
    expect(resumed.devnet.manifest).toEqual(expected)
    expect(JSON.parse(readFileSync(`${statePath}.manifest.json`, 'utf8'))).toEqual(expected)
    expect((await checkCanonicalContracts(resumed.publicClient)).filter((c) => c.status !== 'ok')).toEqual([])
    // Multicall3 answers as outside tools call it.
    const [timestamp, balance] = await resumed.publicClient.multicall({
      multicallAddress: multicall3Canonical.address,
      allowFailure: false,
      contracts: [
        {
          address: multicall3Canonical.address,
          abi: multicall3Abi,
          functionName: 'getCurrentBlockTimestamp',
        },
        {
          address: multicall3Canonical.address,
          abi: multicall3Abi,
          functionName: 'getEthBalance',
          args: [older.accounts[1]!.address],
        },
      ],
    })
    expect(timestamp).toBe((await resumed.publicClient.getBlock()).timestamp)
    expect(balance).toBe(anvilBalance)
  })

  test('behavior: a state without its manifest deploys afresh and writes a new manifest', async () => {
    const { statePath, manifestPath } = await savedDevnet('lost-manifest')
    rmSync(manifestPath)
    const { devnet, publicClient } = await start({ statePath, accounts: 2 })
    expect(devnet.resumed).toBe(false)
    for (const address of Object.values(devnet.manifest.contracts)) {
      expect(await hasCode(publicClient, address)).toBe(true)
    }
    expect(JSON.parse(readFileSync(manifestPath, 'utf8'))).toEqual(devnet.manifest)
  })
})
