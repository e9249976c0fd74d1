import protocolKit, { buildSignatureBytes } from '@safe-global/protocol-kit'
import {
  type Address,
  createPublicClient,
  createTestClient,
  createWalletClient,
  encodeAbiParameters,
  encodeErrorResult,
  encodeFunctionData,
  encodePacked,
  getAddress,
  getContractAddress,
  type Hex,
  hashMessage,
  http,
  keccak256,
  pad,
  parseEther,
  parseEventLogs,
  stringToHex,
  type TransactionReceipt,
  zeroAddress,
} from 'viem'
import { type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { type Devnet, safeContractNetworks, startDevnet } from '../src/devnet.ts'
import { agentAccountAbi } from '../src/generated/AgentAccount.ts'
import { agentFactoryAbi } from '../src/generated/AgentFactory.ts'
import { agentIdentityRegistryAbi } from '../src/generated/AgentIdentityRegistry.ts'
import { agentModuleAbi } from '../src/generated/AgentModule.ts'
import { compatibilityFallbackHandlerAbi } from '../src/generated/CompatibilityFallbackHandler.ts'
import { erc6551RegistryAbi } from '../src/generated/ERC6551Registry.ts'
import { safeAbi } from '../src/generated/Safe.ts'
import { safeProxyFactoryAbi } from '../src/generated/SafeProxyFactory.ts'
import { type AccessRule, testAccessControl } from './access-control.ts'
import { type PolicyChange, policyChange, unlimitedIn, unlimitedPolicy } from './agent-module-calls.ts'
import { revertOf } from './revert.ts'

/**
 * protocol-kit ships one CommonJS-flavoured `.d.ts`, so under NodeNext TypeScript sees the Safe class at
 * `default.default`, while Node loads its ES module build, whose default export is the class itself.
 */
const Safe = ('init' in protocolKit ? protocolKit : protocolKit.default) as typeof protocolKit.default

/** Safe 1.4.1 keeps its fallback handler in this slot: keccak256("fallback_manager.handler.address"). */
const fallbackHandlerSlot = '0x6c9a6c4a39284e37ed1cf53d337577d14212a4870fb976a4366c693b939918d5'

/**
 * The `bytes32` overload of the fallback handler's ERC-1271 check. Passing the handler's whole ABI
 * trips viem's overload ambiguity check (a 32-byte value fits `bytes` too), which is also why
 * protocol-kit's own `isValidSignature` fails with this viem version.
 */
const isValidSignatureAbi = compatibilityFallbackHandlerAbi.filter(
  (item) =>
    item.type === 'function' && item.name === 'isValidSignature' && item.inputs[0]?.type === 'bytes32',
)

/** Every event a launch can emit, so one parse reads the whole receipt. */
const launchEventsAbi = [
  ...agentFactoryAbi,
  ...agentIdentityRegistryAbi,
  ...agentModuleAbi,
  ...safeAbi,
  ...safeProxyFactoryAbi,
  ...erc6551RegistryAbi,
].filter((item) => item.type === 'event')

type LaunchParams = {
  owner: Address
  agentURI: string
  safeOwners: Address[]
  threshold: bigint
  salt: Hex
  agentKey: Address
  policy: PolicyChange
}

let devnet: Devnet
let publicClient: ReturnType<typeof createPublicClient>
let walletClient: ReturnType<typeof createWalletClient>
let testClient: ReturnType<typeof createTestClient>
let launcher: PrivateKeyAccount
let otherLauncher: PrivateKeyAccount
let agentOwner: PrivateKeyAccount
let agentKey: PrivateKeyAccount
let stranger: PrivateKeyAccount
let contracts: Devnet['manifest']['contracts']
let safeAddresses: Devnet['manifest']['safe']
let chainId: number
let snapshot: Hex

beforeAll(async () => {
  devnet = await startDevnet({ log: () => {} })
  const transport = http(devnet.rpcUrl)
  publicClient = createPublicClient({ chain: devnet.chain, transport })
  walletClient = createWalletClient({ chain: devnet.chain, transport })
  testClient = createTestClient({ chain: devnet.chain, mode: 'anvil', transport })
  ;[launcher, otherLauncher, agentOwner, agentKey, stranger] = devnet.manifest.accounts
    .slice(1, 6)
    .map(({ privateKey }) => privateKeyToAccount(privateKey)) as [
    PrivateKeyAccount,
    PrivateKeyAccount,
    PrivateKeyAccount,
    PrivateKeyAccount,
    PrivateKeyAccount,
  ]
  contracts = devnet.manifest.contracts
  safeAddresses = devnet.manifest.safe
  chainId = devnet.manifest.chainId
})

afterAll(async () => {
  await devnet?.stop()
})

// Each test starts from the freshly deployed devnet, so agent ids and gas figures are stable.
beforeEach(async () => {
  snapshot = await testClient.snapshot()
})

afterEach(async () => {
  await testClient.revert({ id: snapshot })
})

async function mined(hash: Promise<Hex>): Promise<TransactionReceipt> {
  const receipt = await publicClient.waitForTransactionReceipt({ hash: await hash })
  expect(receipt.status).toBe('success')
  return receipt
}

type CallFrame = { revertReason?: string; error?: string; output?: Hex; calls?: CallFrame[] }

/** Every call frame inside `launch`, outermost first. */
async function traceLaunch(from: Address, params: LaunchParams): Promise<CallFrame[]> {
  const data = encodeFunctionData({ abi: agentFactoryAbi, functionName: 'launch', args: [params] })
  const response = await fetch(devnet.rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'debug_traceCall',
      params: [{ from, to: contracts.factory, data, gas: '0x1000000' }, 'latest', { tracer: 'callTracer' }],
    }),
  })
  const { result } = (await response.json()) as { result: CallFrame }
  const frames: CallFrame[] = []
  const walk = (frame: CallFrame) => {
    frames.push(frame)
    for (const call of frame.calls ?? []) walk(call)
  }
  walk(result)
  return frames
}

