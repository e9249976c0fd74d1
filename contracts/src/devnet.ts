import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { getSingletonFactoryInfo } from '@safe-global/safe-singleton-factory'
import {
  type Abi,
  type Address,
  type Chain,
  concat,
  createPublicClient,
  createWalletClient,
  getAddress,
  type Hex,
  http,
  type PublicClient,
  parseTransaction,
  parseUnits,
  zeroAddress,
  zeroHash,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { type Anvil, startAnvil } from './anvil.ts'
import { recoverAnvilState } from './anvil-state.ts'
import {
  create2DeployerAddress,
  erc6551RegistryCanonical,
  multicall3Canonical,
  safeCanonicalAddresses,
} from './canonical.ts'
import { agentAccountAbi, agentAccountBytecode } from './generated/AgentAccount.ts'
import { agentEconomyAbi, agentEconomyBytecode } from './generated/AgentEconomy.ts'
import { agentFactoryAbi, agentFactoryBytecode } from './generated/AgentFactory.ts'
import { agentIdentityRegistryAbi, agentIdentityRegistryBytecode } from './generated/AgentIdentityRegistry.ts'
import { agentModuleAbi, agentModuleBytecode } from './generated/AgentModule.ts'
import { compatibilityFallbackHandlerBytecode } from './generated/CompatibilityFallbackHandler.ts'
import { createCallBytecode } from './generated/CreateCall.ts'
import { devUSDAbi, devUSDBytecode } from './generated/DevUSD.ts'
import { multiSendBytecode } from './generated/MultiSend.ts'
import { multiSendCallOnlyBytecode } from './generated/MultiSendCallOnly.ts'
import { safeBytecode } from './generated/Safe.ts'
import { safeL2Bytecode } from './generated/SafeL2.ts'
import { safeProxyFactoryBytecode } from './generated/SafeProxyFactory.ts'
import { signMessageLibBytecode } from './generated/SignMessageLib.ts'
import { simulateTxAccessorBytecode } from './generated/SimulateTxAccessor.ts'
import type { AgoraContracts, DeploymentManifest, SafeAddresses } from './manifest.ts'

/** The devnet's manifest: a deployment manifest plus the development accounts and their keys. */
export type DevnetManifest = DeploymentManifest & {
  rpcUrl: string
  deployer: Address
  contracts: AgoraContracts & { devUSD: Address; multicall3: Address }
  /** Funded development accounts (anvil's), with their keys. Devnet only. */
  accounts: { address: Address; privateKey: Hex }[]
}

export type StartDevnetParameters = {
  /** RPC port; a free one when omitted. */
  port?: number
  /**
   * Chain state file: a later start with the same path resumes the chain without redeploying. It is
   * saved while the chain runs (see `stateIntervalMs`) and when it stops, and always replaced whole,
   * so a `kill -9` at any moment leaves a state anvil can start from.
   */
  statePath?: string
  /**
   * With `statePath`: how often the state is saved while the chain changes, in milliseconds (default
   * 1000; 0 saves it only on a clean stop). A `kill -9` loses at most this much of the chain.
   */
  stateIntervalMs?: number
  /** Where progress lines go (default: standard error). Pass `() => {}` for silence. */
  log?: (line: string) => void
  /** Funded development accounts (default 20). */
  accounts?: number
  /** Protocol fee in basis points (default 100, i.e. 1%). */
  feeBps?: number
  /** Seconds a submitted job stays open past its deadline (default one day). */
  submissionGraceSeconds?: number
  /**
   * The smallest budgets that count in reputation and client records, in each token's smallest unit
   * (default 0.01 dUSD and 0.00001 ETH; zero for none). The economy's owner can change them later.
   */
  minJobValue?: { devUSD?: bigint; eth?: bigint }
  /** dUSD minted to each development account (default 1,000,000). */
  devUSDPerAccount?: bigint
}

export type Devnet = {
  manifest: DevnetManifest
  chain: Chain
  rpcUrl: string
  /** True when the chain was resumed from `statePath` rather than deployed now. */
  resumed: boolean
  stop(): Promise<void>
}

/**
 * Starts anvil with Safe 1.4.1, the ERC-6551 registry and Multicall3 at their canonical addresses (so
 * the devnet looks like a public chain to outside tools), Agora's identity registry, account, module,
 * factory, economy and dev stablecoin deployed, and returns their manifest.
 *
 * @example
 * const devnet = await startDevnet({ statePath: '.agora/chain.json' })
 * console.log(devnet.manifest.contracts.economy)
 * await devnet.stop()
 */
export async function startDevnet(parameters: StartDevnetParameters = {}): Promise<Devnet> {
  const { statePath, log = (line: string) => process.stderr.write(`${line}\n`) } = parameters
  const manifestPath = statePath ? `${statePath}.manifest.json` : undefined
  if (statePath) mkdirSync(dirname(statePath), { recursive: true, mode: 0o700 })
  // anvil's own save on exit, when it is complete and newer, becomes the state to resume from.
  if (statePath) recoverAnvilState(statePath, log)
  const resumable = statePath !== undefined && existsSync(statePath) && existsSync(manifestPath!)
  if (statePath && !resumable && existsSync(statePath)) {
    // A chain without its manifest cannot be used (nobody knows its addresses): start it afresh.
    log(`devnet: ${statePath} has no manifest beside it; starting a new chain in its place`)
    rmSync(statePath)
  }

  const started = performance.now()
  log(`devnet: starting anvil${resumable ? ` from ${statePath}` : ''}...`)
  const anvil = await startAnvil({
    port: parameters.port,
    statePath,
    accounts: parameters.accounts,
    log,
  })
  const saveEvery = parameters.stateIntervalMs ?? 1_000
  try {
    const publicClient = createPublicClient({ chain: anvil.chain, transport: http(anvil.rpcUrl) })
    if (resumable) {
      const saved = readManifest(manifestPath!, statePath!)
      const code = await publicClient.getCode({ address: saved.contracts.economy })
      if (code && code !== '0x') {
        const manifest = { ...(await upgradeDevnet(anvil, publicClient, saved, log)), rpcUrl: anvil.rpcUrl }
        if (JSON.stringify(manifest.contracts) !== JSON.stringify(saved.contracts))
          writeFileSync(manifestPath!, `${JSON.stringify(manifest, null, 2)}\n`)
        log(`devnet: resumed chain ${manifest.chainId} at ${anvil.rpcUrl} (${ms(started)})`)
        if (saveEvery > 0) anvil.saveState(saveEvery)
        return devnet(anvil, manifest, true)
      }
      log('devnet: the saved state has no contracts; deploying afresh')
    }
    const manifest = await deployAll(anvil, publicClient, parameters, log)
    if (manifestPath) writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`)
    log(`devnet: ready on ${anvil.rpcUrl}, chain ${manifest.chainId} (${ms(started)})`)
    if (saveEvery > 0) anvil.saveState(saveEvery)
    return devnet(anvil, manifest, false)
  } catch (error) {
    await anvil.stop()
    throw error
  }
}

function devnet(anvil: Anvil, manifest: DevnetManifest, resumed: boolean): Devnet {
  return { manifest, chain: anvil.chain, rpcUrl: anvil.rpcUrl, resumed, stop: anvil.stop }
}

/** Reads the manifest saved beside the state file; a broken one fails saying how to recover. */
function readManifest(manifestPath: string, statePath: string): DevnetManifest {
  let saved: DevnetManifest | null = null
  let problem = 'it names no economy contract'
  try {
    saved = JSON.parse(readFileSync(manifestPath, 'utf8')) as DevnetManifest | null
  } catch (error) {
    problem = error instanceof Error ? error.message : String(error)
  }
  if (typeof saved?.contracts?.economy === 'string') return saved
  throw new Error(
    `devnet: cannot resume from ${statePath}: its manifest ${manifestPath} is unreadable (${problem}); ` +
      'delete both files to deploy afresh',
  )
}

function ms(since: number): string {
  return `${Math.round(performance.now() - since)} ms`
}

async function deployAll(
  anvil: Anvil,
  publicClient: PublicClient,
  parameters: StartDevnetParameters,
  log: (line: string) => void,
): Promise<DevnetManifest> {
  const { feeBps = 100, submissionGraceSeconds = 86_400, devUSDPerAccount = 1_000_000n } = parameters
  const tx = deployerOf(anvil, publicClient)
  log('devnet: deploying Safe 1.4.1 at its canonical addresses...')
  await deploySafe(anvil, publicClient, tx)
  log('devnet: deploying Agora contracts...')
  const deploymentBlock = Number(await publicClient.getBlockNumber())
  const contracts = await deployDevnetContracts(publicClient, tx, parameters)
  const accounts = anvil.privateKeys.map((privateKey) => ({
    address: privateKeyToAccount(privateKey).address,
    privateKey,
  }))
  log(`devnet: minting ${devUSDPerAccount} dUSD to ${accounts.length} development accounts...`)
  await tx.step('minting dUSD', async () => {
    const amount = parseUnits(String(devUSDPerAccount), 6)
    // Sent one after another (each send awaited, receipts after): anvil gets the nonces in order.
    const hashes: Hex[] = []
    for (const account of accounts) {
      hashes.push(
        await tx.wallet.writeContract({
          address: contracts.devUSD,
          abi: devUSDAbi,
          functionName: 'mint',
          args: [account.address, amount],
        }),
      )
    }
    for (const hash of hashes) await tx.confirm(hash, 'minting dUSD')
  })

  return {
    chainId: anvil.chain.id,
    rpcUrl: anvil.rpcUrl,
    deploymentBlock,
    deployer: tx.wallet.account.address,
    contracts,
    safe: { ...safeCanonicalAddresses },
    accounts,
    economy: { feeBps, submissionGraceSeconds },
  }
}

type Deployer = ReturnType<typeof deployerOf>

/** Transactions from the devnet's deployer (development account #0), each failure named by its step. */
function deployerOf(anvil: Anvil, publicClient: PublicClient) {
  const account = privateKeyToAccount(anvil.privateKeys[0]!)
  const wallet = createWalletClient({ account, chain: anvil.chain, transport: http(anvil.rpcUrl) })
  const step = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run()
    } catch (error) {
      throw new Error(`devnet: ${what} failed: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      })
    }
  }
  const confirm = async (hash: Hex, what: string) => {
    const receipt = await publicClient.waitForTransactionReceipt({
      hash,
      timeout: 30_000,
      pollingInterval: 20,
    })
    if (receipt.status !== 'success') throw new Error(`devnet: ${what} reverted (tx ${hash})`)
    return receipt
  }
  return {
    wallet,
    step,
    confirm,
    deploy: (what: string, abi: Abi, bytecode: Hex, args: readonly unknown[] = []) =>
      step(`deploying ${what}`, async () => {
        const hash = await wallet.deployContract({ abi, bytecode, args })
        const receipt = await confirm(hash, `deploying ${what}`)
        return getAddress(receipt.contractAddress!)
      }),
    /** One call of an owner-only setting, confirmed. */
    call: (
      what: string,
      call: { address: Address; abi: Abi; functionName: string; args: readonly unknown[] },
    ) => step(what, async () => confirm(await wallet.writeContract(call), what)),
  }
}

