import { getSingletonFactoryInfo } from '@safe-global/safe-singleton-factory'
import {
  type Address,
  concat,
  createPublicClient,
  createWalletClient,
  getAddress,
  type Hex,
  http,
  type PublicClient,
  parseEther,
  zeroHash,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { type Anvil, type StartAnvilParameters, startAnvil } from './anvil.ts'
import {
  create2DeployerAddress,
  erc6551RegistryCanonical,
  multicall3Canonical,
  safeCanonicalAddresses,
} from './canonical.ts'
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
import type { SafeAddresses } from './manifest.ts'

export type CanonicalChain = { anvil: Anvil; publicClient: PublicClient; stop(): Promise<void> }

/**
 * A fresh anvil holding only what a public chain offers before Agora is deployed there: Safe 1.4.1
 * through the Safe singleton factory, the ERC-6551 registry through the CREATE2 deployer and
 * Multicall3 from its pre-signed transaction, each by the transaction that deploys it on public chains.
 * What `npm run deploy` is tested against.
 *
 * @example
 * const { anvil, stop } = await startCanonicalChain()
 * // deploy Agora to anvil.rpcUrl ...
 * await stop()
 */
export async function startCanonicalChain(parameters: StartAnvilParameters = {}): Promise<CanonicalChain> {
  const anvil = await startAnvil({ log: () => {}, ...parameters })
  try {
    const publicClient = createPublicClient({
      chain: anvil.chain,
      transport: http(anvil.rpcUrl),
    }) as PublicClient
    // The last development account pays, so the ones tests use keep their nonces and balances.
    const funder = createWalletClient({
      account: privateKeyToAccount(anvil.privateKeys.at(-1)!),
      chain: anvil.chain,
      transport: http(anvil.rpcUrl),
    })
    const confirm = async (hash: Hex, what: string) => {
      const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 })
      if (receipt.status !== 'success') throw new Error(`canonical chain: ${what} reverted (tx ${hash})`)
    }
    const keyless = async (signer: Address, value: bigint, transaction: Hex, what: string) => {
      await confirm(await funder.sendTransaction({ to: signer, value }), `funding ${what}`)
      await confirm(await publicClient.sendRawTransaction({ serializedTransaction: transaction }), what)
    }

    const factory = getSingletonFactoryInfo(anvil.chain.id)!
    await keyless(
      getAddress(factory.signerAddress),
      BigInt(factory.gasLimit) * BigInt(factory.gasPrice),
      factory.transaction as Hex,
      'the Safe singleton factory',
    )
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
    for (const [name, bytecode] of Object.entries(safeBytecodes)) {
      const hash = await funder.sendTransaction({
        to: getAddress(factory.address),
        data: concat([zeroHash, bytecode]),
      })
      await confirm(hash, `Safe ${name}`)
    }
    await confirm(
      await funder.sendTransaction({
        to: create2DeployerAddress,
        data: concat([erc6551RegistryCanonical.salt, erc6551RegistryCanonical.initCode]),
      }),
      'the ERC-6551 registry',
    )
    await keyless(
      multicall3Canonical.deployer,
      parseEther('0.1'),
      multicall3Canonical.signedDeployment,
      'Multicall3',
    )
    for (const address of [
      ...Object.values(safeCanonicalAddresses),
      erc6551RegistryCanonical.address,
      multicall3Canonical.address,
    ]) {
      if (((await publicClient.getCode({ address })) ?? '0x') === '0x')
        throw new Error(`canonical chain: nothing landed at ${address}`)
    }
    return { anvil, publicClient, stop: anvil.stop }
  } catch (error) {
    await anvil.stop()
    throw error
  }
}

/**
 * Deploys a 6-decimal test token (the devnet's `DevUSD`: EIP-2612 and EIP-3009, like USDC) minted
 * by `minterKey`, and mints `amount` base units to each of `holders`.
 */
export async function deployTestToken(
  anvil: Pick<Anvil, 'chain' | 'rpcUrl'>,
  minterKey: Hex,
  mints: { to: Address; amount: bigint }[] = [],
): Promise<Address> {
  const publicClient = createPublicClient({ chain: anvil.chain, transport: http(anvil.rpcUrl) })
  const wallet = createWalletClient({
    account: privateKeyToAccount(minterKey),
    chain: anvil.chain,
    transport: http(anvil.rpcUrl),
  })
  const deployed = await publicClient.waitForTransactionReceipt({
    hash: await wallet.deployContract({ abi: devUSDAbi, bytecode: devUSDBytecode }),
  })
  const token = getAddress(deployed.contractAddress!)
  for (const { to, amount } of mints) {
    await publicClient.waitForTransactionReceipt({
      hash: await wallet.writeContract({
        address: token,
        abi: devUSDAbi,
        functionName: 'mint',
        args: [to, amount],
      }),
    })
  }
  return token
}