/**
 * Revert reasons of the calls nested inside `launch`, innermost last. The Safe proxy factory drops
 * the reason when the new proxy's `setup` fails, so only a trace shows what Safe refused.
 */
async function nestedRevertReasons(from: Address, params: LaunchParams): Promise<string[]> {
  const frames = await traceLaunch(from, params)
  return frames.flatMap((frame) => (frame.revertReason ? [frame.revertReason] : []))
}

/** Revert data of the failed calls nested inside `launch` (custom errors included). */
async function nestedRevertData(from: Address, params: LaunchParams): Promise<Hex[]> {
  const frames = await traceLaunch(from, params)
  return frames.flatMap((frame) => (frame.error && frame.output ? [frame.output] : []))
}

function launchParams(overrides: Partial<LaunchParams> = {}): LaunchParams {
  return {
    owner: agentOwner.address,
    agentURI: 'https://agents.example/translator.json',
    safeOwners: [agentOwner.address],
    threshold: 1n,
    salt: pad('0x01'),
    agentKey: agentKey.address,
    policy: unlimitedPolicy([contracts.devUSD, zeroAddress]),
    ...overrides,
  }
}

function simulateLaunch(from: PrivateKeyAccount, params: LaunchParams) {
  return publicClient.simulateContract({
    address: contracts.factory,
    abi: agentFactoryAbi,
    functionName: 'launch',
    args: [params],
    account: from,
  })
}

/** Launches an agent and returns the addresses `launch` reported with the receipt. */
async function launch(from: PrivateKeyAccount, params: LaunchParams) {
  const { result, request } = await simulateLaunch(from, params)
  const receipt = await mined(walletClient.writeContract(request))
  const [agentId, safe, account] = result
  return { agentId, safe, account, receipt }
}

/** Where Safe's proxy factory will deploy the Safe `launch` creates for this caller and parameters. */
async function predictSafe(caller: Address, params: LaunchParams): Promise<Address> {
  const [initializer, saltNonce, proxyCreationCode] = await Promise.all([
    publicClient.readContract({
      address: contracts.factory,
      abi: agentFactoryAbi,
      functionName: 'safeInitializer',
      args: [params],
    }),
    publicClient.readContract({
      address: contracts.factory,
      abi: agentFactoryAbi,
      functionName: 'saltNonce',
      args: [caller, params.salt],
    }),
    publicClient.readContract({
      address: safeAddresses.safeProxyFactory,
      abi: safeProxyFactoryAbi,
      functionName: 'proxyCreationCode',
    }),
  ])
  // SafeProxyFactory.createProxyWithNonce: salt = keccak256(keccak256(initializer) ++ saltNonce).
  const salt = keccak256(encodePacked(['bytes32', 'uint256'], [keccak256(initializer), saltNonce]))
  const bytecode = encodePacked(
    ['bytes', 'uint256'],
    [proxyCreationCode, BigInt(safeAddresses.safeSingleton)],
  )
  return getContractAddress({ opcode: 'CREATE2', from: safeAddresses.safeProxyFactory, salt, bytecode })
}