/** The Safe singleton factory, from its presigned transaction, then Safe 1.4.1 through it. */
async function deploySafe(anvil: Anvil, publicClient: PublicClient, tx: Deployer) {
  const { wallet, step, confirm } = tx
  const factoryInfo = getSingletonFactoryInfo(anvil.chain.id)
  if (!factoryInfo)
    throw new Error(`devnet: no Safe singleton factory transaction for chain ${anvil.chain.id}`)
  const singletonFactory = getAddress(factoryInfo.address)
  await step('deploying the Safe singleton factory', async () => {
    if (((await publicClient.getCode({ address: singletonFactory })) ?? '0x') !== '0x') return
    const fund = await wallet.sendTransaction({
      to: getAddress(factoryInfo.signerAddress),
      value: BigInt(factoryInfo.gasLimit) * BigInt(factoryInfo.gasPrice),
    })
    await confirm(fund, 'funding the singleton factory signer')
    const hash = await publicClient.sendRawTransaction({
      serializedTransaction: factoryInfo.transaction as Hex,
    })
    await confirm(hash, 'the singleton factory transaction')
  })
  const safeBytecodes: Record<keyof SafeAddresses, Hex> = {
    safeSingleton: safeBytecode,
    safeL2Singleton: safeL2Bytecode,
    safeProxyFactory: safeProxyFactoryBytecode,
    fallbackHandler: compatibilityFallbackHandlerBytecode,
    multiSend: multiSendBytecode,
    multiSendCallOnly: multiSendCallOnlyBytecode,
    signMessageLib: signMessageLibBytecode,
    createCall: createCallBytecode,
    simulateTxAccessor: simulateTxAccessorBytecode,
  }
  for (const [name, bytecode] of Object.entries(safeBytecodes) as [keyof SafeAddresses, Hex][]) {
    const address = safeCanonicalAddresses[name]
    await step(`deploying Safe ${name}`, async () => {
      if (((await publicClient.getCode({ address })) ?? '0x') !== '0x') return
      const hash = await wallet.sendTransaction({ to: singletonFactory, data: concat([zeroHash, bytecode]) })
      await confirm(hash, `deploying Safe ${name}`)
      if (((await publicClient.getCode({ address })) ?? '0x') === '0x') {
        throw new Error(`it did not land at the canonical address ${address}`)
      }
    })
  }
}

