import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type DeploymentManifest, deployAgora, devUSDAbi } from '@agora/contracts'
import { type CanonicalChain, deployTestToken, startCanonicalChain } from '@agora/contracts/testing'
import { createDb } from '@agora/db'
import { type Address, createWalletClient, erc20Abi, http, parseUnits } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createRuntime } from '../src/create-runtime.ts'
import { defineAgent } from '../src/define-agent.ts'
import type { Runtime } from '../src/runtime.ts'

// A chain as a public one looks before Agora arrives (the canonical contracts only), Agora deployed
// to it as `npm run deploy` does, with a token of the operator's choosing instead of the devnet's dUSD.

let chain: CanonicalChain
let manifest: DeploymentManifest
let token: Address
let runtime: Runtime
let closeDb: () => Promise<void>
let tempDir: string

beforeAll(async () => {
  tempDir = mkdtempSync(join(tmpdir(), 'agora-deployed-chain-'))
  chain = await startCanonicalChain({ accounts: 8 })
  const keys = chain.anvil.privateKeys
  token = await deployTestToken(chain.anvil, keys[1]!)
  ;({ manifest } = await deployAgora({
    rpcUrl: chain.anvil.rpcUrl,
    privateKey: keys[0]!,
    progressPath: join(tempDir, 'deployment.json.progress'),
    tokens: [{ symbol: 'USDC', address: token }],
    log: () => {},
  }))
  const database = await createDb()
  closeDb = database.close
  runtime = await createRuntime({
    chain: { rpcUrl: chain.anvil.rpcUrl, manifest: JSON.parse(JSON.stringify(manifest)) },
    db: database.db,
    masterKey: randomBytes(32),
    relayerKeys: [keys[5]!, keys[6]!],
    definitions: [defineAgent({ name: 'seller' }), defineAgent({ name: 'buyer' })],
    pollIntervalMs: 50,
    log: () => {},
  })
  await runtime.start()
})

afterAll(async () => {
  await runtime?.stop()
  await closeDb?.()
  await chain?.stop()
  rmSync(tempDir, { recursive: true, force: true })
})

describe('a runtime on a chain deployed with deployAgora', () => {
  test('default: two agents launch, one is funded with the configured token and pays the other', async () => {
    expect(manifest.contracts.devUSD).toBeUndefined()
    const keys = chain.anvil.privateKeys
    const [seller, buyer] = await Promise.all([
      runtime.launch(defineAgent({ name: 'seller' }), { owner: privateKeyToAccount(keys[2]!).address }),
      runtime.launch(defineAgent({ name: 'buyer' }), { owner: privateKeyToAccount(keys[3]!).address }),
    ])
    const [sellerInfo, buyerInfo] = await Promise.all([seller.info(), buyer.info()])
    expect(sellerInfo.status).toBe('active')
    const minter = createWalletClient({
      account: privateKeyToAccount(keys[1]!),
      chain: chain.anvil.chain,
      transport: http(chain.anvil.rpcUrl),
    })
    await chain.publicClient.waitForTransactionReceipt({
      hash: await minter.writeContract({
        address: token,
        abi: devUSDAbi,
        functionName: 'mint',
        args: [buyerInfo.safe as Address, parseUnits('100', 6)],
      }),
    })

    // No token named: the manifest's first token is the default, as dUSD is on the devnet.
    const payment = await buyer.pay({ to: sellerInfo.chainAgentId!, amount: '2.5', memo: 'first sale' })
    expect(payment.status).toBe('confirmed')
    const usdcOf = (address: string) =>
      chain.publicClient.readContract({
        address: token,
        abi: erc20Abi,
        functionName: 'balanceOf',
        args: [address as Address],
      })
    expect(await usdcOf(sellerInfo.safe!)).toBe(parseUnits('2.5', 6))
    expect(await usdcOf(buyerInfo.safe!)).toBe(parseUnits('97.5', 6))
    const balances = await buyer.balances()
    expect(balances.map((b) => [b.symbol, b.formatted])).toEqual([
      ['ETH', '0'],
      ['USDC', '97.5'],
    ])
    await expect(buyer.pay({ to: sellerInfo.chainAgentId!, amount: '1', token: 'dUSD' })).rejects.toThrow(
      /Unknown token "dUSD": use one of ETH, USDC/,
    )
  })
})
