/**
 * Gas per operation and per full job lifecycle, in steady state: with plain EOA transactions, and as
 * agents spend (through the agent module of their Safes, the calls their keys signed submitted by a
 * relayer), beside an owner paying with the Safe's own `execTransaction`.
 * `npm run bench:gas` prints a table; `npm run bench:gas -- --json` prints one JSON object on stdout.
 */
import {
  type Address,
  createPublicClient,
  createWalletClient,
  type Hex,
  http,
  keccak256,
  maxUint256,
  parseEther,
  parseEventLogs,
  parseUnits,
  toHex,
  zeroAddress,
} from 'viem'
import { type LocalAccount, privateKeyToAccount } from 'viem/accounts'
import { startDevnet } from '../src/devnet.ts'
import { agentEconomyAbi } from '../src/generated/AgentEconomy.ts'
import { agentFactoryAbi } from '../src/generated/AgentFactory.ts'
import { agentIdentityRegistryAbi } from '../src/generated/AgentIdentityRegistry.ts'
import { agentModuleAbi } from '../src/generated/AgentModule.ts'
import { devUSDAbi } from '../src/generated/DevUSD.ts'
import { gasGrieferAbi, gasGrieferBytecode } from '../src/generated/GasGriefer.ts'
import { safeAbi } from '../src/generated/Safe.ts'
import {
  type ModuleCall,
  moduleCall,
  type PolicyChange,
  policyChange,
  signExecute,
  unlimited,
} from '../test/agent-module-calls.ts'

/** The ERC-8183 reference escrow's gas for one ERC-20 job with a hash-only description (REFERENCE.md). */
const REFERENCE_ERC8183_JOB = 503_000
const TARGET_JOB = 200_000
/** Launch with the agent module enabled and the agent's key and policy written to it. */
const TARGET_LAUNCH_MODULE = 500_000
/** One policy-checked payment through the agent module, a relayer's transaction all in. */
const TARGET_PAY_MODULE = 80_000
/** Each payment of a batch through the agent module (one `execute`). */
const TARGET_PAY_MODULE_BATCHED = 20_000
/** How many payments the batched figure spreads one `execute` over. */
const BATCH = 10
/** The runtime's payment through a Safe's `execTransaction` before the module (README, docs/runtime.md). */
const REFERENCE_PAY_SAFE_EXEC = 80_219
/** Launch before the agent module: a Safe owned by the agent's key and its owner (docs/contracts.md). */
const REFERENCE_LAUNCH_WITHOUT_MODULE = 438_718