function safeKit(signer: PrivateKeyAccount, safeAddress: Address) {
  const key = devnet.manifest.accounts.find((account) => account.address === signer.address)!.privateKey
  return Safe.init({
    provider: devnet.rpcUrl,
    signer: key,
    safeAddress,
    contractNetworks: safeContractNetworks(chainId, safeAddresses),
  })
}

function readSafe<const name extends 'getOwners' | 'getThreshold' | 'nonce'>(
  safe: Address,
  functionName: name,
) {
  return publicClient.readContract({ address: safe, abi: safeAbi, functionName })
}

/** The module's record of the Safe's agent. */
function agentOf(safe: Address) {
  return publicClient.readContract({
    address: contracts.module,
    abi: agentModuleAbi,
    functionName: 'agentOf',
    args: [safe],
  })
}

/** A fresh, empty address derived from `label`. */
function recipient(label: string): Address {
  return privateKeyToAccount(keccak256(stringToHex(label))).address
}

describe('safeInitializer and saltNonce', () => {
  test('default: Safe setup with the owners, threshold, fallback handler and agent set-up; salt bound to the caller', async () => {
    const params = launchParams({ safeOwners: [agentOwner.address, stranger.address], threshold: 2n })
    expect(
      await publicClient.readContract({
        address: contracts.factory,
        abi: agentFactoryAbi,
        functionName: 'safeInitializer',
        args: [params],
      }),
    ).toBe(
      encodeFunctionData({
        abi: safeAbi,
        functionName: 'setup',
        args: [
          params.safeOwners,
          2n,
          contracts.factory,
          encodeFunctionData({
            abi: agentFactoryAbi,
            functionName: 'setUpAgent',
            args: [params.agentKey, params.policy],
          }),
          safeAddresses.fallbackHandler,
          zeroAddress,
          0n,
          zeroAddress,
        ],
      }),
    )
    expect(
      await publicClient.readContract({
        address: contracts.factory,
        abi: agentFactoryAbi,
        functionName: 'saltNonce',
        args: [launcher.address, params.salt],
      }),
    ).toBe(
      BigInt(
        keccak256(
          encodeAbiParameters([{ type: 'address' }, { type: 'bytes32' }], [launcher.address, params.salt]),
        ),
      ),
    )
  })
})

