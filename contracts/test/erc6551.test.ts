import {
  type Address,
  concat,
  createPublicClient,
  createTestClient,
  createWalletClient,
  decodeFunctionResult,
  encodeAbiParameters,
  encodeFunctionData,
  getAddress,
  getContractAddress,
  type Hex,
  hashMessage,
  hashTypedData,
  http,
  keccak256,
  pad,
  parseEther,
  parseEventLogs,
  stringToHex,
  type TransactionReceipt,
  toFunctionSelector,
  toHex,
  zeroAddress,
  zeroHash,
} from 'viem'
import { type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type Anvil, startAnvil } from '../src/anvil.ts'
import { agentAccountAbi, agentAccountBytecode } from '../src/generated/AgentAccount.ts'
import { erc6551RegistryAbi, erc6551RegistryBytecode } from '../src/generated/ERC6551Registry.ts'
import { testNftAbi, testNftBytecode } from '../src/generated/TestNft.ts'
import { type AccessRule, testAccessControl } from './access-control.ts'
import { revertOf } from './revert.ts'

/** ERC-1167 proxy parts around the implementation address, as the canonical registry lays them out. */
const initCodeHead = '0x3d60ad80600a3d3981f3363d3d373d3d3d363d73'
const proxyTail = '0x5af43d82803e903d91602b57fd5bf3'

const ids = {
  erc165: '0x01ffc9a7',
  erc6551Account: '0x6faff5f1',
  erc6551Executable: '0x51945447',
  erc1271: '0x1626ba7e',
  erc721Receiver: '0x150b7a02',
} as const

const isValidSignerMagic = '0x523e3260'

/** Errors an account can raise, for decoding reverts that surface through another contract. */
const accountErrors = agentAccountAbi.filter((item) => item.type === 'error')
const nftWithAccountErrors = [...testNftAbi, ...accountErrors] as const
const accountWithNftErrors = [
  ...agentAccountAbi,
  ...testNftAbi.filter((item) => item.type === 'error'),
] as const

let anvil: Anvil
let publicClient: ReturnType<typeof createPublicClient>
let walletClient: ReturnType<typeof createWalletClient>
let testClient: ReturnType<typeof createTestClient>
let holder: PrivateKeyAccount
let buyer: PrivateKeyAccount
let stranger: PrivateKeyAccount
let registry: Address
let implementation: Address
let nft: Address
let chainId: bigint
let lastTokenId = 0n

beforeAll(async () => {
  anvil = await startAnvil({ accounts: 4 })
  const transport = http(anvil.rpcUrl)
  publicClient = createPublicClient({ chain: anvil.chain, transport })
  walletClient = createWalletClient({ chain: anvil.chain, transport })
  testClient = createTestClient({ chain: anvil.chain, mode: 'anvil', transport })
  ;[holder, buyer, stranger] = anvil.privateKeys.map((key) => privateKeyToAccount(key)) as [
    PrivateKeyAccount,
    PrivateKeyAccount,
    PrivateKeyAccount,
  ]
  chainId = BigInt(anvil.chain.id)
  registry = await deployed(
    walletClient.deployContract({
      abi: erc6551RegistryAbi,
      bytecode: erc6551RegistryBytecode,
      account: holder,
      chain: anvil.chain,
    }),
  )
  implementation = await deployed(
    walletClient.deployContract({
      abi: agentAccountAbi,
      bytecode: agentAccountBytecode,
      account: holder,
      chain: anvil.chain,
    }),
  )
  nft = await deployed(
    walletClient.deployContract({
      abi: testNftAbi,
      bytecode: testNftBytecode,
      account: holder,
      chain: anvil.chain,
    }),
  )
}, 60_000)

afterAll(async () => {
  await anvil?.stop()
})

async function deployed(hash: Promise<Hex>): Promise<Address> {
  const receipt = await mined(hash)
  return getAddress(receipt.contractAddress!)
}