const json = process.argv.includes('--json')
const log = json ? () => {} : (line: string) => process.stderr.write(`${line}\n`)
const devnet = await startDevnet({ log })
try {
  const { manifest } = devnet
  const { economy, identityRegistry, factory, devUSD } = manifest.contracts
  const transport = http(devnet.rpcUrl)
  const publicClient = createPublicClient({ chain: devnet.chain, transport })
  const wallet = (i: number) =>
    createWalletClient({
      account: privateKeyToAccount(manifest.accounts[i]!.privateKey),
      chain: devnet.chain,
      transport,
    })
  const owner = wallet(1)
  const client = wallet(2)
  const provider = wallet(3)
  const agentOwner = wallet(4)

  const gasOf = async (hash: Hex) => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash })
    if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`)
    return Number(receipt.gasUsed)
  }
  const write = async (
    w: ReturnType<typeof wallet>,
    request: Parameters<ReturnType<typeof wallet>['writeContract']>[0],
  ) => gasOf(await w.writeContract(request))

  // A provider agent registered by a plain account, which binds itself as the agent's wallet (as every
  // launched agent has its Safe bound): its payment address is that account.
  const providerId = await publicClient.readContract({
    address: identityRegistry,
    abi: agentIdentityRegistryAbi,
    functionName: 'nextAgentId',
  })
  await write(provider, {
    address: identityRegistry,
    abi: agentIdentityRegistryAbi,
    functionName: 'register',
    args: ['https://agents.example/provider.json'],
  } as never)
  const walletDeadline = BigInt((await publicClient.getBlock()).timestamp) + 3600n
  const walletDigest = await publicClient.readContract({
    address: identityRegistry,
    abi: agentIdentityRegistryAbi,
    functionName: 'agentWalletDigest',
    args: [providerId, provider.account.address, provider.account.address, walletDeadline],
  })
  await write(provider, {
    address: identityRegistry,
    abi: agentIdentityRegistryAbi,
    functionName: 'setAgentWallet',
    args: [
      providerId,
      provider.account.address,
      walletDeadline,
      await provider.account.sign({ hash: walletDigest }),
    ],
  } as never)
  await write(client, {
    address: devUSD,
    abi: devUSDAbi,
    functionName: 'approve',
    args: [economy, maxUint256],
  } as never)

  const budget = parseUnits('25', 6)
  let spec = 0
  const createJob = async (token: Address = devUSD, value = 0n) => {
    const deadline = BigInt((await publicClient.getBlock()).timestamp) + 3600n
    const specHash = keccak256(toHex(`spec ${spec++}`))
    const jobId = await publicClient.readContract({
      address: economy,
      abi: agentEconomyAbi,
      functionName: 'jobIdOf',
      args: [client.account.address, providerId, specHash],
    })
    const gas = await write(client, {
      address: economy,
      abi: agentEconomyAbi,
      functionName: 'createJob',
      args: [
        providerId,
        '0x0000000000000000000000000000000000000000',
        token,
        value || budget,
        deadline,
        specHash,
      ],
      value,
    } as never)
    return { jobId, gas }
  }
  const submit = (jobId: bigint) =>
    write(provider, {
      address: economy,
      abi: agentEconomyAbi,
      functionName: 'submitJob',
      args: [jobId, keccak256(toHex(`deliverable ${jobId}`))],
    } as never)
  const complete = (jobId: bigint) =>
    write(client, {
      address: economy,
      abi: agentEconomyAbi,
      functionName: 'completeJob',
      args: [jobId, 92, keccak256(toHex(`feedback ${jobId}`))],
    } as never)
  const lifecycle = async (token: Address = devUSD, value = 0n) => {
    const created = await createJob(token, value)
    const submitted = await submit(created.jobId)
    const completed = await complete(created.jobId)
    return { create: created.gas, submit: submitted, complete: completed }
  }

  // Warm up to steady state: the escrow already holds another open job's budget, the provider has
  // been paid and rated before, fees have accrued in this token.
  log('bench:gas: warming up to steady state...')
  await createJob()
  await lifecycle()
  await lifecycle()
  const erc20Job = await lifecycle()
  await lifecycle('0x0000000000000000000000000000000000000000', parseEther('0.01'))
  const ethJob = await lifecycle('0x0000000000000000000000000000000000000000', parseEther('0.01'))

  const rejected = await createJob()
  await submit(rejected.jobId)
  const reject = await write(client, {
    address: economy,
    abi: agentEconomyAbi,
    functionName: 'rejectJob',
    args: [rejected.jobId, keccak256(toHex('not good enough'))],
  } as never)
  const declined = await createJob()
  const decline = await write(provider, {
    address: economy,
    abi: agentEconomyAbi,
    functionName: 'declineJob',
    args: [declined.jobId, keccak256(toHex('busy'))],
  } as never)
  const expiring = await createJob()
  await publicClient.request({ method: 'evm_increaseTime' as never, params: [7200] as never })
  await publicClient.request({ method: 'evm_mine' as never, params: [] as never })
  const refundExpired = await write(owner, {
    address: economy,
    abi: agentEconomyAbi,
    functionName: 'refundExpired',
    args: [expiring.jobId],
  } as never)
  const payErc20 = await write(client, {
    address: economy,
    abi: agentEconomyAbi,
    functionName: 'pay',
    args: [providerId, devUSD, parseUnits('1', 6), keccak256(toHex('tip'))],
  } as never)
  const payEth = await write(client, {
    address: economy,
    abi: agentEconomyAbi,
    functionName: 'pay',
    args: [
      providerId,
      '0x0000000000000000000000000000000000000000',
      parseEther('0.001'),
      keccak256(toHex('tip')),
    ],
    value: parseEther('0.001'),
  } as never)

  // A hostile client whose receive() burns all gas it gets (GasGriefer): declining its job costs at
  // most the ETH stipend more, however much gas the provider offers.
  const grieferDeploy = await client.deployContract({
    abi: gasGrieferAbi,
    bytecode: gasGrieferBytecode,
    args: [economy],
    value: parseEther('0.1'),
  } as never)
  const griefer = (await publicClient.waitForTransactionReceipt({ hash: grieferDeploy })).contractAddress!
  const grieferSpec = keccak256(toHex('griefer'))
  await write(client, {
    address: griefer,
    abi: gasGrieferAbi,
    functionName: 'hire',
    args: [
      providerId,
      parseEther('0.01'),
      BigInt((await publicClient.getBlock()).timestamp) + 3600n,
      grieferSpec,
    ],
  } as never)
  const declineGriefed = await gasOf(
    await provider.writeContract({
      address: economy,
      abi: agentEconomyAbi,
      functionName: 'declineJob',
      args: [
        await publicClient.readContract({
          address: economy,
          abi: agentEconomyAbi,
          functionName: 'jobIdOf',
          args: [griefer, providerId, grieferSpec],
        }),
        keccak256(toHex('no')),
      ],
      gas: 5_000_000n,
    } as never),
  )

  // ------------------------------------------------------------------ agents, through the agent module

  const { module } = manifest.contracts
  const relayer = wallet(5)
  const providerAgentOwner = wallet(6)
  const key = (label: string) => privateKeyToAccount(keccak256(toHex(label)))
  const agentOf = (safe: Address) =>
    publicClient.readContract({ address: module, abi: agentModuleAbi, functionName: 'agentOf', args: [safe] })

  // Launch: identity, token-bound account, and a Safe owned by the agent's owner alone with the agent
  // module enabled, the agent's key and policy written to it: the runtime's default policy (dUSD and
  // ETH without limit, the agent's key an allowed payee for its x402 hot wallet).
  const runtimePolicy = (agentKey: Address) =>
    policyChange({
      setLimits: [devUSD, zeroAddress].map((token) => ({
        token,
        perCall: unlimited,
        perPeriod: 0n,
        period: 0,
      })),
      allowPayees: [agentKey],
    })
  let launches = 0
  const launchAgent = async (
    by: ReturnType<typeof wallet>,
    agentKey: Address,
    policy: PolicyChange = runtimePolicy(agentKey),
    agentURI = '',
  ) => {
    const hash = await by.writeContract({
      address: factory,
      abi: agentFactoryAbi,
      functionName: 'launch',
      args: [
        {
          owner: by.account.address,
          agentURI,
          safeOwners: [by.account.address],
          threshold: 1n,
          salt: keccak256(toHex(`launch ${launches++}`)),
          agentKey,
          policy,
        },
      ],
    } as never)
    const receipt = await publicClient.waitForTransactionReceipt({ hash })
    if (receipt.status !== 'success') throw new Error(`launch ${hash} reverted`)
    const [launched] = parseEventLogs({
      abi: agentFactoryAbi,
      eventName: 'AgentLaunched',
      logs: receipt.logs,
    })
    return { gas: Number(receipt.gasUsed), agentId: launched!.args.agentId, safe: launched!.args.safe }
  }
  await launchAgent(agentOwner, key('bench agent 0').address)
  // The runtime's default: the registry's base URI names the registration file, no URI stored.
  const launch = (await launchAgent(agentOwner, key('bench agent 1').address)).gas
  const launchWithUri = (
    await launchAgent(
      agentOwner,
      key('bench agent 2').address,
      undefined,
      'https://agents.example.org/agents/42/registration.json',
    )
  ).gas
  // A policy with a cap and a budget names one token (and the hot wallet).
  const cappedPolicy = (agentKey: Address) =>
    policyChange({
      setLimits: [
        {
          token: devUSD,
          perCall: parseUnits('1000', 6),
          perPeriod: parseUnits('1000000', 6),
          period: 86_400,
        },
      ],
      allowPayees: [agentKey],
    })
  const launchCapped = (
    await launchAgent(agentOwner, key('bench agent 3').address, cappedPolicy(key('bench agent 3').address))
  ).gas

  // What the module itself adds: enabled, the agent's key written, no limit (nothing can be spent).
  const launchNoLimits = (await launchAgent(agentOwner, key('bench agent 4').address, policyChange())).gas

  /** Has `safe` make `calls`, signed by its agent's `agentKey` and submitted by the relayer. */
  const execute = async (agentKey: LocalAccount, safe: Address, calls: ModuleCall[]) => {
    const { nonce } = await agentOf(safe)
    const signature = await signExecute(agentKey, { chainId: manifest.chainId, module, safe, nonce, calls })
    return write(relayer, {
      address: module,
      abi: agentModuleAbi,
      functionName: 'execute',
      args: [safe, nonce, calls, signature],
    } as never)
  }
  /** Has `safe` make `call` with its owner's signature and transaction (`execTransaction`). */
  const execTransaction = async (owner: ReturnType<typeof wallet>, safe: Address, call: ModuleCall) => {
    const nonce = await publicClient.readContract({ address: safe, abi: safeAbi, functionName: 'nonce' })
    const tx = [call.to, call.value, call.data, 0, 0n, 0n, 0n, zeroAddress, zeroAddress] as const
    const hash = await publicClient.readContract({
      address: safe,
      abi: safeAbi,
      functionName: 'getTransactionHash',
      args: [...tx, nonce],
    })
    const signature = await owner.account.sign({ hash })
    const receipt = await publicClient.waitForTransactionReceipt({
      hash: await owner.writeContract({
        address: safe,
        abi: safeAbi,
        functionName: 'execTransaction',
        args: [...tx, signature],
      } as never),
    })
    const failed = parseEventLogs({ abi: safeAbi, eventName: 'ExecutionFailure', logs: receipt.logs })
    if (receipt.status !== 'success' || failed.length > 0)
      throw new Error(`execTransaction ${receipt.transactionHash} failed`)
    return Number(receipt.gasUsed)
  }

  // The paying agent: a cap per payment and a daily budget in dUSD, so every payment is checked and
  // counted. Its Safe holds dUSD and has approved the economy (through the module, as the agent would).
  const payerKey = key('bench payer agent')
  const payer = await launchAgent(agentOwner, payerKey.address, cappedPolicy(payerKey.address))
  await write(agentOwner, {
    address: devUSD,
    abi: devUSDAbi,
    functionName: 'transfer',
    args: [payer.safe, parseUnits('100000', 6)],
  } as never)
  await execute(payerKey, payer.safe, [moduleCall(devUSD, devUSDAbi, 'approve', [economy, maxUint256])])
  let memo = 0
  const payCall = () =>
    moduleCall(economy, agentEconomyAbi, 'pay', [
      providerId,
      devUSD,
      parseUnits('1', 6),
      keccak256(toHex(`tip ${memo++}`)),
    ])
  // The first payment opens the budget window; later ones find it open.
  await execute(payerKey, payer.safe, [payCall()])
  await execute(payerKey, payer.safe, [payCall()])
  const payModule = await execute(payerKey, payer.safe, [payCall()])
  const payModuleBatch = await execute(payerKey, payer.safe, Array.from({ length: BATCH }, payCall))
  const payModuleBatched = Math.round(payModuleBatch / BATCH)
  // What each payment added to a batch costs: the batch beyond a single payment's transaction.
  const payModuleBatchedMarginal = Math.round((payModuleBatch - payModule) / (BATCH - 1))
  // The same payment made by the Safe's owner with `execTransaction` (the Safe's nonce already written).
  await execTransaction(agentOwner, payer.safe, payCall())
  const paySafeExecTransaction = await execTransaction(agentOwner, payer.safe, payCall())

  // A job between two agents of different owners, every step through an agent's module: the client
  // agent creates and funds it, the provider agent submits, the client completes.
  const providerKey = key('bench provider agent')
  const providerAgent = await launchAgent(providerAgentOwner, providerKey.address)
  const moduleLifecycle = async () => {
    const deadline = BigInt((await publicClient.getBlock()).timestamp) + 3600n
    const specHash = keccak256(toHex(`module spec ${spec++}`))
    const jobId = await publicClient.readContract({
      address: economy,
      abi: agentEconomyAbi,
      functionName: 'jobIdOf',
      args: [payer.safe, providerAgent.agentId, specHash],
    })
    const create = await execute(payerKey, payer.safe, [
      moduleCall(economy, agentEconomyAbi, 'createJob', [
        providerAgent.agentId,
        zeroAddress,
        devUSD,
        budget,
        deadline,
        specHash,
      ]),
    ])
    const submit = await execute(providerKey, providerAgent.safe, [
      moduleCall(economy, agentEconomyAbi, 'submitJob', [jobId, keccak256(toHex(`deliverable ${jobId}`))]),
    ])
    const complete = await execute(payerKey, payer.safe, [
      moduleCall(economy, agentEconomyAbi, 'completeJob', [jobId, 92, keccak256(toHex(`feedback ${jobId}`))]),
    ])
    return { create, submit, complete, total: create + submit + complete }
  }
  await moduleLifecycle()
  await moduleLifecycle()
  const moduleJob = await moduleLifecycle()

  const jobLifecycle = erc20Job.create + erc20Job.submit + erc20Job.complete
  const result = {
    jobLifecycle,
    launch,
    createJob: erc20Job.create,
    submitJob: erc20Job.submit,
    completeJob: erc20Job.complete,
    jobLifecycleEth: ethJob.create + ethJob.submit + ethJob.complete,
    rejectJob: reject,
    declineJob: decline,
    declineGriefed,
    refundExpired,
    payErc20,
    payEth,
    launchWithUri,
    launchCapped,
    launchNoLimits,
    payModule,
    payModuleBatched,
    payModuleBatch,
    payModuleBatchedMarginal,
    paySafeExecTransaction,
    jobLifecycleModule: moduleJob.total,
    createJobModule: moduleJob.create,
    submitJobModule: moduleJob.submit,
    completeJobModule: moduleJob.complete,
    reference: {
      erc8183JobLifecycle: REFERENCE_ERC8183_JOB,
      launchWithoutModule: REFERENCE_LAUNCH_WITHOUT_MODULE,
      paySafeExecTransactionBeforeModule: REFERENCE_PAY_SAFE_EXEC,
      jobLifecycleEoa: jobLifecycle,
    },
    targets: {
      jobLifecycle: TARGET_JOB,
      launch: TARGET_LAUNCH_MODULE,
      payModule: TARGET_PAY_MODULE,
      payModuleBatched: TARGET_PAY_MODULE_BATCHED,
    },
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`)
  } else {
    const n = (gas: number) => gas.toLocaleString('en-US')
    const versus = (gas: number, target: number) =>
      `${gas <= target ? 'within' : 'OVER'} target <= ${n(target)}`
    const row = (name: string, gas: number, note = '') =>
      console.log(`${name.padEnd(40)} ${n(gas).padStart(10)}  ${note}`)
    console.log(`${'operation (steady state)'.padEnd(40)} ${'gas'.padStart(10)}`)
    console.log('EOA transactions')
    row('createJob (ERC-20, create+fund)', erc20Job.create)
    row('submitJob', erc20Job.submit)
    row('completeJob (fee, rating, records)', erc20Job.complete)
    row(
      'job lifecycle, ERC-20',
      jobLifecycle,
      `${versus(jobLifecycle, TARGET_JOB)}; ERC-8183 reference ~${n(REFERENCE_ERC8183_JOB)} (${(REFERENCE_ERC8183_JOB / jobLifecycle).toFixed(1)}x more)`,
    )
    row('job lifecycle, ETH', result.jobLifecycleEth)
    row('rejectJob (refund)', reject)
    row('declineJob (refund)', decline)
    row('declineJob, GasGriefer client', declineGriefed, 'refund owed; 5,000,000 gas offered')
    row('refundExpired', refundExpired)
    row('pay (ERC-20)', payErc20)
    row('pay (ETH)', payEth)
    console.log('launch (identity + TBA + Safe of the owner + agent module)')
    row(
      'launch, runtime default policy',
      launch,
      `${versus(launch, TARGET_LAUNCH_MODULE)}; ${n(REFERENCE_LAUNCH_WITHOUT_MODULE)} before the module (Safe with 2 owners)`,
    )
    row('launch, capped policy (1 token)', launchCapped, 'one limit and the hot wallet payee')
    row('launch, no limit', launchNoLimits, 'module enabled and key written; each limit or payee adds 25-28k')
    row('launch with a 54-byte own URI', launchWithUri)
    console.log('agents, through the agent module (relayer transactions)')
    row(
      'pay (ERC-20, cap and budget checked)',
      payModule,
      `${versus(payModule, TARGET_PAY_MODULE)}; EOA pay ${n(payErc20)}; owner's execTransaction ${n(paySafeExecTransaction)}`,
    )
    row(
      `pay, batch of ${BATCH}: per payment`,
      payModuleBatched,
      `${versus(payModuleBatched, TARGET_PAY_MODULE_BATCHED)}; whole execute ${n(payModuleBatch)}`,
    )
    row(
      'pay, each payment added to a batch',
      payModuleBatchedMarginal,
      `${versus(payModuleBatchedMarginal, TARGET_PAY_MODULE_BATCHED)}; the batch beyond one payment, per payment`,
    )
    row(
      'pay by the owner, Safe execTransaction',
      paySafeExecTransaction,
      `same payment; ${n(REFERENCE_PAY_SAFE_EXEC)} for the runtime's execTransaction path before the module`,
    )
    row('createJob (client agent)', moduleJob.create)
    row('submitJob (provider agent)', moduleJob.submit)
    row('completeJob (client agent)', moduleJob.complete)
    row(
      'job lifecycle, ERC-20, agents',
      moduleJob.total,
      `EOA lifecycle ${n(jobLifecycle)} (+${n(moduleJob.total - jobLifecycle)})`,
    )
  }
} finally {
  await devnet.stop()
}
