/**
 * Gas per operation and per full job lifecycle, in steady state, with plain EOA transactions.
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
  parseUnits,
  toHex,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { startDevnet } from '../src/devnet.ts'
import { agentEconomyAbi } from '../src/generated/AgentEconomy.ts'
import { agentFactoryAbi } from '../src/generated/AgentFactory.ts'
import { agentIdentityRegistryAbi } from '../src/generated/AgentIdentityRegistry.ts'
import { devUSDAbi } from '../src/generated/DevUSD.ts'
import { gasGrieferAbi, gasGrieferBytecode } from '../src/generated/GasGriefer.ts'

/** The ERC-8183 reference escrow's gas for one ERC-20 job with a hash-only description (REFERENCE.md). */
const REFERENCE_ERC8183_JOB = 503_000
const TARGET_JOB = 200_000
const TARGET_LAUNCH = 450_000

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

  // Launch: identity, token-bound account and a Safe owned by the agent's key and its owner.
  const agentKey = privateKeyToAccount(keccak256(toHex('bench agent key')))
  const launchOnce = async (n: number, agentURI = '') =>
    write(agentOwner, {
      address: factory,
      abi: agentFactoryAbi,
      functionName: 'launch',
      args: [
        {
          owner: agentOwner.account.address,
          agentURI,
          safeOwners: [agentKey.address, agentOwner.account.address],
          threshold: 1n,
          salt: keccak256(toHex(`launch ${n}`)),
        },
      ],
    } as never)
  await launchOnce(0)
  // The runtime's default: the registry's base URI names the registration file, no URI stored.
  const launch = await launchOnce(1)
  const launchWithUri = await launchOnce(2, 'https://agents.example.org/agents/42/registration.json')

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
    reference: { erc8183JobLifecycle: REFERENCE_ERC8183_JOB },
    targets: { jobLifecycle: TARGET_JOB, launch: TARGET_LAUNCH },
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`)
  } else {
    const row = (name: string, gas: number, note = '') =>
      console.log(`${name.padEnd(34)} ${gas.toLocaleString('en-US').padStart(10)}  ${note}`)
    console.log(`${'operation (steady state, EOA txs)'.padEnd(34)} ${'gas'.padStart(10)}`)
    row('createJob (ERC-20, create+fund)', erc20Job.create)
    row('submitJob', erc20Job.submit)
    row('completeJob (fee, rating, records)', erc20Job.complete)
    row(
      'job lifecycle, ERC-20',
      jobLifecycle,
      `target <= ${TARGET_JOB.toLocaleString('en-US')}; ERC-8183 reference ~${REFERENCE_ERC8183_JOB.toLocaleString('en-US')} (${(REFERENCE_ERC8183_JOB / jobLifecycle).toFixed(1)}x more)`,
    )
    row('job lifecycle, ETH', result.jobLifecycleEth)
    row('rejectJob (refund)', reject)
    row('declineJob (refund)', decline)
    row('declineJob, GasGriefer client', declineGriefed, 'refund owed; 5,000,000 gas offered')
    row('refundExpired', refundExpired)
    row('pay (ERC-20)', payErc20)
    row('pay (ETH)', payEth)
    row(
      'launch (identity + TBA + Safe)',
      launch,
      `target <= ${TARGET_LAUNCH.toLocaleString('en-US')}; Safe with 2 owners`,
    )
    row('launch with a 54-byte own URI', launchWithUri)
  }
} finally {
  await devnet.stop()
}