describe('launch', () => {
  test('default: one transaction mints the identity, deploys the Safe with the agent module, binds it and creates the account', async () => {
    const params = launchParams()
    const predictedSafe = await predictSafe(launcher.address, params)
    const nextId = await publicClient.readContract({
      address: contracts.identityRegistry,
      abi: agentIdentityRegistryAbi,
      functionName: 'nextAgentId',
    })
    const predictedAccount = await publicClient.readContract({
      address: contracts.erc6551Registry,
      abi: erc6551RegistryAbi,
      functionName: 'account',
      args: [contracts.agentAccount, pad('0x0'), BigInt(chainId), contracts.identityRegistry, nextId],
    })

    const { agentId, safe, account, receipt } = await launch(launcher, params)
    expect(agentId).toBe(nextId)
    expect(safe).toBe(predictedSafe)
    expect(account).toBe(predictedAccount)
    expect(receipt.gasUsed).toMatchInlineSnapshot(`617691n`)
    console.info(
      `AgentFactory.launch (1-of-1 Safe, ${params.agentURI.length}-char URI): ${receipt.gasUsed} gas`,
    )

    // Identity: minted to the owner, Safe bound as the payment wallet.
    const registry = { address: contracts.identityRegistry, abi: agentIdentityRegistryAbi } as const
    expect(await publicClient.readContract({ ...registry, functionName: 'ownerOf', args: [agentId] })).toBe(
      agentOwner.address,
    )
    expect(await publicClient.readContract({ ...registry, functionName: 'tokenURI', args: [agentId] })).toBe(
      params.agentURI,
    )
    expect(
      await publicClient.readContract({ ...registry, functionName: 'getAgentWallet', args: [agentId] }),
    ).toBe(safe)
    expect(
      await publicClient.readContract({ ...registry, functionName: 'paymentAddress', args: [agentId] }),
    ).toBe(safe)

    // Safe: the owners and threshold given (the agent's key is not among them), the canonical
    // fallback handler, and the agent module as its only module, holding the agent's key and policy.
    expect(await readSafe(safe, 'getOwners')).toEqual([agentOwner.address])
    expect(await readSafe(safe, 'getThreshold')).toBe(1n)
    expect(await readSafe(safe, 'nonce')).toBe(0n)
    expect(await publicClient.readContract({ address: safe, abi: safeAbi, functionName: 'VERSION' })).toBe(
      '1.4.1',
    )
    const handler = await publicClient.getStorageAt({ address: safe, slot: fallbackHandlerSlot })
    expect(getAddress(`0x${handler!.slice(-40)}`)).toBe(safeAddresses.fallbackHandler)
    expect(
      await publicClient.readContract({
        address: safe,
        abi: safeAbi,
        functionName: 'getModulesPaginated',
        args: ['0x0000000000000000000000000000000000000001', 10n],
      }),
    ).toEqual([[contracts.module], '0x0000000000000000000000000000000000000001'])
    expect(await agentOf(safe)).toEqual({
      key: agentKey.address,
      nonce: 0n,
      paused: false,
      restricted: false,
    })
    for (const token of [contracts.devUSD, zeroAddress])
      expect(
        await publicClient.readContract({
          address: contracts.module,
          abi: agentModuleAbi,
          functionName: 'limitOf',
          args: [safe, token],
        }),
      ).toEqual({ perCall: 2n ** 96n - 1n, perPeriod: 2n ** 96n - 1n, period: 0, enabled: true })

    // Token-bound account: a registry proxy of AgentAccount, owned by the identity's holder.
    const accountContract = { address: account, abi: agentAccountAbi } as const
    expect(await publicClient.readContract({ ...accountContract, functionName: 'token' })).toEqual([
      BigInt(chainId),
      contracts.identityRegistry,
      agentId,
    ])
    expect(await publicClient.readContract({ ...accountContract, functionName: 'owner' })).toBe(
      agentOwner.address,
    )

    // Events, in order, each naming the addresses it concerns.
    const events = parseEventLogs({ abi: launchEventsAbi, logs: receipt.logs })
    expect(events.map((event) => event.eventName)).toEqual([
      'EnabledModule',
      'AgentKeySet',
      'LimitSet',
      'LimitSet',
      'SafeSetup',
      'ProxyCreation',
      'Transfer',
      'Registered',
      'AgentWalletSet',
      'MetadataSet',
      'ERC6551AccountCreated',
      'AgentLaunched',
    ])
    const byName = Object.fromEntries(events.map((event) => [event.eventName, event]))
    // The Safe enabled the module and wrote its agent to it itself, from inside its setup.
    expect(byName.EnabledModule!.address).toBe(safe.toLowerCase())
    expect(byName.EnabledModule!.args).toEqual({ module: contracts.module })
    expect(byName.AgentKeySet!.address).toBe(contracts.module.toLowerCase())
    expect(byName.AgentKeySet!.args).toEqual({ safe, key: agentKey.address })
    expect(events.filter((event) => event.eventName === 'LimitSet').map((event) => event.args)).toEqual(
      [contracts.devUSD, zeroAddress].map((token) => ({
        safe,
        token,
        perCall: 2n ** 96n - 1n,
        perPeriod: 2n ** 96n - 1n,
        period: 0,
      })),
    )
    expect(byName.SafeSetup!.address).toBe(safe.toLowerCase())
    expect(byName.SafeSetup!.args).toMatchObject({
      initiator: safeAddresses.safeProxyFactory,
      owners: [agentOwner.address],
      threshold: 1n,
      // The setup's delegatecall target: the factory's `setUpAgent`.
      initializer: contracts.factory,
      fallbackHandler: safeAddresses.fallbackHandler,
    })
    expect(byName.ProxyCreation!.args).toEqual({ proxy: safe, singleton: safeAddresses.safeSingleton })
    expect(byName.Transfer!.args).toEqual({ from: zeroAddress, to: agentOwner.address, tokenId: agentId })
    expect(byName.AgentWalletSet!.args).toEqual({ agentId, wallet: safe, setBy: contracts.factory })
    // ERC-8004 readers see the Safe as the agent's `agentWallet` entry: its 20 bytes.
    expect(byName.MetadataSet!.args).toEqual({
      agentId,
      indexedMetadataKey: keccak256(stringToHex('agentWallet')),
      metadataKey: 'agentWallet',
      metadataValue: safe.toLowerCase(),
    })
    expect(byName.AgentLaunched!.args).toEqual({
      agentId,
      owner: agentOwner.address,
      safe,
      account,
      salt: params.salt,
    })
  })

  test('behavior: a multi-owner Safe keeps its owners and threshold', async () => {
    const owners = [agentOwner.address, stranger.address, otherLauncher.address]
    const { safe, receipt } = await launch(launcher, launchParams({ safeOwners: owners, threshold: 2n }))
    expect(await readSafe(safe, 'getOwners')).toEqual(owners)
    expect(await readSafe(safe, 'getThreshold')).toBe(2n)
    expect(receipt.gasUsed).toMatchInlineSnapshot(`664993n`)
  })

  test('behavior: the owner may be someone other than the caller and need not own the Safe', async () => {
    const { agentId, safe, account } = await launch(
      launcher,
      launchParams({ owner: stranger.address, safeOwners: [agentOwner.address] }),
    )
    expect(
      await publicClient.readContract({
        address: contracts.identityRegistry,
        abi: agentIdentityRegistryAbi,
        functionName: 'ownerOf',
        args: [agentId],
      }),
    ).toBe(stranger.address)
    expect(await readSafe(safe, 'getOwners')).toEqual([agentOwner.address])
    expect(
      await publicClient.readContract({ address: account, abi: agentAccountAbi, functionName: 'owner' }),
    ).toBe(stranger.address)
  })

  test('behavior: the same caller and salt cannot launch twice; other callers or salts can', async () => {
    const params = launchParams()
    const first = await launch(launcher, params)

    // Safe's proxy factory refuses to CREATE2 over the existing Safe.
    expect(await revertOf(simulateLaunch(launcher, params))).toEqual({
      name: 'Error',
      args: ['Create2 call failed'],
    })
    // A different URI or owner does not help: the Safe's address depends on the caller, salt and Safe setup only.
    expect(
      await revertOf(
        simulateLaunch(launcher, { ...params, agentURI: 'ipfs://other', owner: stranger.address }),
      ),
    ).toEqual({ name: 'Error', args: ['Create2 call failed'] })

    const sameSaltOtherCaller = await launch(otherLauncher, params)
    const otherSalt = await launch(launcher, { ...params, salt: pad('0x02') })
    const safes = new Set([first.safe, sameSaltOtherCaller.safe, otherSalt.safe])
    expect(safes.size).toBe(3)
    expect(sameSaltOtherCaller.safe).toBe(await predictSafe(otherLauncher.address, params))
    expect([first.agentId, sameSaltOtherCaller.agentId, otherSalt.agentId]).toEqual([1n, 2n, 3n])
  })

  test('behavior: the retry guard covers an identical Safe setup only', async () => {
    // The Safe's CREATE2 salt hashes the initializer too, so a retry with the same salt but other
    // Safe owners, threshold, agent key or policy lands elsewhere and launches a second agent.
    const params = launchParams()
    const first = await launch(launcher, params)
    const retry = await launch(launcher, { ...params, safeOwners: [agentOwner.address, stranger.address] })
    expect(retry.safe).not.toBe(first.safe)
    expect(retry.agentId).toBe(first.agentId + 1n)
    const otherKey = await launch(launcher, { ...params, agentKey: stranger.address })
    const otherPolicy = await launch(launcher, { ...params, policy: unlimitedPolicy([contracts.devUSD]) })
    expect(new Set([first.safe, retry.safe, otherKey.safe, otherPolicy.safe]).size).toBe(4)
    expect(await agentOf(otherKey.safe)).toMatchObject({ key: stranger.address })
  })

  test('behavior: a launch cannot be front-run: deploying its Safe first fails, the launch goes through', async () => {
    // Anyone can copy a pending launch's initializer and salt nonce into the proxy factory, with a
    // higher tip. The Safe's setup asks the factory whether it is launching it, so that copy reverts.
    const params = launchParams()
    const predicted = await predictSafe(launcher.address, params)
    const [initializer, saltNonce] = await Promise.all([
      publicClient.readContract({
        address: contracts.factory,
        abi: agentFactoryAbi,
        functionName: 'safeInitializer',
        args: [params],
      }),
      publicClient.readContract({
        address: contracts.factory,
        abi: agentFactoryAbi,
        functionName: 'saltNonce',
        args: [launcher.address, params.salt],
      }),
    ])
    const frontRun = await publicClient.waitForTransactionReceipt({
      hash: await walletClient.writeContract({
        address: safeAddresses.safeProxyFactory,
        abi: safeProxyFactoryAbi,
        functionName: 'createProxyWithNonce',
        args: [safeAddresses.safeSingleton, initializer, saltNonce],
        account: stranger,
        chain: devnet.chain,
        gas: 1_000_000n,
      }),
    })
    expect(frontRun.status).toBe('reverted')
    expect(await publicClient.getCode({ address: predicted })).toBeUndefined()

    const { safe, agentId } = await launch(launcher, params)
    expect(safe).toBe(predicted)
    expect(await readSafe(safe, 'getOwners')).toEqual(params.safeOwners)
    expect(
      await publicClient.readContract({
        address: contracts.identityRegistry,
        abi: agentIdentityRegistryAbi,
        functionName: 'paymentAddress',
        args: [agentId],
      }),
    ).toBe(safe)
  })

  test('behavior: the Safe set-up refuses a call outside a launch', async () => {
    expect(
      await revertOf(
        publicClient.simulateContract({
          address: contracts.factory,
          abi: agentFactoryAbi,
          functionName: 'setUpAgent',
          args: [stranger.address, unlimitedPolicy([contracts.devUSD])],
          account: stranger,
        }),
      ),
    ).toEqual({ name: 'FactoryNotLaunching', args: undefined })
    expect(
      await publicClient.readContract({
        address: contracts.factory,
        abi: agentFactoryAbi,
        functionName: 'launching',
      }),
    ).toBe(false)
  })

  test('error: FactoryNoSafeOwners', async () => {
    expect(await revertOf(simulateLaunch(launcher, launchParams({ safeOwners: [], threshold: 0n })))).toEqual(
      {
        name: 'FactoryNoSafeOwners',
        args: undefined,
      },
    )
  })

  test('error: FactoryNoAgentKey', async () => {
    expect(await revertOf(simulateLaunch(launcher, launchParams({ agentKey: zeroAddress })))).toEqual({
      name: 'FactoryNoAgentKey',
      args: undefined,
    })
  })

  test('error: ModuleInvalidLimit for a limit on the Safe, the module or the economy rolls the launch back', async () => {
    // Safe's proxy factory drops the reason when setup reverts; the trace shows the module's error.
    // (A limit on the Safe itself cannot be written into its own launch: the policy fixes its address.)
    for (const token of [contracts.module, contracts.economy]) {
      const refused = launchParams({ policy: policyChange({ setLimits: [unlimitedIn(token)] }) })
      const error = await revertOf(simulateLaunch(launcher, refused))
      expect(error.name).toBeUndefined()
      const data = await nestedRevertData(launcher.address, refused)
      const safe = await predictSafe(launcher.address, refused)
      expect(data).toContain(
        encodeErrorResult({ abi: agentModuleAbi, errorName: 'ModuleInvalidLimit', args: [safe, token] }),
      )
    }
  })

  test('error: FactoryInvalidThreshold for a threshold of zero or above the owner count', async () => {
    for (const threshold of [0n, 2n]) {
      expect(await revertOf(simulateLaunch(launcher, launchParams({ threshold })))).toEqual({
        name: 'FactoryInvalidThreshold',
        args: [threshold, 1n],
      })
    }
  })

  test('error: Safe setup refuses a bad owner list (GS203, GS204)', async () => {
    const cases: [Partial<LaunchParams>, string][] = [
      [{ safeOwners: [zeroAddress] }, 'GS203'],
      // Adjacent duplicates are caught as GS203; others as GS204.
      [{ safeOwners: [agentOwner.address, agentOwner.address] }, 'GS203'],
      [{ safeOwners: [agentOwner.address, stranger.address, agentOwner.address] }, 'GS204'],
    ]
    for (const [overrides, reason] of cases) {
      const params = launchParams(overrides)
      // The proxy factory reverts without data when setup fails; the trace shows Safe's reason.
      const error = await revertOf(simulateLaunch(launcher, params))
      expect(error.name).toBeUndefined()
      expect(await nestedRevertReasons(launcher.address, params)).toContain(reason)
    }
  })

  test('error: the registry refuses a zero owner, and the whole launch rolls back', async () => {
    const params = launchParams({ owner: zeroAddress })
    const error = await revertOf(
      publicClient.simulateContract({
        address: contracts.factory,
        abi: [...agentFactoryAbi, ...agentIdentityRegistryAbi.filter((item) => item.type === 'error')],
        functionName: 'launch',
        args: [params],
        account: launcher,
      }),
    )
    expect(error).toEqual({ name: 'IdentityZeroAddress', args: undefined })
  })

  test('error: a factory the registry no longer trusts cannot launch', async () => {
    const deployer = privateKeyToAccount(devnet.manifest.accounts[0]!.privateKey)
    await mined(
      walletClient.writeContract({
        address: contracts.identityRegistry,
        abi: agentIdentityRegistryAbi,
        functionName: 'setLauncher',
        args: [contracts.factory, false],
        account: deployer,
        chain: devnet.chain,
      }),
    )
    const error = await revertOf(
      publicClient.simulateContract({
        address: contracts.factory,
        abi: [...agentFactoryAbi, ...agentIdentityRegistryAbi.filter((item) => item.type === 'error')],
        functionName: 'launch',
        args: [launchParams()],
        account: launcher,
      }),
    )
    expect(error).toEqual({ name: 'IdentityNotLauncher', args: [contracts.factory] })
  })
})

