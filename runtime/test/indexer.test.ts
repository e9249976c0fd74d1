import { agentEconomyAbi, agentIdentityRegistryAbi, type Devnet, devUSDAbi } from '@agora/contracts'
import { createDb } from '@agora/db'
import { keccak256, maxUint256, parseUnits, toHex, zeroAddress } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { z } from 'zod'
import { createRuntime } from '../src/create-runtime.ts'
import { defineAgent } from '../src/define-agent.ts'
import { type ChainEvent, createIndexer } from '../src/projection/indexer.ts'
import { createIndexerStore } from '../src/projection/indexer-store.ts'
import { devnetClients, withDevnet } from './harness.ts'

describe('createIndexer', () => {
  let devnet: Devnet
  beforeAll(async () => {
    devnet = await withDevnet()
  })
  afterAll(async () => {
    await devnet?.stop()
  })

  test('behavior: a reorg rewinds the cursor to the common ancestor and replays the new branch', async () => {
    const { publicClient, owner } = devnetClients(devnet)
    const { db, close } = await createDb()
    const seen: string[] = []
    const reorgs: bigint[] = []
    const indexer = createIndexer({
      publicClient,
      store: createIndexerStore(db),
      addresses: [devnet.manifest.contracts.identityRegistry],
      fromBlock: BigInt(devnet.manifest.deploymentBlock),
      onEvents: async (events: ChainEvent[]) => {
        for (const e of events) if (e.eventName === 'Registered') seen.push(String(e.args.agentURI))
      },
      onReorg: async (ancestor) => {
        reorgs.push(ancestor)
      },
    })
    const register = async (uri: string) => {
      const hash = await owner(5).writeContract({
        address: devnet.manifest.contracts.identityRegistry,
        abi: agentIdentityRegistryAbi,
        functionName: 'register',
        args: [uri],
      })
      return publicClient.waitForTransactionReceipt({ hash })
    }
    await register('before')
    await indexer.step()
    const fork = (await publicClient.request({ method: 'evm_snapshot' as never })) as string
    const orphaned = await register('orphaned')
    await indexer.step()
    expect(seen).toEqual(['before', 'orphaned'])

    // Another branch replaces the orphaned block: a new transaction at the same height, then more.
    await publicClient.request({ method: 'evm_revert' as never, params: [fork] as never })
    await publicClient.request({ method: 'evm_mine' as never, params: [] as never })
    const replacement = await register('replacement')
    expect((await publicClient.getBlock({ blockNumber: orphaned.blockNumber })).hash).not.toBe(
      orphaned.blockHash,
    )
    await indexer.step()
    expect(reorgs).toHaveLength(1)
    expect(reorgs[0]).toBeLessThan(orphaned.blockNumber)
    expect(seen).toEqual(['before', 'orphaned', 'replacement'])
    const cursor = await createIndexerStore(db).getCursor('economy')
    expect(cursor?.blockNumber).toBe(replacement.blockNumber)
    await close()
  })
})

describe('restart', () => {
  let devnet: Devnet
  beforeAll(async () => {
    devnet = await withDevnet()
  })
  afterAll(async () => {
    await devnet?.stop()
  })

  test('behavior: a job created for a hosted agent while the runtime was down is handled at the next start', async () => {
    const echo = defineAgent({
      name: 'echo',
      offerings: [
        {
          name: 'echo',
          description: 'Echoes',
          price: '1',
          token: 'dUSD',
          input: z.object({ text: z.string() }),
          handler: ({ text }) => ({ text }),
        },
      ],
    })
    const { publicClient, owner, dUSD } = devnetClients(devnet)
    const database = await createDb()
    const options = {
      chain: { rpcUrl: devnet.rpcUrl, manifest: devnet.manifest },
      db: database.db,
      masterKey: new Uint8Array(32).fill(9),
      relayerKeys: [devnet.manifest.accounts[18]!.privateKey],
      definitions: [echo],
      // No input will be handed over for the outside job below: decline it as soon as it is seen.
      jobInputGraceMs: 0,
      log: () => {},
    }
    const first = await createRuntime(options)
    await first.start()
    const provider = await first.launch(echo, { owner: devnet.manifest.accounts[1]!.address })
    const providerId = BigInt((await provider.info()).chainAgentId!)
    await first.stop()

    // While no runtime runs, an outside client (a plain account) hires the agent on-chain.
    const client = owner(6)
    const { contracts } = devnet.manifest
    await publicClient.waitForTransactionReceipt({
      hash: await client.writeContract({
        address: contracts.devUSD,
        abi: devUSDAbi,
        functionName: 'approve',
        args: [contracts.economy, maxUint256],
      }),
    })
    const before = await dUSD(client.account.address)
    const deadline = (await publicClient.getBlock()).timestamp + 3_600n
    const specHash = keccak256(toHex('a job from outside'))
    await publicClient.waitForTransactionReceipt({
      hash: await client.writeContract({
        address: contracts.economy,
        abi: agentEconomyAbi,
        functionName: 'createJob',
        args: [providerId, zeroAddress, contracts.devUSD, parseUnits('1', 6), deadline, specHash],
      }),
    })
    const jobId = await publicClient.readContract({
      address: contracts.economy,
      abi: agentEconomyAbi,
      functionName: 'jobIdOf',
      args: [client.account.address, providerId, specHash],
    })

    // The next start catches up: the provider sees the job. No input was handed over for it (and this
    // runtime gives none any time), so the provider declines it at once and the client is refunded
    // (rather than waiting for the deadline).
    const second = await createRuntime(options)
    await second.start()
    const job = await second.job(jobId.toString()).done({ timeoutMs: 30_000 })
    expect(job.status).toBe('declined')
    expect(job.provider.agentId).toBe(provider.id)
    expect(await dUSD(client.account.address)).toBe(before)
    await second.stop()
    await database.close()
  })
})