async function mined(hash: Promise<Hex>): Promise<TransactionReceipt> {
  const receipt = await publicClient.waitForTransactionReceipt({ hash: await hash })
  expect(receipt.status).toBe('success')
  return receipt
}

/** Mints a fresh token to `to` and returns its id. */
async function mint(to: Address): Promise<bigint> {
  lastTokenId += 1n
  await mined(
    walletClient.writeContract({
      address: nft,
      abi: testNftAbi,
      functionName: 'mint',
      args: [to, lastTokenId],
      account: holder,
      chain: anvil.chain,
    }),
  )
  return lastTokenId
}

type AccountArgs = readonly [Address, Hex, bigint, Address, bigint]

function accountArgs(tokenId: bigint, options: { salt?: Hex; chainId?: bigint } = {}): AccountArgs {
  return [implementation, options.salt ?? zeroHash, options.chainId ?? chainId, nft, tokenId]
}

/** Creates the account of `tokenId` through the registry and returns its address and the receipt. */
async function createAccount(args: AccountArgs): Promise<{ account: Address; receipt: TransactionReceipt }> {
  const { result, request } = await publicClient.simulateContract({
    address: registry,
    abi: erc6551RegistryAbi,
    functionName: 'createAccount',
    args,
    account: holder,
  })
  const receipt = await mined(walletClient.writeContract(request))
  return { account: result, receipt }
}

/** The account of a freshly minted token held by `owner`. */
async function newAccount(owner: Address = holder.address): Promise<{ account: Address; tokenId: bigint }> {
  const tokenId = await mint(owner)
  const { account } = await createAccount(accountArgs(tokenId))
  return { account, tokenId }
}

function read<const name extends 'owner' | 'state' | 'token'>(account: Address, functionName: name) {
  return publicClient.readContract({ address: account, abi: agentAccountAbi, functionName })
}

function execute(
  account: Address,
  from: PrivateKeyAccount,
  call: { to: Address; value?: bigint; data?: Hex; operation?: number; msgValue?: bigint },
) {
  return walletClient.writeContract({
    address: account,
    abi: accountWithNftErrors,
    functionName: 'execute',
    args: [call.to, call.value ?? 0n, call.data ?? '0x', call.operation ?? 0],
    value: call.msgValue ?? 0n,
    account: from,
    chain: anvil.chain,
  })
}

function transferNft(from: PrivateKeyAccount, to: Address, tokenId: bigint) {
  return walletClient.writeContract({
    address: nft,
    abi: nftWithAccountErrors,
    functionName: 'safeTransferFrom',
    args: [from.address, to, tokenId],
    account: from,
    chain: anvil.chain,
  })
}