describe('launched Safe', () => {
  test('default: its owner executes a transfer signed and sent with protocol-kit', async () => {
    const { safe } = await launch(launcher, launchParams())
    await mined(
      walletClient.sendTransaction({
        to: safe,
        value: parseEther('1'),
        account: stranger,
        chain: devnet.chain,
      }),
    )
    const to = recipient('safe transfer recipient')

    const kit = await safeKit(agentOwner, safe)
    expect(await kit.getAddress()).toBe(safe)
    expect(await kit.getOwners()).toEqual([agentOwner.address])
    expect(await kit.getThreshold()).toBe(1)
    expect(await kit.getModules()).toEqual([contracts.module])
    expect(await kit.isModuleEnabled(contracts.module)).toBe(true)
    const transaction = await kit.createTransaction({
      transactions: [{ to, value: parseEther('0.25').toString(), data: '0x' }],
    })
    const signed = await kit.signTransaction(transaction)
    const executorBalance = await publicClient.getBalance({ address: agentOwner.address })
    const result = await kit.executeTransaction(signed)
    const receipt = await publicClient.waitForTransactionReceipt({ hash: result.hash as Hex })
    expect(receipt.status).toBe('success')
    expect(receipt.from).toBe(agentOwner.address.toLowerCase())

    expect(await publicClient.getBalance({ address: to })).toBe(parseEther('0.25'))
    expect(await publicClient.getBalance({ address: safe })).toBe(parseEther('0.75'))
    // The Safe pays no gas (no refund configured); the owner who sent it does.
    expect(await publicClient.getBalance({ address: agentOwner.address })).toBe(
      executorBalance - receipt.gasUsed * receipt.effectiveGasPrice,
    )
    expect(await readSafe(safe, 'nonce')).toBe(1n)
    const executed = parseEventLogs({ abi: safeAbi, logs: receipt.logs, eventName: 'ExecutionSuccess' })
    expect(executed).toHaveLength(1)
  })

  test('behavior: a 2-of-3 Safe needs two owners to sign', async () => {
    const owners = [agentOwner.address, stranger.address, otherLauncher.address]
    const { safe } = await launch(launcher, launchParams({ safeOwners: owners, threshold: 2n }))
    await mined(
      walletClient.sendTransaction({
        to: safe,
        value: parseEther('1'),
        account: launcher,
        chain: devnet.chain,
      }),
    )
    const to = recipient('two of three recipient')

    const first = await safeKit(agentOwner, safe)
    const transaction = await first.createTransaction({
      transactions: [{ to, value: parseEther('0.1').toString(), data: '0x' }],
    })
    const signedOnce = await first.signTransaction(transaction)
    await expect(first.executeTransaction(signedOnce)).rejects.toThrow(/1 signature missing/)

    const second = await safeKit(stranger, safe)
    const signedTwice = await second.signTransaction(signedOnce)
    expect(signedTwice.signatures.size).toBe(2)
    const result = await second.executeTransaction(signedTwice)
    await publicClient.waitForTransactionReceipt({ hash: result.hash as Hex })
    expect(await publicClient.getBalance({ address: to })).toBe(parseEther('0.1'))
  })

  test('behavior: signs messages for ERC-1271 that viem verifies', async () => {
    const { safe } = await launch(launcher, launchParams())
    const kit = await safeKit(agentOwner, safe)
    const message = 'Agora: I accept job 7 for 10 dUSD'
    const signed = await kit.signMessage(kit.createMessage(message))
    const signature = signed.encodedSignatures() as Hex
    expect(signature).toBe(buildSignatureBytes([...signed.signatures.values()]))

    // The Safe answers ERC-1271 through its CompatibilityFallbackHandler.
    expect(
      await publicClient.readContract({
        address: safe,
        abi: isValidSignatureAbi,
        functionName: 'isValidSignature',
        args: [hashMessage(message), signature],
      }),
    ).toBe('0x1626ba7e')
    expect(await publicClient.verifyMessage({ address: safe, message, signature })).toBe(true)
    expect(await publicClient.verifyMessage({ address: safe, message: `${message}!`, signature })).toBe(false)

    // The same owner's signature does not speak for a Safe it does not own.
    const { safe: otherSafe } = await launch(
      launcher,
      launchParams({ safeOwners: [stranger.address], salt: pad('0x02') }),
    )
    expect(await publicClient.verifyMessage({ address: otherSafe, message, signature })).toBe(false)
    // Nor does the agent's key speak for its own Safe: it is not an owner.
    const safeMessageHash = (await kit.getSafeMessageHash(hashMessage(message))) as Hex
    const agentSignature = await agentKey.sign({ hash: safeMessageHash })
    expect(await publicClient.verifyMessage({ address: safe, message, signature: agentSignature })).toBe(
      false,
    )
  })
})

