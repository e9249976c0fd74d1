import type { Devnet } from '@agora/contracts'
import { type Db, listPayments } from '@agora/db'
import { parseAbiItem, parseUnits } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createRuntime } from '../src/create-runtime.ts'
import { defineAgent } from '../src/define-agent.ts'
import type { AgentHandle, Runtime } from '../src/runtime.ts'
import { adapters, devnetClients, openRuntime, withDevnet } from './harness.ts'

const paidEvent = parseAbiItem(
  'event Paid(uint256 indexed toAgentId, address indexed from, address indexed token, address to, uint256 amount, bytes32 memo)',
)
const dusd = (v: string) => parseUnits(v, 6)

describe.each(adapters)('batched payments on $name', (adapter) => {
  let devnet: Devnet
  let runtime: Runtime
  let db: Db
  let close: () => Promise<void>
  let payer: AgentHandle
  let payee: AgentHandle
  let payeeId: string
  const lines: string[] = []
  const chain = () => devnetClients(devnet)
  const safeOf = async (agent: AgentHandle) => (await agent.info()).safe!

  beforeAll(async () => {
    if (adapter.skip) return
    devnet = await withDevnet()
    ;({ runtime, db, close } = await openRuntime(devnet, adapter, [], undefined, (line) => lines.push(line)))
    const owner = devnet.manifest.accounts[1]!.address
    ;[payer, payee] = await Promise.all([
      runtime.launch(defineAgent({ name: 'payer' }), { owner }),
      runtime.launch(defineAgent({ name: 'payee' }), { owner }),
    ])
    payeeId = (await payee.info()).chainAgentId!
  })
  afterAll(async () => {
    await close?.()
    await devnet?.stop()
  })

  test.skipIf(adapter.skip)(
    "behavior: a Safe's queued payments share transactions; each lands once, with its own event",
    async () => {
      const [payerSafe, payeeSafe] = await Promise.all([safeOf(payer), safeOf(payee)])
      await chain().fund(payerSafe, '10')
      const fromBlock = await chain().publicClient.getBlockNumber()
      const payments = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          payer.pay({
            to: payeeId,
            amount: ((i + 1) / 100).toFixed(2),
            memo: `n${i}`,
            idempotencyKey: `b${i}`,
          }),
        ),
      )
      expect(payments.every((p) => p.status === 'confirmed')).toBe(true)
      const transactions = new Set(payments.map((p) => p.txHash))
      expect(transactions.size).toBeLessThan(12)
      const paid = await chain().publicClient.getLogs({
        address: devnet.manifest.contracts.economy,
        event: paidEvent,
        args: { from: payerSafe as `0x${string}` },
        fromBlock,
      })
      // One event per payment, in the transaction its row names, with its own amount.
      expect(paid).toHaveLength(12)
      for (const payment of payments) {
        const event = paid.filter((e) => e.args.amount === BigInt(payment.amount.value))
        expect(event).toHaveLength(1)
        expect(event[0]!.transactionHash).toBe(payment.txHash)
      }
      const total = Array.from({ length: 12 }, (_, i) => dusd(((i + 1) / 100).toFixed(2))).reduce(
        (a, b) => a + b,
      )
      expect(await chain().dUSD(payeeSafe)).toBe(total)
      expect(await chain().dUSD(payerSafe)).toBe(dusd('10') - total)
    },
  )

  test.skipIf(adapter.skip)(
    'behavior: a batch with a payment the token refuses falls back to one by one: only that one fails',
    async () => {
      const [payerSafe, payeeSafe] = await Promise.all([safeOf(payer), safeOf(payee)])
      const left = await chain().dUSD(payerSafe)
      const before = await chain().dUSD(payeeSafe)
      // Enough for all but the last: the last would fail inside any batch holding all of them.
      const amount = left / 3n + 1n
      const results = await Promise.allSettled(
        Array.from({ length: 3 }, (_, i) =>
          payer.pay({ to: payeeId, amount: (Number(amount) / 1e6).toFixed(6), idempotencyKey: `f${i}` }),
        ),
      )
      const refused = results.filter((r) => r.status === 'rejected')
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2)
      expect(refused).toHaveLength(1)
      expect(String((refused[0] as PromiseRejectedResult).reason)).toMatch(/ERC20InsufficientBalance/)
      expect((await chain().dUSD(payeeSafe)) - before).toBe(amount * 2n)
      // Payment views carry no idempotency key: the stored rows tell these three apart.
      const rows = (await listPayments(db, { agentId: payer.id })).items.filter((p) =>
        p.idempotencyKey.match(/:f\d$/),
      )
      expect(rows.map((p) => p.status).sort()).toEqual(['confirmed', 'confirmed', 'failed'])
      const views = new Map((await payer.payments()).map((p) => [p.id, p.status]))
      expect(rows.map((p) => views.get(p.id)).sort()).toEqual(['confirmed', 'confirmed', 'failed'])
      expect(
        lines.some((line) => /pay intents refused as one batch; sending them one by one/.test(line)),
      ).toBe(true)
    },
  )

  test.skipIf(adapter.skip)(
    'behavior: a maxBatch that is not a whole number from 1 up is refused',
    async () => {
      for (const maxBatch of [0, 2.5, Number.NaN]) {
        await expect(
          createRuntime({
            chain: { rpcUrl: devnet.rpcUrl, manifest: devnet.manifest },
            db,
            masterKey: new Uint8Array(32).fill(3),
            relayerKeys: [devnet.manifest.accounts[18]!.privateKey],
            maxBatch,
          }),
        ).rejects.toThrow(/maxBatch must be a whole number from 1 up/)
      }
    },
  )
})
