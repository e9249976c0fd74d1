import {
  type Address,
  BaseError,
  type ContractErrorArgs,
  type ContractErrorName,
  type ContractFunctionArgs,
  type ContractFunctionName,
  ContractFunctionRevertedError,
  createPublicClient,
  createTestClient,
  createWalletClient,
  domainSeparator,
  getAddress,
  type Hex,
  http,
  keccak256,
  type LocalAccount,
  parseEventLogs,
  parseSignature,
  stringToHex,
  type TransactionReceipt,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { type Anvil, startAnvil } from '../src/anvil.ts'
import { devUSDAbi, devUSDBytecode } from '../src/generated/DevUSD.ts'
import { testERC1271WalletAbi, testERC1271WalletBytecode } from '../src/generated/TestERC1271Wallet.ts'
import { type AccessRule, testAccessControl } from './access-control.ts'
import { revertOf } from './revert.ts'

const permitTypes = {
  Permit: [
    { name: 'owner', type: 'address' },
    { name: 'spender', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const

const authorizationFields = [
  { name: 'from', type: 'address' },
  { name: 'to', type: 'address' },
  { name: 'value', type: 'uint256' },
  { name: 'validAfter', type: 'uint256' },
  { name: 'validBefore', type: 'uint256' },
  { name: 'nonce', type: 'bytes32' },
] as const

const authorizationTypes = {
  TransferWithAuthorization: authorizationFields,
  ReceiveWithAuthorization: authorizationFields,
} as const

const cancelTypes = {
  CancelAuthorization: [
    { name: 'authorizer', type: 'address' },
    { name: 'nonce', type: 'bytes32' },
  ],
} as const

/** A party that signs: `address` is whose tokens move (an EOA or a wallet), `account` holds the key. */
type Signer = { address: Address; account: LocalAccount }

type Overload = 'vrs' | 'bytes'
type AuthorizationFunction = 'transferWithAuthorization' | 'receiveWithAuthorization'
type Authorization = { to: Address; value: bigint; validAfter: bigint; validBefore: bigint; nonce: Hex }

const million = 1_000_000n * 10n ** 6n

let anvil: Anvil
let token: Address
let wallet: Address
let deployer: LocalAccount
let alice: LocalAccount
let bob: LocalAccount
let walletOwner: LocalAccount
let relayer: LocalAccount
let stranger: LocalAccount
let eoa: Signer
let contract: Signer
let publicClient: ReturnType<typeof createPublicClient>
let walletClient: ReturnType<typeof createWalletClient>
let testClient: ReturnType<typeof createTestClient>
let snapshot: Hex

beforeAll(async () => {
  anvil = await startAnvil({ accounts: 6 })
  const accounts = anvil.privateKeys.map((key) => privateKeyToAccount(key))
  ;[deployer, alice, bob, walletOwner, relayer, stranger] = accounts as [
    LocalAccount,
    LocalAccount,
    LocalAccount,
    LocalAccount,
    LocalAccount,
    LocalAccount,
  ]
  const transport = http(anvil.rpcUrl)
  publicClient = createPublicClient({ chain: anvil.chain, transport })
  walletClient = createWalletClient({ chain: anvil.chain, transport })
  testClient = createTestClient({ chain: anvil.chain, transport, mode: 'anvil' })

  token = await deploy(
    walletClient.deployContract({
      account: deployer,
      chain: anvil.chain,
      abi: devUSDAbi,
      bytecode: devUSDBytecode,
    }),
  )
  wallet = await deploy(
    walletClient.deployContract({
      account: deployer,
      chain: anvil.chain,
      abi: testERC1271WalletAbi,
      bytecode: testERC1271WalletBytecode,
      args: [walletOwner.address],
    }),
  )
  eoa = { address: alice.address, account: alice }
  contract = { address: wallet, account: walletOwner }
  await send(deployer, { functionName: 'mint', args: [alice.address, million] })
  await send(deployer, { functionName: 'mint', args: [wallet, million] })
})

afterAll(async () => {
  await anvil?.stop()
})

// Every test starts from the same chain state, which also keeps the gas snapshots independent of order.
beforeEach(async () => {
  snapshot = await testClient.snapshot()
})

afterEach(async () => {
  await testClient.revert({ id: snapshot })
})

async function deploy(hash: Promise<Hex>): Promise<Address> {
  const receipt = await publicClient.waitForTransactionReceipt({ hash: await hash })
  return getAddress(receipt.contractAddress!)
}

/** A state-changing call of DevUSD, arguments checked against the ABI (overloads included). */
type Call = {
  [name in WriteName]: {
    functionName: name
    args: ContractFunctionArgs<typeof devUSDAbi, 'nonpayable', name>
  }
}[WriteName]
type WriteName = ContractFunctionName<typeof devUSDAbi, 'nonpayable'>

async function send(account: LocalAccount, call: Call): Promise<TransactionReceipt> {
  // One cast at this boundary: `Call` already checked the arguments against the ABI.
  const hash = await walletClient.writeContract({
    ...call,
    abi: devUSDAbi,
    address: token,
    account,
    chain: anvil.chain,
  } as never)
  const receipt = await publicClient.waitForTransactionReceipt({ hash })
  expect(receipt.status).toBe('success')
  return receipt
}

/** Asserts that `call` from `account` reverts with the custom error `errorName(...args)`. */
async function expectRevert<const name extends ContractErrorName<typeof devUSDAbi>>(
  account: LocalAccount,
  call: Call,
  errorName: name,
  args: ContractErrorArgs<typeof devUSDAbi, name>,
) {
  const error = await publicClient
    .simulateContract({ ...call, abi: devUSDAbi, address: token, account } as never)
    .then(
      () => undefined,
      (error: unknown) => error,
    )
  expect(error).toBeInstanceOf(BaseError)
  const reverted = (error as BaseError).walk((cause) => cause instanceof ContractFunctionRevertedError)
  expect(reverted).toBeInstanceOf(ContractFunctionRevertedError)
  const { data } = reverted as ContractFunctionRevertedError
  expect(data?.errorName).toBe(errorName)
  expect(data?.args).toEqual(args)
}

const balanceOf = (account: Address) =>
  publicClient.readContract({ abi: devUSDAbi, address: token, functionName: 'balanceOf', args: [account] })
const allowance = (owner: Address, spender: Address) =>
  publicClient.readContract({
    abi: devUSDAbi,
    address: token,
    functionName: 'allowance',
    args: [owner, spender],
  })
const nonces = (owner: Address) =>
  publicClient.readContract({ abi: devUSDAbi, address: token, functionName: 'nonces', args: [owner] })
const authorizationState = (authorizer: Address, nonce: Hex) =>
  publicClient.readContract({
    abi: devUSDAbi,
    address: token,
    functionName: 'authorizationState',
    args: [authorizer, nonce],
  })

function events(receipt: TransactionReceipt) {
  return parseEventLogs({ abi: devUSDAbi, logs: receipt.logs }).map(({ eventName, args }) => ({
    eventName,
    args,
  }))
}

async function now(): Promise<bigint> {
  return (await publicClient.getBlock()).timestamp
}

function domain() {
  return { name: 'Agora Dev USD', version: '1', chainId: anvil.chain.id, verifyingContract: token } as const
}

function nonceOf(label: string): Hex {
  return keccak256(stringToHex(label))
}

function split(signature: Hex) {
  const { r, s, yParity } = parseSignature(signature)
  return { v: yParity + 27, r, s }
}

async function signPermit(
  signer: Signer,
  message: { spender: Address; value: bigint; deadline: bigint; nonce?: bigint },
): Promise<Hex> {
  const nonce = message.nonce ?? (await nonces(signer.address))
  return signer.account.signTypedData({
    domain: domain(),
    types: permitTypes,
    primaryType: 'Permit',
    message: {
      owner: signer.address,
      spender: message.spender,
      value: message.value,
      deadline: message.deadline,
      nonce,
    },
  })
}

function permitCall(
  owner: Address,
  spender: Address,
  value: bigint,
  deadline: bigint,
  signature: Hex,
  overload: Overload,
): Call {
  if (overload === 'bytes')
    return { functionName: 'permit', args: [owner, spender, value, deadline, signature] }
  const { v, r, s } = split(signature)
  return { functionName: 'permit', args: [owner, spender, value, deadline, v, r, s] }
}

function signAuthorization(
  signer: Signer,
  fn: AuthorizationFunction,
  authorization: Authorization,
): Promise<Hex> {
  return signer.account.signTypedData({
    domain: domain(),
    types: authorizationTypes,
    primaryType:
      fn === 'transferWithAuthorization' ? 'TransferWithAuthorization' : 'ReceiveWithAuthorization',
    message: { from: signer.address, ...authorization },
  })
}

function authorizationCall(
  fn: AuthorizationFunction,
  from: Address,
  { to, value, validAfter, validBefore, nonce }: Authorization,
  signature: Hex,
  overload: Overload,
): Call {
  if (overload === 'bytes')
    return { functionName: fn, args: [from, to, value, validAfter, validBefore, nonce, signature] }
  const { v, r, s } = split(signature)
  return { functionName: fn, args: [from, to, value, validAfter, validBefore, nonce, v, r, s] }
}

function signCancel(signer: Signer, nonce: Hex): Promise<Hex> {
  return signer.account.signTypedData({
    domain: domain(),
    types: cancelTypes,
    primaryType: 'CancelAuthorization',
    message: { authorizer: signer.address, nonce },
  })
}

function cancelCall(authorizer: Address, nonce: Hex, signature: Hex, overload: Overload): Call {
  if (overload === 'bytes')
    return { functionName: 'cancelAuthorization', args: [authorizer, nonce, signature] }
  const { v, r, s } = split(signature)
  return { functionName: 'cancelAuthorization', args: [authorizer, nonce, v, r, s] }
}

/** An authorization for 25 dUSD to `bob`, valid for the next hour. */
async function authorization(label: string, overrides: Partial<Authorization> = {}): Promise<Authorization> {
  return {
    to: bob.address,
    value: 25_000_000n,
    validAfter: 0n,
    validBefore: (await now()) + 3600n,
    nonce: nonceOf(label),
    ...overrides,
  }
}

const signers = [
  ['EOA', () => eoa],
  ['ERC-1271 wallet', () => contract],
] as const
const overloads = ['vrs', 'bytes'] as const
const matrix = signers.flatMap(([kind, signer]) =>
  overloads.map((overload) => [kind, overload, signer] as const),
)

describe('metadata', () => {
  test('default', async () => {
    const readToken = (functionName: 'name' | 'symbol' | 'decimals' | 'minter' | 'totalSupply') =>
      publicClient.readContract({ abi: devUSDAbi, address: token, functionName })
    expect(await readToken('name')).toBe('Agora Dev USD')
    expect(await readToken('symbol')).toBe('dUSD')
    expect(await readToken('decimals')).toBe(6)
    expect(await readToken('minter')).toBe(deployer.address)
    expect(await readToken('totalSupply')).toBe(2n * million)
  })

  test('behavior: EIP-712 domain is the one clients sign under (x402 `extra.name` / `extra.version`)', async () => {
    const { domain: onChain, fields } = await publicClient.getEip712Domain({ address: token })
    // 0x0f: name, version, chainId and verifyingContract are set; salt is not used.
    expect(fields).toBe('0x0f')
    expect(onChain).toMatchObject(domain())
    const separator = await publicClient.readContract({
      abi: devUSDAbi,
      address: token,
      functionName: 'DOMAIN_SEPARATOR',
    })
    expect(separator).toBe(domainSeparator({ domain: domain() }))
  })

  test('behavior: type hashes are those of EIP-2612 and EIP-3009', async () => {
    const typehash = (
      functionName:
        | 'PERMIT_TYPEHASH'
        | 'TRANSFER_WITH_AUTHORIZATION_TYPEHASH'
        | 'RECEIVE_WITH_AUTHORIZATION_TYPEHASH'
        | 'CANCEL_AUTHORIZATION_TYPEHASH',
    ) => publicClient.readContract({ abi: devUSDAbi, address: token, functionName })
    const fields =
      'address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce'
    expect(await typehash('PERMIT_TYPEHASH')).toBe(
      keccak256(
        stringToHex('Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)'),
      ),
    )
    expect(await typehash('TRANSFER_WITH_AUTHORIZATION_TYPEHASH')).toBe(
      keccak256(stringToHex(`TransferWithAuthorization(${fields})`)),
    )
    expect(await typehash('RECEIVE_WITH_AUTHORIZATION_TYPEHASH')).toBe(
      keccak256(stringToHex(`ReceiveWithAuthorization(${fields})`)),
    )
    expect(await typehash('CANCEL_AUTHORIZATION_TYPEHASH')).toBe(
      keccak256(stringToHex('CancelAuthorization(address authorizer,bytes32 nonce)')),
    )
  })
})

describe('mint', () => {
  test('default', async () => {
    const receipt = await send(deployer, { functionName: 'mint', args: [bob.address, 7_500_000n] })
    expect(events(receipt)).toEqual([
      {
        eventName: 'Transfer',
        args: { from: '0x0000000000000000000000000000000000000000', to: bob.address, value: 7_500_000n },
      },
    ])
    expect(await balanceOf(bob.address)).toBe(7_500_000n)
    expect(receipt.gasUsed).toMatchInlineSnapshot(`51024n`)
  })
})

describe('permit', () => {
  test.each(matrix)('default: %s signs, %s overload', async (_kind, overload, signerOf) => {
    const signer = signerOf()
    const deadline = (await now()) + 3600n
    const signature = await signPermit(signer, { spender: relayer.address, value: 40_000_000n, deadline })
    const receipt = await send(
      relayer,
      permitCall(signer.address, relayer.address, 40_000_000n, deadline, signature, overload),
    )
    expect(events(receipt)).toEqual([
      {
        eventName: 'Approval',
        args: { owner: signer.address, spender: relayer.address, value: 40_000_000n },
      },
    ])
    expect(await allowance(signer.address, relayer.address)).toBe(40_000_000n)
    expect(await nonces(signer.address)).toBe(1n)
    // The allowance is usable: the spender pulls the funds.
    await send(relayer, { functionName: 'transferFrom', args: [signer.address, bob.address, 40_000_000n] })
    expect(await balanceOf(bob.address)).toBe(40_000_000n)
  })

  test.each(matrix)('behavior: %s, %s overload, replay refused', async (_kind, overload, signerOf) => {
    const signer = signerOf()
    const deadline = (await now()) + 3600n
    const signature = await signPermit(signer, { spender: relayer.address, value: 1n, deadline })
    const call = permitCall(signer.address, relayer.address, 1n, deadline, signature, overload)
    await send(relayer, call)
    await expectRevert(relayer, call, 'DevUSDInvalidSignature', [signer.address])
  })

  test.each(matrix)('behavior: %s, %s overload, wrong key refused', async (_kind, overload, signerOf) => {
    const signer = signerOf()
    const deadline = (await now()) + 3600n
    const forged = await signPermit(
      { ...signer, account: stranger },
      { spender: stranger.address, value: 1n, deadline },
    )
    await expectRevert(
      stranger,
      permitCall(signer.address, stranger.address, 1n, deadline, forged, overload),
      'DevUSDInvalidSignature',
      [signer.address],
    )
  })

  test('behavior: expired permit refused', async () => {
    const deadline = (await now()) - 1n
    const signature = await signPermit(eoa, { spender: relayer.address, value: 1n, deadline })
    await expectRevert(
      relayer,
      permitCall(eoa.address, relayer.address, 1n, deadline, signature, 'bytes'),
      'DevUSDPermitExpired',
      [deadline],
    )
  })

  test('behavior: signature over other terms refused', async () => {
    const deadline = (await now()) + 3600n
    const signature = await signPermit(eoa, { spender: relayer.address, value: 1n, deadline })
    await expectRevert(
      relayer,
      permitCall(eoa.address, relayer.address, 2n, deadline, signature, 'vrs'),
      'DevUSDInvalidSignature',
      [eoa.address],
    )
  })

  test('behavior: a future nonce is refused until it is the next one', async () => {
    const deadline = (await now()) + 3600n
    const signature = await signPermit(eoa, { spender: relayer.address, value: 1n, deadline, nonce: 1n })
    await expectRevert(
      relayer,
      permitCall(eoa.address, relayer.address, 1n, deadline, signature, 'bytes'),
      'DevUSDInvalidSignature',
      [eoa.address],
    )
  })

  test('behavior: malformed signature bytes refused', async () => {
    const deadline = (await now()) + 3600n
    await expectRevert(
      relayer,
      permitCall(eoa.address, relayer.address, 1n, deadline, '0x1234', 'bytes'),
      'DevUSDInvalidSignature',
      [eoa.address],
    )
  })
})

describe.each(['transferWithAuthorization', 'receiveWithAuthorization'] as const)('%s', (fn) => {
  // receiveWithAuthorization must be submitted by the payee; anyone may submit a transfer.
  const submitter = () => (fn === 'receiveWithAuthorization' ? bob : relayer)

  test.each(matrix)('default: %s signs, %s overload', async (_kind, overload, signerOf) => {
    const signer = signerOf()
    const auth = await authorization('default')
    const signature = await signAuthorization(signer, fn, auth)
    const before = await balanceOf(signer.address)
    const receipt = await send(submitter(), authorizationCall(fn, signer.address, auth, signature, overload))
    expect(events(receipt)).toEqual([
      { eventName: 'AuthorizationUsed', args: { authorizer: signer.address, nonce: auth.nonce } },
      { eventName: 'Transfer', args: { from: signer.address, to: bob.address, value: auth.value } },
    ])
    expect(await balanceOf(signer.address)).toBe(before - auth.value)
    expect(await balanceOf(bob.address)).toBe(auth.value)
    expect(await authorizationState(signer.address, auth.nonce)).toBe(true)
  })

  test.each(matrix)('behavior: %s, %s overload, reused nonce refused', async (_kind, overload, signerOf) => {
    const signer = signerOf()
    const auth = await authorization('reused')
    const call = authorizationCall(
      fn,
      signer.address,
      auth,
      await signAuthorization(signer, fn, auth),
      overload,
    )
    await send(submitter(), call)
    await expectRevert(submitter(), call, 'DevUSDAuthorizationUsed', [signer.address, auth.nonce])
  })

  test.each(matrix)('behavior: %s, %s overload, wrong key refused', async (_kind, overload, signerOf) => {
    const signer = signerOf()
    const auth = await authorization('forged')
    const forged = await signAuthorization({ ...signer, account: stranger }, fn, auth)
    await expectRevert(
      submitter(),
      authorizationCall(fn, signer.address, auth, forged, overload),
      'DevUSDInvalidSignature',
      [signer.address],
    )
    expect(await authorizationState(signer.address, auth.nonce)).toBe(false)
  })

  test.each(overloads)('behavior: not yet valid refused (%s)', async (overload) => {
    const auth = await authorization('early', { validAfter: (await now()) + 600n })
    await expectRevert(
      submitter(),
      authorizationCall(fn, eoa.address, auth, await signAuthorization(eoa, fn, auth), overload),
      'DevUSDAuthorizationNotYetValid',
      [auth.validAfter],
    )
  })

  test.each(overloads)('behavior: expired refused (%s)', async (overload) => {
    const auth = await authorization('late', { validBefore: await now() })
    await expectRevert(
      submitter(),
      authorizationCall(fn, eoa.address, auth, await signAuthorization(eoa, fn, auth), overload),
      'DevUSDAuthorizationExpired',
      [auth.validBefore],
    )
  })

  test('behavior: becomes valid once validAfter has passed', async () => {
    const auth = await authorization('window', {
      validAfter: (await now()) + 600n,
      validBefore: (await now()) + 1200n,
    })
    const call = authorizationCall(fn, eoa.address, auth, await signAuthorization(eoa, fn, auth), 'bytes')
    await expectRevert(submitter(), call, 'DevUSDAuthorizationNotYetValid', [auth.validAfter])
    await testClient.setNextBlockTimestamp({ timestamp: auth.validAfter + 1n })
    await send(submitter(), call)
    expect(await balanceOf(bob.address)).toBe(auth.value)
  })

  test('behavior: signature for the other EIP-3009 function refused', async () => {
    const other =
      fn === 'transferWithAuthorization' ? 'receiveWithAuthorization' : 'transferWithAuthorization'
    const auth = await authorization('crossed')
    await expectRevert(
      submitter(),
      authorizationCall(fn, eoa.address, auth, await signAuthorization(eoa, other, auth), 'bytes'),
      'DevUSDInvalidSignature',
      [eoa.address],
    )
  })

  test.each(overloads)('behavior: canceled authorization refused (%s)', async (overload) => {
    const auth = await authorization('canceled')
    const call = authorizationCall(fn, eoa.address, auth, await signAuthorization(eoa, fn, auth), overload)
    await send(relayer, cancelCall(eoa.address, auth.nonce, await signCancel(eoa, auth.nonce), overload))
    await expectRevert(submitter(), call, 'DevUSDAuthorizationUsed', [eoa.address, auth.nonce])
  })
})

describe('cancelAuthorization', () => {
  test.each(matrix)('default: %s signs, %s overload', async (_kind, overload, signerOf) => {
    const signer = signerOf()
    const nonce = nonceOf('cancel')
    const receipt = await send(
      relayer,
      cancelCall(signer.address, nonce, await signCancel(signer, nonce), overload),
    )
    expect(events(receipt)).toEqual([
      { eventName: 'AuthorizationCanceled', args: { authorizer: signer.address, nonce } },
    ])
    expect(await authorizationState(signer.address, nonce)).toBe(true)
  })

  test.each(matrix)('behavior: %s, %s overload, wrong key refused', async (_kind, overload, signerOf) => {
    const signer = signerOf()
    const nonce = nonceOf('cancel')
    const forged = await signCancel({ ...signer, account: stranger }, nonce)
    await expectRevert(
      relayer,
      cancelCall(signer.address, nonce, forged, overload),
      'DevUSDInvalidSignature',
      [signer.address],
    )
  })

  test('behavior: used or canceled nonce cannot be canceled', async () => {
    const auth = await authorization('spent')
    await send(
      relayer,
      authorizationCall(
        'transferWithAuthorization',
        eoa.address,
        auth,
        await signAuthorization(eoa, 'transferWithAuthorization', auth),
        'bytes',
      ),
    )
    const cancel = cancelCall(eoa.address, auth.nonce, await signCancel(eoa, auth.nonce), 'bytes')
    await expectRevert(relayer, cancel, 'DevUSDAuthorizationUsed', [eoa.address, auth.nonce])

    const unused = nonceOf('twice')
    const twice = cancelCall(eoa.address, unused, await signCancel(eoa, unused), 'vrs')
    await send(relayer, twice)
    await expectRevert(relayer, twice, 'DevUSDAuthorizationUsed', [eoa.address, unused])
  })
})

describe('gas', () => {
  // Fixed signed terms give the same signatures, so the same calldata and gas, on every run.
  const deadline = 4_102_444_800n // 2100-01-01
  const fixed = (label: string, overrides: Partial<Authorization> = {}) =>
    authorization(label, { validBefore: deadline, ...overrides })

  test('permit', async () => {
    const byEoa = await signPermit(eoa, { spender: relayer.address, value: 1n, deadline })
    const byWallet = await signPermit(contract, { spender: relayer.address, value: 1n, deadline })
    const gas = {
      eoaVrs: (await send(relayer, permitCall(eoa.address, relayer.address, 1n, deadline, byEoa, 'vrs')))
        .gasUsed,
      walletBytes: (await send(relayer, permitCall(wallet, relayer.address, 1n, deadline, byWallet, 'bytes')))
        .gasUsed,
    }
    expect(gas).toMatchInlineSnapshot(`
      {
        "eoaVrs": 77346n,
        "walletBytes": 78275n,
      }
    `)
  })

  test('transferWithAuthorization', async () => {
    const fn = 'transferWithAuthorization'
    // Separate payees, so both measure a first payment into an empty balance.
    const toBob = await fixed('gas')
    const toStranger = await fixed('gas', { to: stranger.address })
    const byEoa = await signAuthorization(eoa, fn, toBob)
    const byWallet = await signAuthorization(contract, fn, toStranger)
    const gas = {
      eoaVrs: (await send(relayer, authorizationCall(fn, eoa.address, toBob, byEoa, 'vrs'))).gasUsed,
      walletBytes: (await send(relayer, authorizationCall(fn, wallet, toStranger, byWallet, 'bytes')))
        .gasUsed,
    }
    expect(gas).toMatchInlineSnapshot(`
      {
        "eoaVrs": 85119n,
        "walletBytes": 86057n,
      }
    `)
  })

  test('receiveWithAuthorization', async () => {
    const auth = await fixed('gas')
    const fn = 'receiveWithAuthorization'
    const receipt = await send(
      bob,
      authorizationCall(fn, eoa.address, auth, await signAuthorization(eoa, fn, auth), 'bytes'),
    )
    expect(receipt.gasUsed).toMatchInlineSnapshot(`85315n`)
  })

  test('cancelAuthorization', async () => {
    const nonce = nonceOf('gas')
    const receipt = await send(relayer, cancelCall(eoa.address, nonce, await signCancel(eoa, nonce), 'bytes'))
    expect(receipt.gasUsed).toMatchInlineSnapshot(`55120n`)
  })
})

type Party = 'deployer' | 'alice' | 'bob' | 'relayer' | 'stranger'

/**
 * Who may call what. Only the deployer mints; a `receiveWithAuthorization` is submitted by its payee
 * (bob) alone, whoever signed it and in either overload, so nobody can front-run it into a transfer.
 */
const access: AccessRule<Party, Call>[] = [
  {
    fn: 'mint',
    allowed: ['deployer'],
    refused: ['alice', 'stranger'],
    error: 'DevUSDUnauthorizedMinter',
    arrange: async (caller) => ({ call: { functionName: 'mint', args: [caller, 1n] }, errorArgs: [caller] }),
  },
  ...matrix.map(
    ([kind, overload, signerOf]): AccessRule<Party, Call> => ({
      fn: `receiveWithAuthorization (${kind}, ${overload} overload)`,
      allowed: ['bob'],
      // A relayer, or even the payer (alice signs the EOA rows).
      refused: ['relayer', 'alice'],
      error: 'DevUSDCallerNotPayee',
      arrange: async (caller) => {
        const signer = signerOf()
        const auth = await authorization('front-run')
        const signature = await signAuthorization(signer, 'receiveWithAuthorization', auth)
        return {
          call: authorizationCall('receiveWithAuthorization', signer.address, auth, signature, overload),
          errorArgs: [caller, bob.address],
        }
      },
    }),
  ),
]

describe('access control', () => {
  testAccessControl(access, {
    account: (party) => ({ deployer, alice, bob, relayer, stranger })[party],
    succeeds: send,
    revertOf: (account, call) =>
      revertOf(publicClient.simulateContract({ ...call, abi: devUSDAbi, address: token, account } as never)),
  })
})