describe('launched token-bound account', () => {
  test('default: the identity holder signs for it (ERC-1271) and executes through it', async () => {
    const { account } = await launch(launcher, launchParams({ safeOwners: [stranger.address] }))
    const hash = hashMessage('Agora: agent account terms v1')
    const digest = await publicClient.readContract({
      address: account,
      abi: agentAccountAbi,
      functionName: 'messageHash',
      args: [hash],
    })
    const signature = await agentOwner.sign({ hash: digest })
    expect(await publicClient.verifyHash({ address: account, hash, signature })).toBe(true)
    // Only the holder of the identity speaks for the account, not the Safe's owner nor the agent's key.
    for (const other of [stranger, agentKey])
      expect(
        await publicClient.verifyHash({
          address: account,
          hash,
          signature: await other.sign({ hash: digest }),
        }),
      ).toBe(false)

    await mined(
      walletClient.sendTransaction({
        to: account,
        value: parseEther('1'),
        account: stranger,
        chain: devnet.chain,
      }),
    )
    const to = recipient('account payout')
    await mined(
      walletClient.writeContract({
        address: account,
        abi: agentAccountAbi,
        functionName: 'execute',
        args: [to, parseEther('0.4'), '0x', 0],
        account: agentOwner,
        chain: devnet.chain,
      }),
    )
    expect(await publicClient.getBalance({ address: to })).toBe(parseEther('0.4'))
    expect(await publicClient.getBalance({ address: account })).toBe(parseEther('0.6'))
  })

  test('behavior: transferring the identity moves the account and unbinds the Safe', async () => {
    const { agentId, safe, account } = await launch(launcher, launchParams())
    const receipt = await mined(
      walletClient.writeContract({
        address: contracts.identityRegistry,
        abi: agentIdentityRegistryAbi,
        functionName: 'transferFrom',
        args: [agentOwner.address, stranger.address, agentId],
        account: agentOwner,
        chain: devnet.chain,
      }),
    )
    const unbound = parseEventLogs({
      abi: agentIdentityRegistryAbi,
      logs: receipt.logs,
      eventName: 'AgentWalletSet',
    })
    expect(unbound.map((event) => event.args)).toEqual([
      { agentId, wallet: zeroAddress, setBy: agentOwner.address },
    ])
    const registry = { address: contracts.identityRegistry, abi: agentIdentityRegistryAbi } as const
    expect(
      await publicClient.readContract({ ...registry, functionName: 'getAgentWallet', args: [agentId] }),
    ).toBe(zeroAddress)
    expect(
      await publicClient.readContract({ ...registry, functionName: 'paymentAddress', args: [agentId] }),
    ).toBe(stranger.address)
    expect(
      await publicClient.readContract({ address: account, abi: agentAccountAbi, functionName: 'owner' }),
    ).toBe(stranger.address)
    // The Safe itself is untouched: it still belongs to its owners, and its agent keeps its key.
    expect(await readSafe(safe, 'getOwners')).toEqual([agentOwner.address])
    expect(await agentOf(safe)).toMatchObject({ key: agentKey.address })
  })
})

