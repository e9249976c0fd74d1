import protocolKit, { buildSignatureBytes } from '@safe-global/protocol-kit'
import {
  type Address,
  createPublicClient,
  createTestClient,
  createWalletClient,
  encodeAbiParameters,
  encodePacked,
  getAddress,
  getContract,
  type Hex,
  hashTypedData,
  http,
  keccak256,
  pad,
  parseEventLogs,
  size,
  stringToHex,
  type TransactionReceipt,
  toHex,
  zeroAddress,
} from 'viem'
import { type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { type Devnet, safeContractNetworks, startDevnet } from '../src/devnet.ts'
import { agentFactoryAbi } from '../src/generated/AgentFactory.ts'
import { agentIdentityRegistryAbi } from '../src/generated/AgentIdentityRegistry.ts'
import { erc6551RegistryAbi } from '../src/generated/ERC6551Registry.ts'
import { type AccessRule, testAccessControl } from './access-control.ts'
import { unlimitedPolicy } from './agent-module-calls.ts'
import { revertOf } from './revert.ts'

/**
 * protocol-kit ships one CommonJS-flavoured `.d.ts`, so under NodeNext TypeScript sees the Safe class at
 * `default.default`, while Node loads its ES module build, whose default export is the class itself.
 */
const Safe = ('init' in protocolKit ? protocolKit : protocolKit.default) as typeof protocolKit.default

let devnet: Devnet
let publicClient: ReturnType<typeof createPublicClient>
let testClient: ReturnType<typeof createTestClient>
let registryOwner: PrivateKeyAccount
let alice: PrivateKeyAccount
let bob: PrivateKeyAccount
let operator: PrivateKeyAccount
let stranger: PrivateKeyAccount
let wallet: PrivateKeyAccount
let cosigner: PrivateKeyAccount
let registryAddress: Address
let chainId: number
let snapshot: Hex

beforeAll(async () => {
  devnet = await startDevnet({ log: () => {} })
  const transport = http(devnet.rpcUrl)
  publicClient = createPublicClient({ chain: devnet.chain, transport })
  testClient = createTestClient({ chain: devnet.chain, mode: 'anvil', transport })
  ;[registryOwner, alice, bob, operator, stranger, wallet, cosigner] = devnet.manifest.accounts
    .slice(0, 7)
    .map(({ privateKey }) => privateKeyToAccount(privateKey)) as [
    PrivateKeyAccount,
    PrivateKeyAccount,
    PrivateKeyAccount,
    PrivateKeyAccount,
    PrivateKeyAccount,
    PrivateKeyAccount,
    PrivateKeyAccount,
  ]
  expect(registryOwner.address).toBe(devnet.manifest.deployer)
  registryAddress = devnet.manifest.contracts.identityRegistry
  chainId = devnet.manifest.chainId
})

afterAll(async () => {
  await devnet?.stop()
})

// Every test starts from the freshly deployed registry: no agents, ids from 1.
beforeEach(async () => {
  snapshot = await testClient.snapshot()
})

afterEach(async () => {
  await testClient.revert({ id: snapshot })
})

/** The registry, writing as `account` (reads ignore it). */
function registry(account: PrivateKeyAccount = registryOwner) {
  return getContract({
    address: registryAddress,
    abi: agentIdentityRegistryAbi,
    client: {
      public: publicClient,
      wallet: createWalletClient({ account, chain: devnet.chain, transport: http(devnet.rpcUrl) }),
    },
  })
}

async function mined(hash: Promise<Hex>): Promise<TransactionReceipt> {
  const receipt = await publicClient.waitForTransactionReceipt({ hash: await hash })
  expect(receipt.status).toBe('success')
  return receipt
}

function events(receipt: TransactionReceipt) {
  return parseEventLogs({ abi: agentIdentityRegistryAbi, logs: receipt.logs }).map(({ eventName, args }) => ({
    eventName,
    args,
  }))
}

/** The `agentWallet` metadata value: the wallet's 20 bytes, empty for none (how viem decodes `bytes`). */
function walletBytes(address: Address): Hex {
  return address === zeroAddress ? '0x' : (address.toLowerCase() as Hex)
}

/** The `MetadataSet` event that announces `agentId`'s wallet as its `agentWallet` entry. */
function walletMetadataSet(agentId: bigint, address: Address) {
  return {
    eventName: 'MetadataSet',
    args: {
      agentId,
      indexedMetadataKey: keccak256(stringToHex('agentWallet')),
      metadataKey: 'agentWallet',
      metadataValue: walletBytes(address),
    },
  }
}

/** Binds `signer` as `agentId`'s wallet with its consent, submitted by `owner`, who holds the agent. */
async function bindWallet(owner: PrivateKeyAccount, agentId: bigint, signer: PrivateKeyAccount) {
  const deadline = await deadlineIn(3600)
  return mined(
    registry(owner).write.setAgentWallet([
      agentId,
      signer.address,
      deadline,
      await signConsent(signer, agentId, owner.address, deadline),
    ]),
  )
}

/** Registers an agent for `owner` and returns its id (read from the `Registered` event). */
async function register(owner: PrivateKeyAccount, agentURI = ''): Promise<bigint> {
  const receipt = await mined(registry(owner).write.register([agentURI]))
  const [registered] = parseEventLogs({
    abi: agentIdentityRegistryAbi,
    logs: receipt.logs,
    eventName: 'Registered',
  })
  return registered!.args.agentId
}

/** A constant deadline (2100-01-01) where gas is measured: the signature bytes, and so the gas, depend on it. */
const fixedDeadline = 4_102_444_800n

async function deadlineIn(seconds: number): Promise<bigint> {
  const { timestamp } = await publicClient.getBlock()
  return timestamp + BigInt(seconds)
}

/** The consent digest `wallet` signs to be bound to `agentId` while `owner` holds it. */
function walletDigest(agentId: bigint, newWallet: Address, owner: Address, deadline: bigint) {
  return registry().read.agentWalletDigest([agentId, newWallet, owner, deadline])
}

/** EIP-712 types of the wallet consent. */
const consentTypes = {
  AgentWalletSet: [
    { name: 'agentId', type: 'uint256' },
    { name: 'newWallet', type: 'address' },
    { name: 'owner', type: 'address' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const

/** An EOA wallet's EIP-712 consent to be bound to `agentId` while `owner` holds it, at the agent's current nonce. */
async function signConsent(signer: PrivateKeyAccount, agentId: bigint, owner: Address, deadline: bigint) {
  const nonce = await registry().read.walletNonce([agentId])
  return signer.signTypedData({
    domain: { name: 'AgentIdentityRegistry', version: '1', chainId, verifyingContract: registryAddress },
    types: consentTypes,
    primaryType: 'AgentWalletSet',
    message: { agentId, newWallet: signer.address, owner, nonce, deadline },
  })
}

/**
 * Launches an agent through the factory just to get a real Safe with these owners (its agent's key,
 * which is not an owner, is the operator's; its policy lets it spend dUSD and ETH).
 */
async function launchSafe(safeOwners: Address[], threshold: bigint): Promise<Address> {
  const params = {
    owner: stranger.address,
    agentURI: '',
    safeOwners,
    threshold,
    salt: pad(toHex(safeOwners.length)),
    agentKey: operator.address,
    policy: unlimitedPolicy([devnet.manifest.contracts.devUSD, zeroAddress]),
  }
  const { result, request } = await publicClient.simulateContract({
    address: devnet.manifest.contracts.factory,
    abi: agentFactoryAbi,
    functionName: 'launch',
    args: [params],
    account: stranger,
  })
  await mined(
    createWalletClient({ chain: devnet.chain, transport: http(devnet.rpcUrl) }).writeContract(request),
  )
  return result[1]
}

function safeKit(signer: PrivateKeyAccount, safeAddress: Address) {
  const key = devnet.manifest.accounts.find((account) => account.address === signer.address)!.privateKey
  return Safe.init({
    provider: devnet.rpcUrl,
    signer: key,
    safeAddress,
    contractNetworks: safeContractNetworks(chainId, devnet.manifest.safe),
  })
}

describe('register', () => {
  test('default: ids start at 1; the caller gets the token; Transfer and Registered are emitted', async () => {
    expect(await registry().read.nextAgentId()).toBe(1n)
    const receipt = await mined(registry(alice).write.register(['ipfs://alice-agent']))
    expect(events(receipt)).toEqual([
      { eventName: 'Transfer', args: { from: zeroAddress, to: alice.address, tokenId: 1n } },
      {
        eventName: 'Registered',
        args: { agentId: 1n, agentURI: 'ipfs://alice-agent', owner: alice.address },
      },
    ])
    expect(receipt.gasUsed).toMatchInlineSnapshot(`99380n`)

    expect(await register(bob)).toBe(2n)
    expect(await register(alice, 'https://alice.example/agent.json')).toBe(3n)
    expect(await registry().read.nextAgentId()).toBe(4n)
    expect(await registry().read.ownerOf([1n])).toBe(alice.address)
    expect(await registry().read.ownerOf([2n])).toBe(bob.address)
    expect(await registry().read.balanceOf([alice.address])).toBe(2n)
    expect(await registry().read.name()).toBe('Agora Agent')
    expect(await registry().read.symbol()).toBe('AGENT')
  })

  test('behavior: nextAgentId does not move on a failed registration', async () => {
    await register(alice)
    await revertOf(registry(stranger).write.registerWithWallet([alice.address, '', wallet.address]))
    expect(await registry().read.nextAgentId()).toBe(2n)
  })
})

describe('tokenURI', () => {
  test('default: the agent’s own URI, else base URI ++ id', async () => {
    const own = await register(alice, 'ipfs://bafy-own')
    const none = await register(alice)
    expect(await registry().read.tokenURI([own])).toBe('ipfs://bafy-own')
    // OpenZeppelin's ERC-721 gives an empty URI while the base is empty.
    expect(await registry().read.tokenURI([none])).toBe('')

    await mined(registry(registryOwner).write.setBaseURI(['https://agora.example/agents/']))
    expect(await registry().read.tokenURI([none])).toBe(`https://agora.example/agents/${none}`)
    expect(await registry().read.tokenURI([own])).toBe('ipfs://bafy-own')

    // Setting an empty own URI falls back to the base again.
    await mined(registry(alice).write.setAgentURI([own, '']))
    expect(await registry().read.tokenURI([own])).toBe(`https://agora.example/agents/${own}`)
  })

  test('error: ERC721NonexistentToken for an unknown agent', async () => {
    expect(await revertOf(registry().read.tokenURI([7n]))).toEqual({
      name: 'ERC721NonexistentToken',
      args: [7n],
    })
  })
})

describe('setBaseURI', () => {
  test('default: the registry owner sets it; emits BaseURISet', async () => {
    const receipt = await mined(registry(registryOwner).write.setBaseURI(['https://agora.example/a/']))
    expect(events(receipt)).toEqual([
      { eventName: 'BaseURISet', args: { baseURI: 'https://agora.example/a/' } },
    ])
  })
})

describe('baseURI', () => {
  test('default: empty until set; then what was set last', async () => {
    expect(await registry().read.baseURI()).toBe('')
    await mined(registry(registryOwner).write.setBaseURI(['https://agora.example/agents/']))
    expect(await registry().read.baseURI()).toBe('https://agora.example/agents/')
    const agentId = await register(alice)
    expect(await registry().read.tokenURI([agentId])).toBe(`${await registry().read.baseURI()}${agentId}`)
    await mined(registry(registryOwner).write.setBaseURI(['']))
    expect(await registry().read.baseURI()).toBe('')
  })
})

describe('setAgentURI', () => {
  test('default: the owner moves the registration file; emits URIUpdated', async () => {
    const agentId = await register(alice, 'ipfs://v1')
    const receipt = await mined(registry(alice).write.setAgentURI([agentId, 'ipfs://v2']))
    expect(events(receipt)).toEqual([
      { eventName: 'URIUpdated', args: { agentId, newURI: 'ipfs://v2', updatedBy: alice.address } },
    ])
    expect(await registry().read.tokenURI([agentId])).toBe('ipfs://v2')
  })

  test('behavior: an approved address or operator may update it', async () => {
    const agentId = await register(alice, 'ipfs://v1')
    await mined(registry(alice).write.approve([bob.address, agentId]))
    await mined(registry(bob).write.setAgentURI([agentId, 'ipfs://by-approved']))
    await mined(registry(alice).write.setApprovalForAll([operator.address, true]))
    const receipt = await mined(registry(operator).write.setAgentURI([agentId, 'ipfs://by-operator']))
    expect(events(receipt)[0]!.args).toEqual({
      agentId,
      newURI: 'ipfs://by-operator',
      updatedBy: operator.address,
    })
    expect(await registry().read.tokenURI([agentId])).toBe('ipfs://by-operator')
  })

  test('error: IdentityUnknownAgent for an unknown id', async () => {
    expect(await revertOf(registry(alice).write.setAgentURI([99n, 'ipfs://x']))).toEqual({
      name: 'IdentityUnknownAgent',
      args: [99n],
    })
  })
})

describe('setMetadata and getMetadata', () => {
  test('default: writes and reads entries; emits MetadataSet', async () => {
    const agentId = await register(alice)
    const value = stringToHex('https://alice.example/a2a')
    const receipt = await mined(registry(alice).write.setMetadata([agentId, 'a2a', value]))
    expect(events(receipt)).toEqual([
      {
        eventName: 'MetadataSet',
        args: {
          agentId,
          indexedMetadataKey: keccak256(stringToHex('a2a')),
          metadataKey: 'a2a',
          metadataValue: value,
        },
      },
    ])
    expect(await registry().read.getMetadata([agentId, 'a2a'])).toBe(value)
    expect(await registry().read.getMetadata([agentId, 'missing'])).toBe('0x')

    await mined(registry(alice).write.approve([bob.address, agentId]))
    await mined(registry(bob).write.setMetadata([agentId, 'a2a', '0x']))
    expect(await registry().read.getMetadata([agentId, 'a2a'])).toBe('0x')
  })

  test('behavior: agentWallet reads the bound wallet’s 20 bytes, and empty bytes while none is bound', async () => {
    const agentId = await register(alice)
    const agentWallet = () => registry().read.getMetadata([agentId, 'agentWallet'])
    expect(await agentWallet()).toBe('0x')
    // Unknown agents have no wallet either.
    expect(await registry().read.getMetadata([99n, 'agentWallet'])).toBe('0x')

    await bindWallet(alice, agentId, wallet)
    const bound = await agentWallet()
    expect(size(bound)).toBe(20)
    expect(getAddress(bound)).toBe(wallet.address)
    expect(bound).toBe(encodePacked(['address'], [wallet.address]).toLowerCase())

    await bindWallet(alice, agentId, cosigner)
    expect(getAddress(await agentWallet())).toBe(cosigner.address)
    await mined(registry(alice).write.unsetAgentWallet([agentId]))
    expect(await agentWallet()).toBe('0x')
    await bindWallet(alice, agentId, wallet)
    await mined(registry(alice).write.transferFrom([alice.address, bob.address, agentId]))
    expect(await agentWallet()).toBe('0x')
  })

  test('behavior: a launched agent reads its Safe as agentWallet', async () => {
    const safe = await launchSafe([wallet.address], 1n)
    const agentId = (await registry().read.nextAgentId()) - 1n
    expect(await registry().read.getAgentWallet([agentId])).toBe(safe)
    expect(getAddress(await registry().read.getMetadata([agentId, 'agentWallet']))).toBe(safe)
  })

  test('error: IdentityReservedMetadataKey, IdentityUnknownAgent', async () => {
    const agentId = await register(alice)
    const fake = encodeAbiParameters([{ type: 'address' }], [stranger.address])
    expect(await revertOf(registry(alice).write.setMetadata([agentId, 'agentWallet', fake]))).toEqual({
      name: 'IdentityReservedMetadataKey',
      args: ['agentWallet'],
    })
    expect(await revertOf(registry(alice).write.setMetadata([5n, 'mcp', '0x01']))).toEqual({
      name: 'IdentityUnknownAgent',
      args: [5n],
    })
  })
})

describe('agentWalletDigest', () => {
  test('default: EIP-712 AgentWalletSet in the AgentIdentityRegistry v1 domain, at the agent’s nonce', async () => {
    const deadline = 1_900_000_000n
    const expected = (agentId: bigint, nonce: bigint) =>
      hashTypedData({
        domain: { name: 'AgentIdentityRegistry', version: '1', chainId, verifyingContract: registryAddress },
        types: consentTypes,
        primaryType: 'AgentWalletSet',
        message: { agentId, newWallet: wallet.address, owner: alice.address, nonce, deadline },
      })
    expect(await walletDigest(3n, wallet.address, alice.address, deadline)).toBe(expected(3n, 0n))
    expect(await registry().read.AGENT_WALLET_TYPEHASH()).toBe(
      keccak256(
        stringToHex(
          'AgentWalletSet(uint256 agentId,address newWallet,address owner,uint256 nonce,uint256 deadline)',
        ),
      ),
    )
    // Each binding by consent moves the nonce on; unbinding does not move it back.
    const agentId = await register(alice)
    const consent = await signConsent(wallet, agentId, alice.address, deadline)
    await mined(registry(alice).write.setAgentWallet([agentId, wallet.address, deadline, consent]))
    await mined(registry(alice).write.unsetAgentWallet([agentId]))
    expect(await registry().read.walletNonce([agentId])).toBe(1n)
    expect(await walletDigest(agentId, wallet.address, alice.address, deadline)).toBe(expected(agentId, 1n))
    const [, name, version, domainChainId, verifyingContract] = await registry().read.eip712Domain()
    expect({ name, version, domainChainId, verifyingContract }).toEqual({
      name: 'AgentIdentityRegistry',
      version: '1',
      domainChainId: BigInt(chainId),
      verifyingContract: registryAddress,
    })
  })
})

describe('setAgentWallet', () => {
  test('default: an EOA wallet consents with an EIP-712 signature', async () => {
    const agentId = await register(alice)
    const deadline = fixedDeadline
    const signature = await signConsent(wallet, agentId, alice.address, deadline)
    const digest = await walletDigest(agentId, wallet.address, alice.address, deadline)
    expect(await wallet.sign({ hash: digest })).toBe(signature)

    const receipt = await mined(
      registry(alice).write.setAgentWallet([agentId, wallet.address, deadline, signature]),
    )
    expect(events(receipt)).toEqual([
      { eventName: 'AgentWalletSet', args: { agentId, wallet: wallet.address, setBy: alice.address } },
      walletMetadataSet(agentId, wallet.address),
    ])
    expect(receipt.gasUsed).toMatchInlineSnapshot(`61814n`)
    expect(await registry().read.getAgentWallet([agentId])).toBe(wallet.address)
    expect(await registry().read.paymentAddress([agentId])).toBe(wallet.address)
  })

  test('behavior: an approved operator submits the consent, which names the owner', async () => {
    const agentId = await register(alice)
    await mined(registry(alice).write.setApprovalForAll([operator.address, true]))
    const deadline = await deadlineIn(3600)
    const naming = (owner: Address) => signConsent(wallet, agentId, owner, deadline)
    // A consent naming the operator instead of the holder does not count.
    expect(
      await revertOf(
        registry(operator).write.setAgentWallet([
          agentId,
          wallet.address,
          deadline,
          await naming(operator.address),
        ]),
      ),
    ).toEqual({ name: 'IdentityInvalidWalletSignature', args: [agentId, wallet.address] })
    const receipt = await mined(
      registry(operator).write.setAgentWallet([
        agentId,
        wallet.address,
        deadline,
        await naming(alice.address),
      ]),
    )
    expect(events(receipt)[0]!.args).toEqual({ agentId, wallet: wallet.address, setBy: operator.address })
  })

  test('behavior: rebinding announces the new wallet as agentWallet', async () => {
    const agentId = await register(alice)
    await bindWallet(alice, agentId, wallet)
    const receipt = await bindWallet(alice, agentId, cosigner)
    expect(events(receipt)).toEqual([
      { eventName: 'AgentWalletSet', args: { agentId, wallet: cosigner.address, setBy: alice.address } },
      walletMetadataSet(agentId, cosigner.address),
    ])
    expect(await registry().read.getAgentWallet([agentId])).toBe(cosigner.address)
  })

  test('behavior: a Safe consents through ERC-1271 (protocol-kit signature)', async () => {
    const safe = await launchSafe([wallet.address], 1n)
    const agentId = await register(alice)
    const deadline = fixedDeadline
    const digest = await walletDigest(agentId, safe, alice.address, deadline)

    // The Safe checks `digest` as SafeMessage(bytes message = digest) in its own EIP-712 domain.
    const kit = await safeKit(wallet, safe)
    const safeMessageHash = await kit.getSafeMessageHash(digest)
    expect(safeMessageHash).toBe(
      hashTypedData({
        domain: { chainId, verifyingContract: safe },
        types: { SafeMessage: [{ name: 'message', type: 'bytes' }] },
        primaryType: 'SafeMessage',
        message: { message: digest },
      }),
    )
    const signature = buildSignatureBytes([await kit.signHash(safeMessageHash)]) as Hex
    expect(await publicClient.verifyHash({ address: safe, hash: digest, signature })).toBe(true)

    const receipt = await mined(registry(alice).write.setAgentWallet([agentId, safe, deadline, signature]))
    expect(events(receipt)).toEqual([
      { eventName: 'AgentWalletSet', args: { agentId, wallet: safe, setBy: alice.address } },
      walletMetadataSet(agentId, safe),
    ])
    expect(receipt.gasUsed).toMatchInlineSnapshot(`85456n`)
    expect(await registry().read.paymentAddress([agentId])).toBe(safe)
  })

  test('behavior: a 2-of-2 Safe consents with both owners’ EIP-712 signatures, not with one', async () => {
    const safe = await launchSafe([wallet.address, cosigner.address], 2n)
    const agentId = await register(alice)
    const deadline = await deadlineIn(3600)
    const digest = await walletDigest(agentId, safe, alice.address, deadline)
    const signSafeMessage = (owner: PrivateKeyAccount) =>
      owner.signTypedData({
        domain: { chainId, verifyingContract: safe },
        types: { SafeMessage: [{ name: 'message', type: 'bytes' }] },
        primaryType: 'SafeMessage',
        message: { message: digest },
      })
    // Safe wants owner signatures sorted by owner address.
    const signers = [wallet, cosigner].sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1))
    const signatures = await Promise.all(signers.map(signSafeMessage))

    expect(
      await revertOf(registry(alice).write.setAgentWallet([agentId, safe, deadline, signatures[0]!])),
    ).toEqual({
      name: 'IdentityInvalidWalletSignature',
      args: [agentId, safe],
    })
    const both = `0x${signatures.map((signature) => signature.slice(2)).join('')}` as Hex
    await mined(registry(alice).write.setAgentWallet([agentId, safe, deadline, both]))
    expect(await registry().read.getAgentWallet([agentId])).toBe(safe)
  })

  test('error: IdentityInvalidWalletSignature for a wrong signer, agent, deadline or wallet', async () => {
    const agentId = await register(alice)
    const other = await register(alice)
    const deadline = await deadlineIn(3600)
    const invalid = { name: 'IdentityInvalidWalletSignature', args: [agentId, wallet.address] }
    const attempt = (signature: Hex, at = deadline, newWallet = wallet.address) =>
      revertOf(registry(alice).write.setAgentWallet([agentId, newWallet, at, signature]))

    // The owner cannot consent on the wallet's behalf.
    expect(await attempt(await signConsent(alice, agentId, alice.address, deadline))).toEqual(invalid)
    // Consent for another agent, or with another deadline, does not carry over.
    expect(await attempt(await signConsent(wallet, other, alice.address, deadline))).toEqual(invalid)
    expect(await attempt(await signConsent(wallet, agentId, alice.address, deadline + 1n))).toEqual(invalid)
    // Malformed signatures are refused rather than reverting inside ECDSA.
    expect(await attempt('0x')).toEqual(invalid)
    expect(await attempt(`0x${'ab'.repeat(65)}`)).toEqual(invalid)

    // A Safe whose owner did not sign, and a contract that does not speak ERC-1271.
    const safe = await launchSafe([cosigner.address], 1n)
    expect(
      await attempt(await signConsent(wallet, agentId, alice.address, deadline), deadline, safe),
    ).toEqual({
      name: 'IdentityInvalidWalletSignature',
      args: [agentId, safe],
    })
    expect(await attempt('0x1234', deadline, registryAddress)).toEqual({
      name: 'IdentityInvalidWalletSignature',
      args: [agentId, registryAddress],
    })
    expect(await registry().read.getAgentWallet([agentId])).toBe(zeroAddress)
  })

  test('error: IdentitySignatureExpired once the deadline has passed; the deadline itself still counts', async () => {
    const agentId = await register(alice)
    const deadline = await deadlineIn(60)
    const signature = await signConsent(wallet, agentId, alice.address, deadline)

    await testClient.setNextBlockTimestamp({ timestamp: deadline + 1n })
    expect(
      await revertOf(registry(alice).write.setAgentWallet([agentId, wallet.address, deadline, signature])),
    ).toEqual({ name: 'IdentitySignatureExpired', args: [deadline] })

    // A block exactly at the deadline accepts it.
    const fresh = await deadlineIn(60)
    const freshSignature = await signConsent(wallet, agentId, alice.address, fresh)
    await testClient.setNextBlockTimestamp({ timestamp: fresh })
    const receipt = await mined(
      registry(alice).write.setAgentWallet([agentId, wallet.address, fresh, freshSignature]),
    )
    expect((await publicClient.getBlock({ blockNumber: receipt.blockNumber })).timestamp).toBe(fresh)
  })

  test('error: a consent cannot be replayed by the next owner after a transfer', async () => {
    const agentId = await register(alice)
    const deadline = await deadlineIn(3600)
    const signature = await signConsent(wallet, agentId, alice.address, deadline)
    await mined(registry(alice).write.transferFrom([alice.address, bob.address, agentId]))
    expect(
      await revertOf(registry(bob).write.setAgentWallet([agentId, wallet.address, deadline, signature])),
    ).toEqual({ name: 'IdentityInvalidWalletSignature', args: [agentId, wallet.address] })
    // Alice no longer holds the agent, so she cannot use it either.
    expect(
      await revertOf(registry(alice).write.setAgentWallet([agentId, wallet.address, deadline, signature])),
    ).toEqual({ name: 'IdentityNotAuthorized', args: [agentId, alice.address] })
  })

  test('error: a consent cannot be replayed after the wallet was unbound', async () => {
    const agentId = await register(alice)
    const deadline = await deadlineIn(3600)
    const signature = await signConsent(wallet, agentId, alice.address, deadline)
    await mined(registry(alice).write.setAgentWallet([agentId, wallet.address, deadline, signature]))
    await mined(registry(alice).write.unsetAgentWallet([agentId]))
    expect(
      await revertOf(registry(alice).write.setAgentWallet([agentId, wallet.address, deadline, signature])),
    ).toEqual({ name: 'IdentityInvalidWalletSignature', args: [agentId, wallet.address] })
    expect(await registry().read.paymentAddress([agentId])).toBe(alice.address)
    // A fresh consent (the next nonce) binds it again.
    await mined(
      registry(alice).write.setAgentWallet([
        agentId,
        wallet.address,
        deadline,
        await signConsent(wallet, agentId, alice.address, deadline),
      ]),
    )
    expect(await registry().read.paymentAddress([agentId])).toBe(wallet.address)
  })

  test('error: IdentityZeroAddress, IdentityUnknownAgent', async () => {
    const agentId = await register(alice)
    const deadline = await deadlineIn(3600)
    const signature = await signConsent(wallet, agentId, alice.address, deadline)
    expect(
      await revertOf(registry(alice).write.setAgentWallet([agentId, zeroAddress, deadline, signature])),
    ).toEqual({
      name: 'IdentityZeroAddress',
      args: undefined,
    })
    expect(
      await revertOf(registry(alice).write.setAgentWallet([42n, wallet.address, deadline, signature])),
    ).toEqual({
      name: 'IdentityUnknownAgent',
      args: [42n],
    })
  })
})

describe('unsetAgentWallet', () => {
  test('default: unbinds; payments go to the owner again; emits AgentWalletSet with zero and an empty agentWallet', async () => {
    const agentId = await register(alice)
    const deadline = await deadlineIn(3600)
    await mined(
      registry(alice).write.setAgentWallet([
        agentId,
        wallet.address,
        deadline,
        await signConsent(wallet, agentId, alice.address, deadline),
      ]),
    )
    const receipt = await mined(registry(alice).write.unsetAgentWallet([agentId]))
    expect(events(receipt)).toEqual([
      { eventName: 'AgentWalletSet', args: { agentId, wallet: zeroAddress, setBy: alice.address } },
      walletMetadataSet(agentId, zeroAddress),
    ])
    expect(await registry().read.getAgentWallet([agentId])).toBe(zeroAddress)
    expect(await registry().read.paymentAddress([agentId])).toBe(alice.address)
    expect(await revertOf(registry(alice).write.unsetAgentWallet([9n]))).toEqual({
      name: 'IdentityUnknownAgent',
      args: [9n],
    })
  })
})

describe('paymentAddress', () => {
  test('default: the owner while no wallet is bound', async () => {
    const agentId = await register(alice)
    expect(await registry().read.getAgentWallet([agentId])).toBe(zeroAddress)
    expect(await registry().read.paymentAddress([agentId])).toBe(alice.address)
    await mined(registry(alice).write.transferFrom([alice.address, bob.address, agentId]))
    expect(await registry().read.paymentAddress([agentId])).toBe(bob.address)
  })

  test('error: IdentityUnknownAgent', async () => {
    expect(await revertOf(registry().read.paymentAddress([0n]))).toEqual({
      name: 'IdentityUnknownAgent',
      args: [0n],
    })
    expect(await revertOf(registry().read.paymentAddress([1n]))).toEqual({
      name: 'IdentityUnknownAgent',
      args: [1n],
    })
  })
})

describe('transfers', () => {
  test('default: a transfer clears the wallet and emits AgentWalletSet with zero, set by the sender, and an empty agentWallet', async () => {
    const agentId = await register(alice)
    const deadline = await deadlineIn(3600)
    await mined(
      registry(alice).write.setAgentWallet([
        agentId,
        wallet.address,
        deadline,
        await signConsent(wallet, agentId, alice.address, deadline),
      ]),
    )
    await mined(registry(alice).write.approve([operator.address, agentId]))
    const receipt = await mined(
      registry(operator).write.safeTransferFrom([alice.address, bob.address, agentId]),
    )
    expect(events(receipt)).toEqual([
      { eventName: 'Transfer', args: { from: alice.address, to: bob.address, tokenId: agentId } },
      { eventName: 'AgentWalletSet', args: { agentId, wallet: zeroAddress, setBy: operator.address } },
      walletMetadataSet(agentId, zeroAddress),
    ])
    expect(await registry().read.getAgentWallet([agentId])).toBe(zeroAddress)
    expect(await registry().read.paymentAddress([agentId])).toBe(bob.address)
  })

  test('behavior: a transfer without a bound wallet emits no AgentWalletSet nor MetadataSet', async () => {
    const agentId = await register(alice)
    const receipt = await mined(registry(alice).write.transferFrom([alice.address, bob.address, agentId]))
    expect(events(receipt).map((event) => event.eventName)).toEqual(['Transfer'])
  })

  test('behavior: the new owner binds a wallet of its own', async () => {
    const agentId = await register(alice)
    await mined(registry(alice).write.transferFrom([alice.address, bob.address, agentId]))
    const deadline = await deadlineIn(3600)
    await mined(
      registry(bob).write.setAgentWallet([
        agentId,
        cosigner.address,
        deadline,
        await signConsent(cosigner, agentId, bob.address, deadline),
      ]),
    )
    expect(await registry().read.paymentAddress([agentId])).toBe(cosigner.address)
  })
})

describe('transfers into token-bound accounts', () => {
  /** Creates the ERC-6551 account of `agentId` (the devnet's AgentAccount, salt zero) and returns it. */
  async function accountOf(agentId: bigint): Promise<Address> {
    const args = [
      devnet.manifest.contracts.agentAccount,
      pad('0x0'),
      BigInt(chainId),
      registryAddress,
      agentId,
    ] as const
    const registry6551 = {
      address: devnet.manifest.contracts.erc6551Registry,
      abi: erc6551RegistryAbi,
    } as const
    await mined(
      createWalletClient({
        account: stranger,
        chain: devnet.chain,
        transport: http(devnet.rpcUrl),
      }).writeContract({ ...registry6551, functionName: 'createAccount', args }),
    )
    return publicClient.readContract({ ...registry6551, functionName: 'account', args })
  }

  test('error: an agent moved into its own account with a plain transferFrom is refused', async () => {
    const agentId = await register(alice)
    const account = await accountOf(agentId)
    expect(await revertOf(registry(alice).write.transferFrom([alice.address, account, agentId]))).toEqual({
      name: 'IdentityTransferIntoOwnAccount',
      args: [agentId, account],
    })
    expect(await registry().read.ownerOf([agentId])).toBe(alice.address)
  })

  test('behavior: a cycle through another agent’s account is refused; a chain without one is not', async () => {
    const first = await register(alice)
    const second = await register(alice)
    const firstAccount = await accountOf(first)
    const secondAccount = await accountOf(second)
    // The second agent into the first one's account: a chain, not a cycle.
    await mined(registry(alice).write.transferFrom([alice.address, firstAccount, second]))
    expect(await registry().read.ownerOf([second])).toBe(firstAccount)
    // The first agent into the second one's account would close the loop: refused.
    expect(await revertOf(registry(alice).write.transferFrom([alice.address, secondAccount, first]))).toEqual(
      {
        name: 'IdentityTransferIntoOwnAccount',
        args: [first, secondAccount],
      },
    )
    expect(await registry().read.ownerOf([first])).toBe(alice.address)
  })
})

describe('registerWithWallet and setLauncher', () => {
  test('default: a trusted launcher mints with the wallet bound; the mint does not clear it', async () => {
    // operator plays the launcher (the devnet's factory is one too).
    expect(await registry().read.isLauncher([devnet.manifest.contracts.factory])).toBe(true)
    expect(await registry().read.isLauncher([operator.address])).toBe(false)
    expect(await registry().read.owner()).toBe(registryOwner.address)
    const trusted = await mined(registry(registryOwner).write.setLauncher([operator.address, true]))
    expect(events(trusted)).toEqual([
      { eventName: 'LauncherSet', args: { launcher: operator.address, trusted: true } },
    ])

    const receipt = await mined(
      registry(operator).write.registerWithWallet([alice.address, 'ipfs://launched', wallet.address]),
    )
    expect(events(receipt)).toEqual([
      { eventName: 'Transfer', args: { from: zeroAddress, to: alice.address, tokenId: 1n } },
      { eventName: 'Registered', args: { agentId: 1n, agentURI: 'ipfs://launched', owner: alice.address } },
      { eventName: 'AgentWalletSet', args: { agentId: 1n, wallet: wallet.address, setBy: operator.address } },
      walletMetadataSet(1n, wallet.address),
    ])
    expect(receipt.gasUsed).toMatchInlineSnapshot(`130581n`)
    expect(await registry().read.ownerOf([1n])).toBe(alice.address)
    expect(await registry().read.getAgentWallet([1n])).toBe(wallet.address)
    expect(await registry().read.paymentAddress([1n])).toBe(wallet.address)
    expect(await registry().read.nextAgentId()).toBe(2n)
  })

  test('error: IdentityNotLauncher for a distrusted launcher', async () => {
    await mined(registry(registryOwner).write.setLauncher([operator.address, true]))
    await mined(registry(operator).write.registerWithWallet([alice.address, '', wallet.address]))
    const distrusted = await mined(registry(registryOwner).write.setLauncher([operator.address, false]))
    expect(events(distrusted)).toEqual([
      { eventName: 'LauncherSet', args: { launcher: operator.address, trusted: false } },
    ])
    expect(
      await revertOf(registry(operator).write.registerWithWallet([alice.address, '', wallet.address])),
    ).toEqual({
      name: 'IdentityNotLauncher',
      args: [operator.address],
    })
  })

  test('error: IdentityZeroAddress for a zero wallet or owner', async () => {
    await mined(registry(registryOwner).write.setLauncher([operator.address, true]))
    expect(
      await revertOf(registry(operator).write.registerWithWallet([alice.address, '', zeroAddress])),
    ).toEqual({
      name: 'IdentityZeroAddress',
      args: undefined,
    })
    expect(
      await revertOf(registry(operator).write.registerWithWallet([zeroAddress, '', wallet.address])),
    ).toEqual({
      name: 'IdentityZeroAddress',
      args: undefined,
    })
    expect(await registry().read.nextAgentId()).toBe(1n)
  })
})

/** An agent of alice's, with bob approved for it and operator approved for all of alice's agents. */
async function delegatedAgent(): Promise<bigint> {
  const agentId = await register(alice, 'ipfs://v1')
  await mined(registry(alice).write.approve([bob.address, agentId]))
  await mined(registry(alice).write.setApprovalForAll([operator.address, true]))
  return agentId
}

/** A delegated agent and the wallet's consent to be bound to it, valid for an hour. */
async function consentedAgent() {
  const agentId = await delegatedAgent()
  const deadline = await deadlineIn(3600)
  const signature = await signConsent(wallet, agentId, alice.address, deadline)
  return { agentId, deadline, signature }
}

type Party = 'registryOwner' | 'alice' | 'bob' | 'operator' | 'stranger' | 'wallet'
/** A write to the registry, made as the given account. */
type Write = (account: PrivateKeyAccount) => Promise<Hex>

/**
 * Who may call what. An agent's own settings belong to its owner (alice) and whoever she approved
 * (bob for the agent, operator for all her agents); the registry owner has no say over them.
 */
const access: AccessRule<Party, Write>[] = [
  {
    fn: 'setAgentURI',
    allowed: ['alice', 'bob', 'operator'],
    refused: ['stranger', 'registryOwner'],
    error: 'IdentityNotAuthorized',
    arrange: async (caller) => {
      const agentId = await delegatedAgent()
      return {
        call: (as) => registry(as).write.setAgentURI([agentId, 'ipfs://v2']),
        errorArgs: [agentId, caller],
      }
    },
  },
  {
    fn: 'setMetadata',
    allowed: ['alice', 'bob', 'operator'],
    refused: ['stranger', 'registryOwner'],
    error: 'IdentityNotAuthorized',
    arrange: async (caller) => {
      const agentId = await delegatedAgent()
      return {
        call: (as) => registry(as).write.setMetadata([agentId, 'mcp', '0x01']),
        errorArgs: [agentId, caller],
      }
    },
  },
  {
    fn: 'setAgentWallet',
    allowed: ['alice', 'bob', 'operator'],
    // Holding the wallet's consent is not enough: only the owner or an approved address may submit it.
    refused: ['wallet', 'stranger'],
    error: 'IdentityNotAuthorized',
    arrange: async (caller) => {
      const { agentId, deadline, signature } = await consentedAgent()
      return {
        call: (as) => registry(as).write.setAgentWallet([agentId, wallet.address, deadline, signature]),
        errorArgs: [agentId, caller],
      }
    },
  },
  {
    fn: 'unsetAgentWallet',
    allowed: ['alice', 'bob', 'operator'],
    refused: ['stranger', 'wallet'],
    error: 'IdentityNotAuthorized',
    arrange: async (caller) => {
      const { agentId, deadline, signature } = await consentedAgent()
      await mined(registry(alice).write.setAgentWallet([agentId, wallet.address, deadline, signature]))
      return { call: (as) => registry(as).write.unsetAgentWallet([agentId]), errorArgs: [agentId, caller] }
    },
  },
  {
    fn: 'registerWithWallet',
    allowed: ['operator'],
    // Not even the registry owner, unless it trusts itself.
    refused: ['stranger', 'registryOwner'],
    error: 'IdentityNotLauncher',
    arrange: async (caller) => {
      await mined(registry(registryOwner).write.setLauncher([operator.address, true]))
      return {
        call: (as) => registry(as).write.registerWithWallet([alice.address, '', wallet.address]),
        errorArgs: [caller],
      }
    },
  },
  {
    fn: 'setBaseURI',
    allowed: ['registryOwner'],
    refused: ['stranger'],
    error: 'OwnableUnauthorizedAccount',
    arrange: async (caller) => ({
      call: (as) => registry(as).write.setBaseURI(['https://agora.example/agents/']),
      errorArgs: [caller],
    }),
  },
  {
    fn: 'setLauncher',
    allowed: ['registryOwner'],
    refused: ['stranger'],
    error: 'OwnableUnauthorizedAccount',
    arrange: async (caller) => ({
      call: (as) => registry(as).write.setLauncher([as.address, true]),
      errorArgs: [caller],
    }),
  },
]

describe('access control', () => {
  testAccessControl(access, {
    account: (party) => ({ registryOwner, alice, bob, operator, stranger, wallet })[party],
    succeeds: (account, write) => mined(write(account)),
    revertOf: (account, write) => revertOf(write(account)),
  })
})