describe('ERC6551Registry', () => {
  test('account: equals the standard CREATE2 derivation', async () => {
    const cases: AccountArgs[] = [
      accountArgs(1n),
      accountArgs(7n, { salt: pad('0x01') }),
      accountArgs(2n ** 255n, { salt: keccak256('0xabcd'), chainId: 1n }),
    ]
    for (const args of cases) {
      const [impl, salt, chain, tokenContract, tokenId] = args
      const footer = encodeAbiParameters(
        [{ type: 'bytes32' }, { type: 'uint256' }, { type: 'address' }, { type: 'uint256' }],
        [salt, chain, tokenContract, tokenId],
      )
      const bytecode = concat([initCodeHead, impl, proxyTail, footer])
      const expected = getContractAddress({ opcode: 'CREATE2', from: registry, salt, bytecode })
      const computed = await publicClient.readContract({
        address: registry,
        abi: erc6551RegistryAbi,
        functionName: 'account',
        args,
      })
      expect(computed).toBe(expected)
    }
  })

  test('createAccount: deploys the proxy with its footer and emits ERC6551AccountCreated', async () => {
    const tokenId = await mint(holder.address)
    const salt = pad('0x2a')
    const args = accountArgs(tokenId, { salt })
    const predicted = await publicClient.readContract({
      address: registry,
      abi: erc6551RegistryAbi,
      functionName: 'account',
      args,
    })
    const { account, receipt } = await createAccount(args)
    expect(account).toBe(predicted)

    const footer = encodeAbiParameters(
      [{ type: 'bytes32' }, { type: 'uint256' }, { type: 'address' }, { type: 'uint256' }],
      [salt, chainId, nft, tokenId],
    )
    const code = await publicClient.getCode({ address: account })
    expect(code).toBe(concat(['0x363d3d373d3d3d363d73', implementation, proxyTail, footer]).toLowerCase())

    const events = parseEventLogs({ abi: erc6551RegistryAbi, logs: receipt.logs })
    expect(events).toHaveLength(1)
    expect(events[0]!.eventName).toBe('ERC6551AccountCreated')
    expect(events[0]!.args).toEqual({ account, implementation, salt, chainId, tokenContract: nft, tokenId })
    expect(receipt.gasUsed).toMatchInlineSnapshot(`95064n`)
  })

  test('createAccount: returns the existing account without reverting or emitting', async () => {
    const tokenId = await mint(holder.address)
    const first = await createAccount(accountArgs(tokenId))
    const second = await createAccount(accountArgs(tokenId))
    expect(second.account).toBe(first.account)
    expect(second.receipt.logs).toHaveLength(0)
    expect(second.receipt.gasUsed).toMatchInlineSnapshot(`25603n`)
  })

  test('createAccount: reverts AccountCreationFailed when CREATE2 cannot deploy', async () => {
    const args = accountArgs(await mint(holder.address), { salt: pad('0xdead') })
    const predicted = await publicClient.readContract({
      address: registry,
      abi: erc6551RegistryAbi,
      functionName: 'account',
      args,
    })
    // A non-zero nonce without code makes the address collide, the only way CREATE2 fails here.
    await testClient.setNonce({ address: predicted, nonce: 1 })
    const error = await revertOf(
      publicClient.simulateContract({
        address: registry,
        abi: erc6551RegistryAbi,
        functionName: 'createAccount',
        args,
        account: holder,
      }),
    )
    expect(error.name).toBe('AccountCreationFailed')
  })
})