/**
 * The ERC-6551 registry and Multicall3 at their canonical addresses, where missing: the registry from
 * its canonical init code through the CREATE2 deployer (as on a public chain), Multicall3's runtime
 * code (what its pre-signed deployment leaves there) placed with `anvil_setCode`, since its keyless
 * deployer would first need funds and its nonce 0.
 */
async function placeCanonicalExtras(publicClient: PublicClient, tx: Deployer) {
  const hasCode = async (address: Address) => ((await publicClient.getCode({ address })) ?? '0x') !== '0x'
  await tx.step('deploying the canonical ERC-6551 registry', async () => {
    if (await hasCode(erc6551RegistryCanonical.address)) return
    const hash = await tx.wallet.sendTransaction({
      to: create2DeployerAddress,
      data: concat([erc6551RegistryCanonical.salt, erc6551RegistryCanonical.initCode]),
    })
    await tx.confirm(hash, 'deploying the canonical ERC-6551 registry')
    if (!(await hasCode(erc6551RegistryCanonical.address)))
      throw new Error(`it did not land at ${erc6551RegistryCanonical.address}`)
  })
  await tx.step('placing Multicall3', async () => {
    if (await hasCode(multicall3Canonical.address)) return
    const initCode = parseTransaction(multicall3Canonical.signedDeployment).data!
    const { data: runtimeCode } = await publicClient.call({ data: initCode })
    await publicClient.request({
      method: 'anvil_setCode' as never,
      params: [multicall3Canonical.address, runtimeCode] as never,
    })
  })
}

