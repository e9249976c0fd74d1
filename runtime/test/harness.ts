import { randomBytes } from 'node:crypto'
import { type Devnet, devUSDAbi, startDevnet } from '@agora/contracts'
import { createDb, type Db } from '@agora/db'
import { createTemporaryDatabase } from '@agora/db/testing'
import {
  type Address,
  createPublicClient,
  createWalletClient,
  erc20Abi,
  type Hex,
  http,
  parseUnits,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { OwnerSignatureRequest } from '../src/actions/agents/owner-transaction.ts'
import { type CreateRuntimeParameters, createRuntime } from '../src/create-runtime.ts'
import type { AgentDefinition } from '../src/define-agent.ts'
import { OwnerSignatureRequiredError } from '../src/errors.ts'
import type { Runtime } from '../src/runtime.ts'

export type Adapter = { name: 'pglite' | 'postgres'; skip?: string }

/** PGlite always; Postgres when DATABASE_URL is set (a fresh database per runtime). */
export const adapters: Adapter[] = [
  { name: 'pglite' },
  {
    name: 'postgres',
    ...(process.env.DATABASE_URL ? {} : { skip: 'DATABASE_URL is not set' }),
  },
]

/** Opens a fresh database of the adapter's kind; `close` drops it. */
export async function openDatabase(adapter: Adapter) {
  if (adapter.name === 'pglite') return createDb()
  const temporary = await createTemporaryDatabase()
  const opened = await createDb({ url: temporary.url })
  return {
    ...opened,
    async close() {
      await opened.close()
      await temporary.drop()
    },
  }
}

/**
 * A runtime on `devnet` with its own database and relayers (so runtimes in one file do not share
 * nonces); `db` is that database, for tests that read what the runtime stored.
 */
export async function openRuntime(
  devnet: Devnet,
  adapter: Adapter,
  definitions: AgentDefinition[],
  relayerIndexes: number[] = [12, 13, 14, 15],
  log: (line: string) => void = () => {},
  options: Partial<CreateRuntimeParameters> = {},
): Promise<{ runtime: Runtime; db: Db; close(): Promise<void> }> {
  const database = await openDatabase(adapter)
  const runtime = await createRuntime({
    chain: { rpcUrl: devnet.rpcUrl, manifest: devnet.manifest },
    db: database.db,
    masterKey: randomBytes(32),
    relayerKeys: relayerIndexes.map((i) => devnet.manifest.accounts[i]!.privateKey),
    definitions,
    pollIntervalMs: 50,
    log,
    ...options,
  })
  await runtime.start()
  return {
    runtime,
    db: database.db,
    async close() {
      await runtime.stop()
      await database.close()
    },
  }
}

export function devnetClients(devnet: Devnet) {
  const transport = http(devnet.rpcUrl)
  const publicClient = createPublicClient({ chain: devnet.chain, transport })
  const owner = (i: number) =>
    createWalletClient({
      account: privateKeyToAccount(devnet.manifest.accounts[i]!.privateKey),
      chain: devnet.chain,
      transport,
    })
  return {
    publicClient,
    owner,
    /** Sends `amount` dUSD from development account `from` to `to`. */
    async fund(to: string, amount: string, from = 1) {
      const hash = await owner(from).writeContract({
        address: devnet.manifest.contracts.devUSD,
        abi: devUSDAbi,
        functionName: 'transfer',
        args: [to as Address, parseUnits(amount, 6)],
      })
      await publicClient.waitForTransactionReceipt({ hash })
    },
    dUSD(address: string) {
      return publicClient.readContract({
        address: devnet.manifest.contracts.devUSD,
        abi: erc20Abi,
        functionName: 'balanceOf',
        args: [address as Address],
      })
    },
    /** Moves chain time forward and mines a block. */
    async advance(seconds: number) {
      await publicClient.request({ method: 'evm_increaseTime' as never, params: [seconds] as never })
      await publicClient.request({ method: 'evm_mine' as never, params: [] as never })
    },
  }
}

/**
 * Runs `update` (a runtime call that may need the Safe owners' signature first) the way an owner
 * does: the first call throws `OwnerSignatureRequiredError` with the Safe transaction; development
 * account `ownerIndex` signs it (EIP-712, as any Safe tool does) and the call runs again with it.
 */
export async function asOwner<T>(
  devnet: Devnet,
  ownerIndex: number,
  update: (ownerSignature?: Hex) => Promise<T>,
): Promise<T> {
  try {
    return await update()
  } catch (error) {
    if (!(error instanceof OwnerSignatureRequiredError)) throw error
    const request = error.request as unknown as OwnerSignatureRequest
    const { safeTransaction: t, typedData } = request
    const signature = await privateKeyToAccount(
      devnet.manifest.accounts[ownerIndex]!.privateKey,
    ).signTypedData({
      ...typedData,
      message: {
        ...t,
        value: BigInt(t.value),
        safeTxGas: 0n,
        baseGas: 0n,
        gasPrice: 0n,
        nonce: BigInt(t.nonce),
      },
    })
    return update(signature)
  }
}

export async function withDevnet() {
  return startDevnet({ log: () => {}, submissionGraceSeconds: 600 })
}
