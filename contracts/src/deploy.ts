import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import {
  type Abi,
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  erc20Abi,
  formatEther,
  formatGwei,
  getAddress,
  getCreateAddress,
  type Hex,
  http,
  keccak256,
  type PublicClient,
  type Transport,
  type WalletClient,
  zeroAddress,
} from 'viem'
import { type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'
import { canonicalAddresses, checkCanonicalContracts, safeCanonicalAddresses } from './canonical.ts'
import { agentAccountAbi, agentAccountBytecode } from './generated/AgentAccount.ts'
import { agentEconomyAbi, agentEconomyBytecode } from './generated/AgentEconomy.ts'
import { agentFactoryAbi, agentFactoryBytecode } from './generated/AgentFactory.ts'
import { agentIdentityRegistryAbi, agentIdentityRegistryBytecode } from './generated/AgentIdentityRegistry.ts'
import { agentModuleAbi, agentModuleBytecode } from './generated/AgentModule.ts'
import type { AgoraContracts, DeploymentManifest, ManifestToken } from './manifest.ts'

export type DeployAgoraParameters = {
  /** JSON-RPC endpoint (http or https) of the chain to deploy to. */
  rpcUrl: string
  /** The deployer's key: it pays for the deployment and owns the identity registry and the economy. */
  privateKey: Hex
  /**
   * The deployment in progress, rewritten whole (atomically) after every step: a rerun with the same
   * file skips what it records and the chain still holds, and finishes the rest.
   */
  progressPath: string
  /** The chain the RPC must serve; refused when it serves another. */
  chainId?: number
  /** ERC-20 tokens the deployment knows by symbol (USDC, say); the first is the default token. */
  tokens?: { symbol: string; address: Address }[]
  /** Protocol fee in basis points (default 100, i.e. 1%). */
  feeBps?: number
  /** Seconds a submitted job stays open past its deadline (default one day). */
  submissionGraceSeconds?: number
  /** Where progress lines go (default: standard error). */
  log?: (line: string) => void
  /** How long to wait for each transaction's receipt, in milliseconds (default 5 minutes). */
  receiptTimeoutMs?: number
}

export type DeployAgoraReturnType = {
  manifest: DeploymentManifest & { deployer: Address }
  /** Steps sent now, and steps found done on the chain (by a previous run) and skipped. */
  sent: string[]
  skipped: string[]
}

type DeployErrorCode =
  | 'INVALID_INPUT'
  | 'RPC_UNREACHABLE'
  | 'WRONG_CHAIN'
  | 'CANONICAL_CONTRACTS_MISSING'
  | 'BAD_TOKEN'
  | 'INSUFFICIENT_FUNDS'
  | 'PROGRESS_MISMATCH'
  | 'TRANSACTION_FAILED'

/** A deployment that cannot go on, with what to do about it in the message. */
export class DeployError extends Error {
  override readonly name = 'DeployError'
  readonly code: DeployErrorCode
  readonly shortMessage: string
  readonly details: string | undefined
  constructor(
    code: DeployErrorCode,
    shortMessage: string,
    options: { details?: string; cause?: unknown } = {},
  ) {
    super(options.details ? `${shortMessage}\n${options.details}` : shortMessage, { cause: options.cause })
    this.code = code
    this.shortMessage = shortMessage
    this.details = options.details
  }
}

/** The protocol settings the economy is deployed with. */
type Economy = { feeBps: number; submissionGraceSeconds: number }

/** One recorded contract deployment. */
type DeployedStep = { address: Address; txHash: Hex; codeHash: Hex; gasUsed: string; block: number }

/** What the progress file holds: the manifest so far and how each contract got there. */
type Progress = {
  chainId: number
  /** Hash of block 0: tells a restarted local chain with the same id from the one deployed to. */
  genesisHash: Hex
  deployer: Address
  economy: Economy
  deploymentBlock?: number
  deployed: Partial<Record<ContractStep, DeployedStep>>
  /** A deployment sent but not yet seen mined: its nonce fixes its address. */
  pending?: { step: ContractStep; nonce: number; address: Address; txHash?: Hex }
}

type ContractStep = 'identityRegistry' | 'agentAccount' | 'economy' | 'module' | 'factory'

/** How to deploy one of Agora's contracts. */
type ContractStepSpec = {
  step: ContractStep
  contract: string
  abi: Abi
  bytecode: Hex
  args(context: {
    deployer: Address
    progress: Progress
    deployed: Partial<AgoraContracts>
  }): readonly unknown[]
  /** Gas it took on anvil, rounded up: the funds check estimates with these. */
  gas: bigint
}

/** Agora's own contracts, in deployment order, each with the constructor arguments it needs. */
const contractSteps: ContractStepSpec[] = [
  {
    step: 'identityRegistry',
    contract: 'AgentIdentityRegistry',
    abi: agentIdentityRegistryAbi,
    bytecode: agentIdentityRegistryBytecode,
    args: ({ deployer }) => [deployer],
    gas: 3_000_000n,
  },
  {
    step: 'agentAccount',
    contract: 'AgentAccount',
    abi: agentAccountAbi,
    bytecode: agentAccountBytecode,
    args: () => [],
    gas: 1_000_000n,
  },
  {
    step: 'economy',
    contract: 'AgentEconomy',
    abi: agentEconomyAbi,
    bytecode: agentEconomyBytecode,
    args: ({ deployer, progress, deployed }) => [
      deployed.identityRegistry,
      BigInt(progress.economy.submissionGraceSeconds),
      progress.economy.feeBps,
      deployer,
    ],
    gas: 2_800_000n,
  },
  {
    step: 'module',
    contract: 'AgentModule',
    abi: agentModuleAbi,
    bytecode: agentModuleBytecode,
    args: ({ deployed }) => [deployed.economy],
    gas: 2_500_000n,
  },
  {
    step: 'factory',
    contract: 'AgentFactory',
    abi: agentFactoryAbi,
    bytecode: agentFactoryBytecode,
    args: ({ deployed }) => [
      deployed.identityRegistry,
      safeCanonicalAddresses.safeProxyFactory,
      safeCanonicalAddresses.safeSingleton,
      safeCanonicalAddresses.fallbackHandler,
      canonicalAddresses.erc6551Registry,
      deployed.agentAccount,
      deployed.module,
    ],
    gas: 1_300_000n,
  },
]

/** Gas of one owner-only setting (trusting the factory, one minimum job value). */
const settingGas = 60_000n
/** The smallest budget that counts in reputation: 0.00001 ETH, and 0.01 of each configured token. */
const minJobValueOf = (token: ManifestToken | 'ETH') =>
  token === 'ETH' ? 10n ** 13n : token.decimals >= 2 ? 10n ** BigInt(token.decimals - 2) : 1n

/** A wallet client that signs as the deployer. */
type DeployerWallet = WalletClient<Transport, Chain, PrivateKeyAccount>

/** What the steps of one run share: the chain, the deployer, the progress so far and what was done. */
type Deployment = {
  publicClient: PublicClient
  wallet: DeployerWallet
  deployer: Address
  chainId: number
  progress: Progress
  /** Rewrites the progress file with the progress as it stands. */
  save(): void
  /** How long to wait for each receipt, in milliseconds. */
  timeout: number
  log: (line: string) => void
  sent: string[]
  skipped: string[]
}

/** An owner-only call that configures a deployed contract. */
type SettingCall = { address: Address; abi: Abi; functionName: string; args: readonly unknown[] }

/**
 * Deploys Agora's identity registry, account implementation, economy, agent module and factory to any
 * EVM chain, reusing the canonical Safe 1.4.1, ERC-6551 registry and Multicall3 there (refused where
 * they are missing or hold other code), trusts the factory as launcher, sets minimum job values for
 * ETH and each token, and returns the manifest the runtime and the API read. Each step is recorded in
 * `progressPath` as it completes, so a deployment interrupted at any point finishes on a rerun.
 *
 * @example
 * const { manifest } = await deployAgora({
 *   rpcUrl: 'https://sepolia.base.org',
 *   privateKey: process.env.AGORA_DEPLOYER_KEY as Hex,
 *   progressPath: 'base-sepolia.json.progress',
 *   tokens: [{ symbol: 'USDC', address: '0x036CbD53842c5426634e7929541eC2318f3dCF7e' }],
 * })
 */
export async function deployAgora(parameters: DeployAgoraParameters): Promise<DeployAgoraReturnType> {
  const log = parameters.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  const economy: Economy = {
    feeBps: parameters.feeBps ?? 100,
    submissionGraceSeconds: parameters.submissionGraceSeconds ?? 86_400,
  }
  validateParameters(parameters, economy)
  const account = privateKeyToAccount(parameters.privateKey)
  const deployer = account.address
  const { chainId, publicClient, wallet } = await connect(parameters, account, log)
  await requireCanonicalContracts(publicClient, chainId, log)
  const tokens = await readTokens(publicClient, parameters.tokens ?? [], chainId, log)
  const genesisHash = (await publicClient.getBlock({ blockNumber: 0n })).hash
  const progress = openProgress(parameters.progressPath, { chainId, genesisHash, deployer, economy })
  const deployment: Deployment = {
    publicClient,
    wallet,
    deployer,
    chainId,
    progress,
    save: () => writeJsonAtomic(parameters.progressPath, progress),
    timeout: parameters.receiptTimeoutMs ?? 300_000,
    log,
    sent: [],
    skipped: [],
  }

  await settlePending(publicClient, progress, deployment.timeout, log)
  await dropWhatTheChainLacks(publicClient, progress, log)
  // What is left, priced before anything is sent: a deployer without the funds fails here, not halfway.
  await checkFunds(publicClient, deployer, chainId, gasLeft(progress))
  deployment.save()

  await deployContracts(deployment)
  const deployed = contractsOf(progress) as AgoraContracts
  await configureContracts(deployment, deployed, tokens)
  const manifest = buildManifest(deployment, deployed, economy, tokens)
  logOutcome(deployment)
  return { manifest, sent: deployment.sent, skipped: deployment.skipped }
}

/** Asks the RPC which chain it serves; refuses an unreachable RPC, or one serving another chain than asked. */
async function readChainId(rpcUrl: string, expected: number | undefined): Promise<number> {
  const where = rpcOrigin(rpcUrl)
  const probe = createPublicClient({ transport: http(rpcUrl, { retryCount: 1, timeout: 20_000 }) })
  const chainId = await probe.getChainId().catch((cause: unknown) => {
    throw new DeployError('RPC_UNREACHABLE', `Cannot reach the RPC at ${where}: ${firstLine(cause)}`, {
      details: 'Check --rpc-url (an http or https JSON-RPC endpoint) and that the node is up.',
      cause,
    })
  })
  if (expected !== undefined && chainId !== expected) {
    throw new DeployError(
      'WRONG_CHAIN',
      `The RPC at ${where} serves chain ${chainId}, not chain ${expected} (--chain-id).`,
    )
  }
  return chainId
}

/** Clients for the chain the RPC serves (once checked), the wallet signing as the deployer; logs the target. */
async function connect(
  parameters: DeployAgoraParameters,
  account: PrivateKeyAccount,
  log: (line: string) => void,
): Promise<{ chainId: number; publicClient: PublicClient; wallet: DeployerWallet }> {
  const chainId = await readChainId(parameters.rpcUrl, parameters.chainId)
  const chain = defineChain({
    id: chainId,
    name: `chain ${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [parameters.rpcUrl] } },
  })
  const publicClient = createPublicClient({ chain, transport: http(parameters.rpcUrl) }) as PublicClient
  const wallet = createWalletClient({ account, chain, transport: http(parameters.rpcUrl) })
  log(`deploy: chain ${chainId} at ${rpcOrigin(parameters.rpcUrl)}, deployer ${account.address}`)
  return { chainId, publicClient, wallet }
}

/** Refuses a chain lacking the Safe, ERC-6551 registry or Multicall3 code Agora reuses, naming each. */
async function requireCanonicalContracts(
  publicClient: PublicClient,
  chainId: number,
  log: (line: string) => void,
) {
  const canonical = await checkCanonicalContracts(publicClient)
  const wrong = canonical.filter((c) => c.status !== 'ok')
  if (wrong.length > 0) {
    throw new DeployError(
      'CANONICAL_CONTRACTS_MISSING',
      `Chain ${chainId} lacks contracts Agora reuses at their canonical addresses:`,
      {
        details: [
          ...wrong.map((c) =>
            c.status === 'missing'
              ? `  - ${c.name} at ${c.address}: no code`
              : `  - ${c.name} at ${c.address}: other code (hash ${c.codeHash})`,
          ),
          'Safe 1.4.1 (through the Safe singleton factory), the ERC-6551 registry (through the CREATE2',
          'deployer) and Multicall3 (its pre-signed transaction) can be deployed by anyone at these',
          'addresses: see docs/operations.md.',
        ].join('\n'),
      },
    )
  }
  log('deploy: Safe 1.4.1, the ERC-6551 registry and Multicall3 found at their canonical addresses')
}

/** Gas of the contracts not yet deployed, plus the settings (counted whether or not already done). */
function gasLeft(progress: Progress): bigint {
  const remaining = contractSteps.filter((s) => !progress.deployed[s.step])
  return remaining.reduce((sum, s) => sum + s.gas, 0n) + 4n * settingGas
}

/** The addresses of the contracts deployed so far, by step. */
function contractsOf(progress: Progress): Partial<AgoraContracts> {
  return Object.fromEntries(Object.entries(progress.deployed).map(([step, d]) => [step, d.address]))
}

/** Deploys each of Agora's contracts in order, keeping those a previous run deployed. */
async function deployContracts(deployment: Deployment) {
  for (const step of contractSteps) {
    const recorded = deployment.progress.deployed[step.step]
    if (recorded) {
      deployment.log(`deploy: ${step.contract} already at ${recorded.address} (tx ${recorded.txHash}); kept`)
      deployment.skipped.push(step.step)
      continue
    }
    await deployContract(deployment, step)
    deployment.sent.push(step.step)
  }
}

/**
 * Deploys one contract, saving its nonce (which fixes its address) before sending and its hash once
 * sent, so a run killed at any point lets the next adopt it rather than send it twice.
 */
async function deployContract(deployment: Deployment, step: ContractStepSpec) {
  const { publicClient, wallet, deployer, progress, save } = deployment
  const args = step.args({ deployer, progress, deployed: contractsOf(progress) })
  const nonce = await publicClient.getTransactionCount({ address: deployer, blockTag: 'pending' })
  progress.pending = {
    step: step.step,
    nonce,
    address: getCreateAddress({ from: deployer, nonce: BigInt(nonce) }),
  }
  save()
  const txHash = await send(`deploying ${step.contract}`, () =>
    wallet.deployContract({ abi: step.abi, bytecode: step.bytecode, args, nonce }),
  )
  progress.pending.txHash = txHash
  save()
  const receipt = await confirm(publicClient, txHash, `deploying ${step.contract}`, deployment.timeout)
  const address = getAddress(receipt.contractAddress!)
  record(progress, step.step, address, txHash, receipt, await codeHashAt(publicClient, address))
  save()
  deployment.log(
    `deploy: ${step.contract} at ${address} (tx ${txHash}, gas ${receipt.gasUsed.toLocaleString('en-US')})`,
  )
}

/** Trusts the factory as launcher and sets the minimum job value of ETH and of each token. */
async function configureContracts(deployment: Deployment, deployed: AgoraContracts, tokens: ManifestToken[]) {
  await trustFactory(deployment, deployed)
  for (const token of ['ETH', ...tokens] as const) await setMinJobValue(deployment, deployed, token)
}

/** Lets the factory register agents in the identity registry. */
async function trustFactory(deployment: Deployment, deployed: AgoraContracts) {
  await applySetting(
    deployment,
    'trusting the factory as launcher',
    () =>
      deployment.publicClient.readContract({
        address: deployed.identityRegistry,
        abi: agentIdentityRegistryAbi,
        functionName: 'isLauncher',
        args: [deployed.factory],
      }),
    {
      address: deployed.identityRegistry,
      abi: agentIdentityRegistryAbi,
      functionName: 'setLauncher',
      args: [deployed.factory, true],
    },
  )
}

/** Sets the smallest job budget in a token that counts in reputation, unless one is already set. */
async function setMinJobValue(
  deployment: Deployment,
  deployed: AgoraContracts,
  token: ManifestToken | 'ETH',
) {
  const address = token === 'ETH' ? zeroAddress : token.address
  const value = minJobValueOf(token)
  const symbol = token === 'ETH' ? 'ETH' : token.symbol
  await applySetting(
    deployment,
    `minimum job value of ${symbol}`,
    async () =>
      (await deployment.publicClient.readContract({
        address: deployed.economy,
        abi: agentEconomyAbi,
        functionName: 'minJobValue',
        args: [address],
      })) !== 0n,
    {
      address: deployed.economy,
      abi: agentEconomyAbi,
      functionName: 'setMinJobValue',
      args: [address, value],
    },
  )
}

/** Sends one setting and waits for it, unless the chain shows it already done (by a previous run). */
async function applySetting(
  deployment: Deployment,
  name: string,
  isDone: () => Promise<boolean>,
  call: SettingCall,
) {
  const { publicClient, wallet, log } = deployment
  if (await isDone()) {
    log(`deploy: ${name}: already done`)
    deployment.skipped.push(name)
    return
  }
  const txHash = await send(name, () => wallet.writeContract(call))
  const receipt = await confirm(publicClient, txHash, name, deployment.timeout)
  log(`deploy: ${name} (tx ${txHash}, gas ${receipt.gasUsed.toLocaleString('en-US')})`)
  deployment.sent.push(name)
}

/** The manifest the runtime and the API read: Agora's contracts beside the canonical ones they use. */
function buildManifest(
  deployment: Deployment,
  deployed: AgoraContracts,
  economy: Economy,
  tokens: ManifestToken[],
): DeployAgoraReturnType['manifest'] {
  return {
    chainId: deployment.chainId,
    deploymentBlock: deployment.progress.deploymentBlock!,
    deployer: deployment.deployer,
    contracts: {
      identityRegistry: deployed.identityRegistry,
      economy: deployed.economy,
      factory: deployed.factory,
      module: deployed.module,
      erc6551Registry: canonicalAddresses.erc6551Registry,
      agentAccount: deployed.agentAccount,
      multicall3: canonicalAddresses.multicall3,
    },
    safe: { ...safeCanonicalAddresses },
    economy,
    ...(tokens.length > 0 && { tokens }),
  }
}

/** Logs how the run ended: everything already done, or how many steps it sent. */
function logOutcome({ chainId, sent, skipped, log }: Deployment) {
  log(
    sent.length === 0
      ? `deploy: nothing to do: every step was already done on chain ${chainId}`
      : `deploy: done on chain ${chainId} (${sent.length} sent, ${skipped.length} already done)`,
  )
}

/** Refuses bad inputs before anything touches the network, listing every problem at once. */
function validateParameters(parameters: DeployAgoraParameters, economy: Economy) {
  const problems: string[] = []
  let url: URL | undefined
  try {
    url = new URL(parameters.rpcUrl)
  } catch {}
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    problems.push(`the RPC URL must be an http or https URL, e.g. "https://sepolia.base.org"`)
  if (!/^0x[0-9a-fA-F]{64}$/.test(parameters.privateKey))
    problems.push('the deployer key must be a 0x-prefixed 32-byte hex private key')
  if (!Number.isInteger(economy.feeBps) || economy.feeBps < 0 || economy.feeBps > 1_000)
    problems.push('the fee must be a whole number of basis points from 0 to 1000 (10%)')
  if (!Number.isInteger(economy.submissionGraceSeconds) || economy.submissionGraceSeconds < 0)
    problems.push('the submission grace must be a whole number of seconds')
  const symbols = new Set<string>()
  for (const { symbol, address } of parameters.tokens ?? []) {
    if (!/^[A-Za-z][A-Za-z0-9.]{0,15}$/.test(symbol))
      problems.push(`token symbol "${symbol}" must be letters and digits (up to 16), e.g. USDC`)
    else if (['eth', 'dusd'].includes(symbol.toLowerCase()))
      problems.push(`token symbol "${symbol}" is reserved (ETH is the native token, dUSD the devnet's)`)
    else if (symbols.has(symbol.toLowerCase())) problems.push(`token symbol "${symbol}" is given twice`)
    symbols.add(symbol.toLowerCase())
    if (!/^0x[0-9a-fA-F]{40}$/.test(address)) problems.push(`token ${symbol}: "${address}" is not an address`)
  }
  if (problems.length > 0)
    throw new DeployError('INVALID_INPUT', 'The deployment parameters are invalid:', {
      details: problems.map((p) => `  - ${p}`).join('\n'),
    })
}

/** Each token must be a contract answering `decimals()` and `symbol()` on this chain. */
async function readTokens(
  publicClient: PublicClient,
  tokens: { symbol: string; address: Address }[],
  chainId: number,
  log: (line: string) => void,
): Promise<ManifestToken[]> {
  return Promise.all(
    tokens.map(async ({ symbol, address: given }) => {
      const address = getAddress(given)
      if (((await publicClient.getCode({ address })) ?? '0x') === '0x')
        throw new DeployError('BAD_TOKEN', `Token ${symbol}: no contract at ${address} on chain ${chainId}.`)
      const [decimals, onChainSymbol] = await Promise.all([
        publicClient.readContract({ address, abi: erc20Abi, functionName: 'decimals' }),
        publicClient.readContract({ address, abi: erc20Abi, functionName: 'symbol' }),
      ]).catch((cause: unknown) => {
        throw new DeployError(
          'BAD_TOKEN',
          `Token ${symbol}: ${address} does not answer decimals() and symbol(); it is not an ERC-20.`,
          { cause },
        )
      })
      if (onChainSymbol !== symbol)
        log(`deploy: note: ${address} calls itself "${onChainSymbol}"; it is known here as ${symbol}`)
      log(`deploy: token ${symbol} at ${address}, ${decimals} decimals`)
      return { symbol, address, decimals }
    }),
  )
}

/** Reads the progress file, or starts one; a file from another chain or deployer is refused. */
function openProgress(
  path: string,
  fresh: Pick<Progress, 'chainId' | 'genesisHash' | 'deployer' | 'economy'>,
): Progress {
  if (!existsSync(path)) return { ...fresh, deployed: {} }
  let saved: Progress
  try {
    saved = JSON.parse(readFileSync(path, 'utf8')) as Progress
    if (typeof saved?.deployed !== 'object' || typeof saved.chainId !== 'number')
      throw new Error('not a progress file')
  } catch (error) {
    throw new DeployError(
      'PROGRESS_MISMATCH',
      `The progress file ${path} is unreadable (${firstLine(error)}).`,
      {
        details: 'Remove it to start the deployment over.',
      },
    )
  }
  const mismatch = (what: string) =>
    new DeployError('PROGRESS_MISMATCH', `The progress file ${path} ${what}.`, {
      details: 'Pass another --out for a new deployment, or remove the file to start over.',
    })
  if (saved.chainId !== fresh.chainId) throw mismatch(`is for chain ${saved.chainId}, not ${fresh.chainId}`)
  if (saved.genesisHash !== fresh.genesisHash)
    throw mismatch(
      `is for another chain with id ${saved.chainId} (its first block differs: a restarted local chain?)`,
    )
  if (getAddress(saved.deployer) !== fresh.deployer)
    throw mismatch(`was made by deployer ${saved.deployer}, but the key given is ${fresh.deployer}'s`)
  if (
    saved.deployed.economy &&
    (saved.economy.feeBps !== fresh.economy.feeBps ||
      saved.economy.submissionGraceSeconds !== fresh.economy.submissionGraceSeconds)
  )
    throw mismatch(
      `records an economy deployed with fee ${saved.economy.feeBps} bps and grace ${saved.economy.submissionGraceSeconds} s, ` +
        `not ${fresh.economy.feeBps} bps and ${fresh.economy.submissionGraceSeconds} s`,
    )
  return { ...saved, economy: saved.deployed.economy ? saved.economy : fresh.economy }
}

/** A deployment sent by an interrupted run: adopted once mined, forgotten if it never will be. */
async function settlePending(
  publicClient: PublicClient,
  progress: Progress,
  timeout: number,
  log: (line: string) => void,
) {
  const pending = progress.pending
  if (!pending) return
  delete progress.pending
  const step = contractSteps.find((s) => s.step === pending.step)!
  const mined = await publicClient.getTransactionCount({ address: progress.deployer, blockTag: 'latest' })
  if (pending.txHash && mined <= pending.nonce) {
    // Still waiting in the mempool, perhaps: give it the usual time.
    log(`deploy: waiting for ${step.contract} sent by an earlier run (tx ${pending.txHash})...`)
    await publicClient.waitForTransactionReceipt({ hash: pending.txHash, timeout }).catch(() => undefined)
  }
  const codeHash = await codeHashAt(publicClient, pending.address)
  if (!codeHash) {
    log(`deploy: ${step.contract} sent by an earlier run never landed; sending it again`)
    return
  }
  // The deployer's transaction with that nonce made the contract at that address, and only this
  // deployment sends from the deployer: it is the one recorded as pending.
  const receipt = pending.txHash
    ? await publicClient.getTransactionReceipt({ hash: pending.txHash }).catch(() => undefined)
    : undefined
  record(progress, pending.step, pending.address, pending.txHash ?? '0x', receipt, codeHash)
  log(`deploy: ${step.contract} sent by an earlier run landed at ${pending.address}; kept`)
}

/** Recorded contracts the chain no longer holds are deployed again, with everything built on them. */
async function dropWhatTheChainLacks(
  publicClient: PublicClient,
  progress: Progress,
  log: (line: string) => void,
) {
  let dropping = false
  for (const { step, contract } of contractSteps) {
    const recorded = progress.deployed[step]
    if (!recorded) continue
    if (!dropping && (await codeHashAt(publicClient, recorded.address)) !== recorded.codeHash) {
      log(
        `deploy: ${contract} recorded at ${recorded.address} is not on the chain; deploying it and what follows again`,
      )
      dropping = true
    }
    if (dropping) delete progress.deployed[step]
  }
  if (!progress.deployed.identityRegistry) delete progress.deploymentBlock
}

/** Records a contract as deployed and clears the pending step; the registry's block starts the deployment. */
function record(
  progress: Progress,
  step: ContractStep,
  address: Address,
  txHash: Hex,
  receipt: { gasUsed: bigint; blockNumber: bigint } | undefined,
  codeHash: Hex | undefined,
) {
  const block = receipt ? Number(receipt.blockNumber) : 0
  progress.deployed[step] = {
    address,
    txHash,
    codeHash: codeHash!,
    gasUsed: String(receipt?.gasUsed ?? 0n),
    block,
  }
  delete progress.pending
  // Indexers start at the registry's block: none of Agora's events can be older.
  if (step === 'identityRegistry') progress.deploymentBlock = Math.max(block - 1, 0)
}

/** The hash of the code at an address, or undefined where there is none. */
async function codeHashAt(publicClient: PublicClient, address: Address): Promise<Hex | undefined> {
  const code = (await publicClient.getCode({ address })) ?? '0x'
  return code === '0x' ? undefined : keccak256(code)
}

/** Refuses to start when the deployer cannot pay for what is left (with a margin for fee changes). */
async function checkFunds(publicClient: PublicClient, deployer: Address, chainId: number, gas: bigint) {
  const [balance, fees] = await Promise.all([
    publicClient.getBalance({ address: deployer }),
    publicClient.estimateFeesPerGas().catch(async () => ({ maxFeePerGas: await publicClient.getGasPrice() })),
  ])
  const price = fees.maxFeePerGas ?? 0n
  const needed = (gas * price * 12n) / 10n
  if (balance === 0n || balance < needed) {
    throw new DeployError(
      'INSUFFICIENT_FUNDS',
      `The deployer ${deployer} holds ${formatEther(balance)} ETH on chain ${chainId}; the steps left need about ${formatEther(needed)} ETH ` +
        `(${gas.toLocaleString('en-US')} gas at ${formatGwei(price)} gwei, with a 20% margin).`,
      { details: 'Send it ETH and run the same command again: what is done is kept.' },
    )
  }
}

/** Sends a transaction, turning a failure into a DeployError that says how to resume. */
async function send(what: string, run: () => Promise<Hex>): Promise<Hex> {
  try {
    return await run()
  } catch (cause) {
    throw new DeployError('TRANSACTION_FAILED', `${capitalise(what)} failed: ${firstLine(cause)}`, {
      details: 'Run the same command again to resume: what is done is kept.',
      cause,
    })
  }
}

/** Waits for a transaction's receipt, refusing a timeout or a revert with how to resume. */
async function confirm(publicClient: PublicClient, hash: Hex, what: string, timeout: number) {
  const receipt = await publicClient.waitForTransactionReceipt({ hash, timeout }).catch((cause: unknown) => {
    throw new DeployError(
      'TRANSACTION_FAILED',
      `${capitalise(what)}: no receipt for ${hash} (${firstLine(cause)}).`,
      {
        details: 'Run the same command again: it waits for this transaction before sending anything else.',
        cause,
      },
    )
  })
  if (receipt.status !== 'success')
    throw new DeployError('TRANSACTION_FAILED', `${capitalise(what)} reverted (tx ${hash}).`, {
      details: 'Run the same command again to retry it.',
    })
  return receipt
}

/** The RPC URL without path or query, which often carry an API key. */
function rpcOrigin(rpcUrl: string): string {
  try {
    return new URL(rpcUrl).origin
  } catch {
    return 'the given URL'
  }
}

/** The first line of an error's short message: RPC errors run long. */
function firstLine(error: unknown): string {
  const message =
    error instanceof Error
      ? ((error as { shortMessage?: string }).shortMessage ?? error.message)
      : String(error)
  return message.split('\n')[0]!
}

/** The text with its first letter upper-cased, to start a message. */
function capitalise(text: string): string {
  return text[0]!.toUpperCase() + text.slice(1)
}

/** Writes JSON whole or not at all: a kill mid-write leaves the previous file. */
export function writeJsonAtomic(path: string, data: unknown) {
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o644 })
  renameSync(temporary, path)
}