/** Agora's contracts and dUSD, the minimum job values set and the factory trusted as launcher. */
async function deployDevnetContracts(
  publicClient: PublicClient,
  tx: Deployer,
  parameters: StartDevnetParameters,
) {
  const { feeBps = 100, submissionGraceSeconds = 86_400 } = parameters
  const { devUSD: minJobValueDevUSD = 10_000n, eth: minJobValueEth = 10n ** 13n } =
    parameters.minJobValue ?? {}
  const owner = tx.wallet.account.address
  // The canonical registry goes out where the devnet used to deploy a registry of its own: one
  // transaction either way, so the contracts after it keep the addresses they always had.
  await placeCanonicalExtras(publicClient, tx)
  const erc6551Registry = erc6551RegistryCanonical.address
  const agentAccount = await tx.deploy('AgentAccount', agentAccountAbi, agentAccountBytecode)
  const identityRegistry = await tx.deploy(
    'AgentIdentityRegistry',
    agentIdentityRegistryAbi,
    agentIdentityRegistryBytecode,
    [owner],
  )
  const economy = await tx.deploy('AgentEconomy', agentEconomyAbi, agentEconomyBytecode, [
    identityRegistry,
    BigInt(submissionGraceSeconds),
    feeBps,
    owner,
  ])
  const { module, factory } = await deployLauncher(tx, {
    identityRegistry,
    economy,
    erc6551Registry,
    agentAccount,
  })
  const devUSD = await tx.deploy('DevUSD', devUSDAbi, devUSDBytecode)
  for (const [token, minJobValue] of [
    [devUSD, minJobValueDevUSD],
    [zeroAddress, minJobValueEth],
  ] as const) {
    if (minJobValue === 0n) continue
    await tx.call('setting the minimum job values', {
      address: economy,
      abi: agentEconomyAbi,
      functionName: 'setMinJobValue',
      args: [token, minJobValue],
    })
  }
  return {
    identityRegistry,
    economy,
    factory,
    module,
    erc6551Registry,
    agentAccount,
    multicall3: multicall3Canonical.address,
    devUSD,
  }
}