describe('AgentAccount', () => {
  test('supportsInterface: ERC-165, ERC-6551 account and executable, ERC-1271, ERC-721 receiver', async () => {
    const accountId = toHex(
      ['token()', 'state()', 'isValidSigner(address,bytes)']
        .map((signature) => BigInt(toFunctionSelector(signature)))
        .reduce((a, b) => a ^ b),
      { size: 4 },
    )
    expect(accountId).toBe(ids.erc6551Account)
    expect(toFunctionSelector('execute(address,uint256,bytes,uint8)')).toBe(ids.erc6551Executable)

    const { account } = await newAccount()
    const supports = (id: Hex) =>
      publicClient.readContract({
        address: account,
        abi: agentAccountAbi,
        functionName: 'supportsInterface',
        args: [id],
      })
    for (const id of Object.values(ids)) expect(await supports(id)).toBe(true)
    expect(await supports('0xffffffff')).toBe(false)
    expect(await supports('0x12345678')).toBe(false)
  })

  test('token: read from the proxy footer; zero on the implementation itself', async () => {
    const { account, tokenId } = await newAccount()
    expect(await read(account, 'token')).toEqual([chainId, nft, tokenId])
    expect(await read(implementation, 'token')).toEqual([0n, zeroAddress, 0n])
    expect(await read(implementation, 'owner')).toBe(zeroAddress)
  })

  test('owner and isValidSigner: the token holder, only on the token chain', async () => {
    const { account } = await newAccount()
    const isValidSigner = (address: Address, signer: Address) =>
      publicClient.readContract({
        address,
        abi: agentAccountAbi,
        functionName: 'isValidSigner',
        args: [signer, '0x'],
      })
    expect(await read(account, 'owner')).toBe(holder.address)
    expect(await isValidSigner(account, holder.address)).toBe(isValidSignerMagic)
    expect(await isValidSigner(account, stranger.address)).toBe('0x00000000')
    expect(await isValidSigner(account, zeroAddress)).toBe('0x00000000')

    // Same token, bound on another chain: nobody controls it here.
    const tokenId = (await read(account, 'token'))[2]
    const { account: foreign } = await createAccount(accountArgs(tokenId, { chainId: 1n }))
    expect(await read(foreign, 'owner')).toBe(zeroAddress)
    expect(await isValidSigner(foreign, holder.address)).toBe('0x00000000')
    expect(await revertOf(execute(foreign, holder, { to: stranger.address }))).toEqual({
      name: 'AgentAccountUnauthorized',
      args: [holder.address],
    })

    // A token that was never minted has no holder; owner() does not revert.
    const { account: unminted } = await createAccount(accountArgs(10_000n))
    expect(await read(unminted, 'owner')).toBe(zeroAddress)
    expect(await isValidSigner(unminted, zeroAddress)).toBe('0x00000000')
  })

  test('receive: accepts ether', async () => {
    const { account } = await newAccount()
    await mined(
      walletClient.sendTransaction({
        to: account,
        value: parseEther('1.5'),
        account: stranger,
        chain: anvil.chain,
      }),
    )
    expect(await publicClient.getBalance({ address: account })).toBe(parseEther('1.5'))
  })

  test('execute: the holder calls out, moves ether and gets the return data; state changes each time', async () => {
    const { account, tokenId } = await newAccount()
    const recipient = privateKeyToAccount(keccak256(stringToHex('execute recipient'))).address
    const states = [await read(account, 'state')]

    const receipt = await mined(
      execute(account, holder, { to: recipient, value: parseEther('1'), msgValue: parseEther('1') }),
    )
    expect(receipt.gasUsed).toMatchInlineSnapshot(`89230n`)
    expect(await publicClient.getBalance({ address: recipient })).toBe(parseEther('1'))
    states.push(await read(account, 'state'))

    const data = encodeFunctionData({ abi: testNftAbi, functionName: 'ownerOf', args: [tokenId] })
    const { result, request } = await publicClient.simulateContract({
      address: account,
      abi: agentAccountAbi,
      functionName: 'execute',
      args: [nft, 0n, data, 0],
      account: holder,
    })
    expect(decodeFunctionResult({ abi: testNftAbi, functionName: 'ownerOf', data: result })).toBe(
      holder.address,
    )
    await mined(walletClient.writeContract(request))
    states.push(await read(account, 'state'))

    await mined(execute(account, holder, { to: recipient }))
    states.push(await read(account, 'state'))
    expect(new Set(states).size).toBe(states.length)
    expect(states).toEqual([0n, 1n, 2n, 3n])
  })

  test('execute: reverts AgentAccountOperationNotSupported for anything but CALL', async () => {
    const { account } = await newAccount()
    for (const operation of [1, 2, 3, 255]) {
      expect(await revertOf(execute(account, holder, { to: stranger.address, operation }))).toEqual({
        name: 'AgentAccountOperationNotSupported',
        args: [operation],
      })
    }
  })

  test('execute: bubbles up the revert of the call', async () => {
    const { account } = await newAccount()
    const other = await mint(stranger.address)
    const data = encodeFunctionData({
      abi: testNftAbi,
      functionName: 'transferFrom',
      args: [stranger.address, account, other],
    })
    expect(await revertOf(execute(account, holder, { to: nft, data }))).toEqual({
      name: 'ERC721InsufficientApproval',
      args: [account, other],
    })
  })

  test('behavior: a token transfer hands control to the new holder', async () => {
    const { account, tokenId } = await newAccount()
    await mined(transferNft(holder, buyer.address, tokenId))
    expect(await read(account, 'owner')).toBe(buyer.address)
    await mined(execute(account, buyer, { to: stranger.address }))
    expect(await revertOf(execute(account, holder, { to: stranger.address }))).toEqual({
      name: 'AgentAccountUnauthorized',
      args: [holder.address],
    })
  })

  test('messageHash and eip712Domain: EIP-712 typed data bound to the account', async () => {
    const { account } = await newAccount()
    const hash = hashMessage('agent terms v1')
    const [fields, name, version, domainChainId, verifyingContract, salt, extensions] =
      await publicClient.readContract({
        address: account,
        abi: agentAccountAbi,
        functionName: 'eip712Domain',
      })
    expect({ fields, name, version, domainChainId, verifyingContract, salt, extensions }).toEqual({
      fields: '0x0f',
      name: 'AgentAccount',
      version: '1',
      domainChainId: chainId,
      verifyingContract: account,
      salt: zeroHash,
      extensions: [],
    })
    const expected = hashTypedData({
      domain: { name, version, chainId: anvil.chain.id, verifyingContract: account },
      types: { AgentAccountMessage: [{ name: 'hash', type: 'bytes32' }] },
      primaryType: 'AgentAccountMessage',
      message: { hash },
    })
    expect(
      await publicClient.readContract({
        address: account,
        abi: agentAccountAbi,
        functionName: 'messageHash',
        args: [hash],
      }),
    ).toBe(expected)
  })

  test('isValidSignature: the holder signs the wrapped digest; the signature serves this account only', async () => {
    const { account } = await newAccount()
    const { account: sibling } = await newAccount()
    const message = 'hire agent 42 for 10 USDC'
    const hash = hashMessage(message)
    const digest = await publicClient.readContract({
      address: account,
      abi: agentAccountAbi,
      functionName: 'messageHash',
      args: [hash],
    })
    const signature = await holder.sign({ hash: digest })
    const isValidSignature = (address: Address, sig: Hex) =>
      publicClient.readContract({
        address,
        abi: agentAccountAbi,
        functionName: 'isValidSignature',
        args: [hash, sig],
      })

    expect(await isValidSignature(account, signature)).toBe(ids.erc1271)
    expect(await publicClient.verifyHash({ address: account, hash, signature })).toBe(true)
    expect(await publicClient.verifyMessage({ address: account, message, signature })).toBe(true)

    // Same holder, other account: the digest differs, so the signature does not carry over.
    expect(await isValidSignature(sibling, signature)).toBe('0xffffffff')
    expect(await publicClient.verifyHash({ address: sibling, hash, signature })).toBe(false)
    // A raw signature of the unwrapped hash is not accepted either.
    const raw = await holder.sign({ hash })
    expect(await isValidSignature(account, raw)).toBe('0xffffffff')
    // Nor is anyone else's signature of the right digest, nor garbage.
    expect(await isValidSignature(account, await stranger.sign({ hash: digest }))).toBe('0xffffffff')
    expect(await isValidSignature(account, '0x1234')).toBe('0xffffffff')
  })

  test('isValidSignature: a holder that is itself a contract wallet signs through ERC-1271', async () => {
    const { account: parent } = await newAccount()
    const { account: child } = await newAccount(parent)
    expect(await read(child, 'owner')).toBe(parent)

    const hash = hashMessage('nested')
    const childDigest = await publicClient.readContract({
      address: child,
      abi: agentAccountAbi,
      functionName: 'messageHash',
      args: [hash],
    })
    const parentDigest = await publicClient.readContract({
      address: parent,
      abi: agentAccountAbi,
      functionName: 'messageHash',
      args: [childDigest],
    })
    const signature = await holder.sign({ hash: parentDigest })
    expect(await publicClient.verifyHash({ address: child, hash, signature })).toBe(true)
    expect(
      await publicClient.verifyHash({
        address: child,
        hash,
        signature: await holder.sign({ hash: childDigest }),
      }),
    ).toBe(false)

    // The parent's holder controls the child through the parent.
    const inner = encodeFunctionData({
      abi: agentAccountAbi,
      functionName: 'execute',
      args: [stranger.address, 0n, '0x', 0],
    })
    await mined(execute(parent, holder, { to: child, data: inner }))
    expect(await read(child, 'state')).toBe(1n)
  })

  test('onERC721Received: accepts other tokens, refuses the account its own token', async () => {
    const { account, tokenId } = await newAccount()
    const other = await mint(holder.address)
    await mined(transferNft(holder, account, other))
    expect(
      await publicClient.readContract({
        address: nft,
        abi: testNftAbi,
        functionName: 'ownerOf',
        args: [other],
      }),
    ).toBe(account)
    expect(
      await publicClient.readContract({
        address: account,
        abi: agentAccountAbi,
        functionName: 'onERC721Received',
        args: [holder.address, holder.address, 123n, '0x'],
        account: nft,
      }),
    ).toBe(ids.erc721Receiver)

    expect(await revertOf(transferNft(holder, account, tokenId))).toEqual({
      name: 'AgentAccountOwnTokenRefused',
      args: [tokenId],
    })
    expect(await read(account, 'owner')).toBe(holder.address)
  })

  test('onERC721Received: refuses a token whose arrival closes an ownership cycle', async () => {
    // parent holds the token of child; sending parent's token to child would make each own the other.
    const { account: parent, tokenId: parentToken } = await newAccount()
    const { account: child, tokenId: childToken } = await newAccount(parent)
    expect(await revertOf(transferNft(holder, child, parentToken))).toEqual({
      name: 'AgentAccountOwnTokenRefused',
      args: [childToken],
    })
    expect(await read(parent, 'owner')).toBe(holder.address)
  })

  test('execute: refuses a call that leaves the account owning its own token', async () => {
    const { account, tokenId } = await newAccount()
    await mined(
      walletClient.writeContract({
        address: nft,
        abi: testNftAbi,
        functionName: 'approve',
        args: [account, tokenId],
        account: holder,
        chain: anvil.chain,
      }),
    )
    // A plain transferFrom skips onERC721Received; the check after the call catches it.
    const data = encodeFunctionData({
      abi: testNftAbi,
      functionName: 'transferFrom',
      args: [holder.address, account, tokenId],
    })
    expect(await revertOf(execute(account, holder, { to: nft, data }))).toEqual({
      name: 'AgentAccountOwnTokenRefused',
      args: [tokenId],
    })
    expect(await read(account, 'owner')).toBe(holder.address)
  })

  test('behavior: ownership through a chain of accounts', async () => {
    const { account: parent } = await newAccount()
    const { account: child } = await newAccount(parent)
    expect(
      await publicClient.readContract({
        address: child,
        abi: agentAccountAbi,
        functionName: 'isValidSigner',
        args: [parent, '0x'],
      }),
    ).toBe(isValidSignerMagic)
    expect(
      await publicClient.readContract({
        address: child,
        abi: agentAccountAbi,
        functionName: 'MAX_OWNERSHIP_DEPTH',
      }),
    ).toBe(8n)
    expect(await revertOf(execute(child, holder, { to: stranger.address }))).toEqual({
      name: 'AgentAccountUnauthorized',
      args: [holder.address],
    })
  })
})

type Party = 'holder' | 'buyer' | 'stranger'
/** A call, made as the given account. */
type Write = (account: PrivateKeyAccount) => Promise<Hex>

/** Who may call what: only the holder of the token acts through its account. */
const access: AccessRule<Party, Write>[] = [
  {
    fn: 'execute',
    allowed: ['holder'],
    refused: ['stranger', 'buyer'],
    error: 'AgentAccountUnauthorized',
    arrange: async (caller) => {
      const { account } = await newAccount()
      return {
        call: (as) => execute(account, as, { to: stranger.address }),
        errorArgs: [caller],
        unchanged: async () => expect(await read(account, 'state')).toBe(0n),
      }
    },
  },
]

describe('access control', () => {
  testAccessControl(access, {
    account: (party) => ({ holder, buyer, stranger })[party],
    succeeds: (account, write) => mined(write(account)),
    revertOf: (account, write) => revertOf(write(account)),
  })
})
