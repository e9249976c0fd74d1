import { agentEconomyAbi, type Devnet } from '@agora/contracts'
import { type Db, getIntentByKey } from '@agora/db'
import { type Address, type Hex, keccak256, parseEventLogs, toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { defineAgent } from '../src/define-agent.ts'
import type { AgentHandle, Runtime } from '../src/runtime.ts'
import { compileGasGriefer } from './fixtures/gas-griefer.ts'
import { devnetClients, openRuntime, withDevnet } from './harness.ts'

/** Resolves `promise`, or rejects saying what hung after `ms`. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} hung for ${ms} ms`)), ms)),
  ])
}

/**
 * Issue 10, finding 1: a client contract whose `receive()` burns gas only when `tx.gasprice > 0`
 * hires a hosted agent again and again (1 wei jobs the agent declines, refunding the griefer). Every
 * transaction of the runtime goes through one relayer here, so a nonce it lost would stall them all.
 */
describe('gas griefing', () => {
  let devnet: Devnet
  let runtime: Runtime
  let db: Db
  let close: () => Promise<void>
  let payer: AgentHandle
  let payee: AgentHandle
  let victim: AgentHandle
  let griefer: Address
  let grieferAbi: ReturnType<typeof compileGasGriefer>['abi']
  const chain = () => devnetClients(devnet)

  beforeAll(async () => {
    devnet = await withDevnet()
    // The griefer hands over no input: its jobs are declined as soon as they are seen.
    ;({ runtime, db, close } = await openRuntime(devnet, { name: 'pglite' }, [], [12], () => {}, {
      jobInputGraceMs: 0,
    }))
    const owner = devnet.manifest.accounts[1]!.address
    victim = await runtime.launch(defineAgent({ name: 'victim' }), { owner })
    payer = await runtime.launch(defineAgent({ name: 'bystander-payer' }), { owner })
    payee = await runtime.launch(defineAgent({ name: 'bystander-payee' }), { owner })
    await chain().fund((await payer.info()).safe!, '100')
    const { abi, bytecode } = compileGasGriefer()
    grieferAbi = abi
    const hash = await chain()
      .owner(3)
      .deployContract({ abi, bytecode, args: [devnet.manifest.contracts.economy], value: 10n ** 15n })
    griefer = (await chain().publicClient.waitForTransactionReceipt({ hash })).contractAddress!
  })
  afterAll(async () => {
    await close?.()
    await devnet?.stop()
  })

  /** The griefer hires the victim for 1 wei; resolves with the job id. */
  async function grief(round: number): Promise<string> {
    const hash = await chain()
      .owner(3)
      .writeContract({
        address: griefer,
        abi: grieferAbi,
        functionName: 'hire',
        args: [
          BigInt((await victim.info()).chainAgentId!),
          1n,
          BigInt(Math.floor(Date.now() / 1_000) + 3_600),
          keccak256(toHex(`grief ${round}`)),
        ],
      })
    const receipt = await chain().publicClient.waitForTransactionReceipt({ hash })
    const [created] = parseEventLogs({ abi: agentEconomyAbi, eventName: 'JobCreated', logs: receipt.logs })
    return created!.args.jobId.toString()
  }

  /** Waits until the victim's decline of `jobId` is final (landed or given up), or `ms` passed. */
  async function declineSettled(jobId: string, ms: number) {
    const deadline = Date.now() + ms
    while (Date.now() < deadline) {
      const intent = await getIntentByKey(db, `declineJob:${jobId}`)
      if (intent && (intent.status === 'confirmed' || intent.status === 'failed')) return intent
      await new Promise((r) => setTimeout(r, 50))
    }
    return getIntentByKey(db, `declineJob:${jobId}`)
  }

  test('behavior: a hostile client cannot escalate gas limits or stall other agents', async () => {
    const to = (await payee.info()).chainAgentId!
    const limits: bigint[] = []
    const outcomes: string[] = []
    let paid = 0
    for (let round = 0; round < 10; round++) {
      const jobId = await grief(round)
      const decline = await declineSettled(jobId, 20_000)
      // The decline is final (landed or given up), never left signed but unsent.
      expect(decline?.status, `decline ${round}: ${decline?.lastError}`).toMatch(/^(confirmed|failed)$/)
      outcomes.push(decline?.status ?? 'none')
      if (decline?.txHash) {
        const tx = await chain().publicClient.getTransaction({ hash: decline.txHash as Hex })
        limits.push(tx.gas)
      }
      // Another agent's payment, on the same relayer, lands meanwhile.
      const payment = await within(20_000, `payment ${round}`, payer.pay({ to, amount: '1' }))
      expect(payment.status).toBe('confirmed')
      paid++
    }
    console.log(
      `griefing: 10 rounds, declines ${outcomes.join(' ')}, gas limits ${limits.join(' ')}, bystander payments ${paid}/10`,
    )
    expect(paid).toBe(10)
    // Limits stay bounded (a decline needs about 100k gas), far below the block gas limit.
    expect(limits.length).toBeGreaterThan(0)
    for (const limit of limits) expect(limit).toBeLessThanOrEqual(1_000_000n)
    // Nothing is left behind a nonce gap: every transaction the relayer signed has landed.
    const relayer = devnet.manifest.accounts[12]!.address
    const [latest, pending] = await Promise.all([
      chain().publicClient.getTransactionCount({ address: relayer, blockTag: 'latest' }),
      chain().publicClient.getTransactionCount({ address: relayer, blockTag: 'pending' }),
    ])
    expect(pending).toBe(latest)
  })
})