/** The agent module and the factory that launches Safes with it, trusted by the registry as launcher. */
async function deployLauncher(
  tx: Deployer,
  contracts: Pick<AgoraContracts, 'identityRegistry' | 'economy' | 'erc6551Registry' | 'agentAccount'>,
) {
  const module = await tx.deploy('AgentModule', agentModuleAbi, agentModuleBytecode, [contracts.economy])
  const factory = await tx.deploy('AgentFactory', agentFactoryAbi, agentFactoryBytecode, [
    contracts.identityRegistry,
    safeCanonicalAddresses.safeProxyFactory,
    safeCanonicalAddresses.safeSingleton,
    safeCanonicalAddresses.fallbackHandler,
    contracts.erc6551Registry,
    contracts.agentAccount,
    module,
  ])
  await tx.call('trusting the factory as launcher', {
    address: contracts.identityRegistry,
    abi: agentIdentityRegistryAbi,
    functionName: 'setLauncher',
    args: [factory, true],
  })
  return { module, factory }
}

/**
 * A chain saved by an older devnet is brought up to date; its registry, economy and agents stay as
 * they are. One saved before the canonical ERC-6551 registry and Multicall3 gets them (its manifest
 * keeps naming the registry its accounts were made with); one saved before agents spent through the
 * module gets the module and a factory that launches with it (older agents keep their owner key until
 * their owners move them onto the module).
 */
async function upgradeDevnet(
  anvil: Anvil,
  publicClient: PublicClient,
  manifest: DevnetManifest,
  log: (line: string) => void,
): Promise<DevnetManifest> {
  const tx = deployerOf(anvil, publicClient)
  let upgraded = manifest
  if (!manifest.contracts.multicall3) {
    // Its own ERC-6551 registry stays in the manifest: its agents' accounts were created through it.
    log('devnet: the saved chain predates the canonical ERC-6551 registry and Multicall3; adding them...')
    await placeCanonicalExtras(publicClient, tx)
    upgraded = { ...upgraded, contracts: { ...upgraded.contracts, multicall3: multicall3Canonical.address } }
  }
  if (manifest.contracts.module) return upgraded
  log('devnet: the saved chain predates the agent module; deploying it and a factory that uses it...')
  const launcher = await deployLauncher(tx, upgraded.contracts)
  return { ...upgraded, contracts: { ...upgraded.contracts, ...launcher } }
}

/** The `contractNetworks` entry `@safe-global/protocol-kit` needs for a chain with these Safe addresses. */
export function safeContractNetworks(chainId: number, safe: SafeAddresses) {
  return {
    [String(chainId)]: {
      safeSingletonAddress: safe.safeSingleton,
      safeProxyFactoryAddress: safe.safeProxyFactory,
      multiSendAddress: safe.multiSend,
      multiSendCallOnlyAddress: safe.multiSendCallOnly,
      fallbackHandlerAddress: safe.fallbackHandler,
      signMessageLibAddress: safe.signMessageLib,
      createCallAddress: safe.createCall,
      simulateTxAccessorAddress: safe.simulateTxAccessor,
    },
  }
}