type Party = 'launcher' | 'agentOwner' | 'agentKey' | 'stranger'
/** A call, made as the given account. */
type Write = (account: PrivateKeyAccount) => Promise<Hex>

/**
 * Who may call what on a launched agent: only the holder of the identity acts through its account,
 * not the Safe's owner nor whoever launched it. (`launch` itself is open to anyone: the caller only
 * salts the Safe's address.)
 */
const access: AccessRule<Party, Write>[] = [
  {
    fn: 'execute on the launched account',
    allowed: ['agentOwner'],
    refused: ['agentKey', 'launcher', 'stranger'],
    error: 'AgentAccountUnauthorized',
    arrange: async (caller) => {
      const { account } = await launch(launcher, launchParams())
      await mined(
        walletClient.sendTransaction({ to: account, value: 1n, account: stranger, chain: devnet.chain }),
      )
      const to = recipient('account payout')
      return {
        call: (as) =>
          walletClient.writeContract({
            address: account,
            abi: agentAccountAbi,
            functionName: 'execute',
            args: [to, 1n, '0x', 0],
            account: as,
            chain: devnet.chain,
          }),
        errorArgs: [caller],
      }
    },
  },
]

describe('access control', () => {
  testAccessControl(access, {
    account: (party) => ({ launcher, agentOwner, agentKey, stranger })[party],
    succeeds: (account, write) => mined(write(account)),
    revertOf: (account, write) => revertOf(write(account)),
  })
})
