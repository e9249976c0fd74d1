import type { Devnet } from '@agora/contracts'
import { agentEconomyAbi } from '@agora/contracts'
import { parseEventLogs, parseUnits } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { z } from 'zod'
import { defineAgent } from '../src/define-agent.ts'
import type { AgentHandle, Runtime } from '../src/runtime.ts'
import { adapters, devnetClients, openRuntime, withDevnet } from './harness.ts'

const dusd = (v: string) => parseUnits(v, 6)
const JOBS = 8

const echo = defineAgent({
  name: 'batch-echo',
  offerings: [
    {
      name: 'echo',
      description: 'Repeats text',
      price: '1',
      token: 'dUSD',
      input: z.object({ text: z.string() }),
      handler: ({ text }) => ({ text }),
    },
  ],
})

describe.each(adapters)('batched job steps on $name', (adapter) => {
  let devnet: Devnet
  let runtime: Runtime
  let close: () => Promise<void>
  let client: AgentHandle
  let provider: AgentHandle
  const chain = () => devnetClients(devnet)

  beforeAll(async () => {
    if (adapter.skip) return
    devnet = await withDevnet()
    ;({ runtime, close } = await openRuntime(devnet, adapter, [echo]))
    const owner = devnet.manifest.accounts[1]!.address
    const otherOwner = devnet.manifest.accounts[2]!.address
    ;[client, provider] = await Promise.all([
      runtime.launch(defineAgent({ name: 'batch-client' }), { owner }),
      runtime.launch(echo, { owner: otherOwner }),
    ])
    await chain().fund((await client.info()).safe!, '100')
  })
  afterAll(async () => {
    await close?.()
    await devnet?.stop()
  })

  test.skipIf(adapter.skip)(
    "behavior: jobs hired together share the client's and the provider's transactions; each settles once, exactly paid",
    async () => {
      const providerId = (await provider.info()).chainAgentId!
      const [clientSafe, providerSafe] = [(await client.info()).safe!, (await provider.info()).safe!]
      const before = await Promise.all([chain().dUSD(clientSafe), chain().dUSD(providerSafe)])
      const jobs = await Promise.all(
        Array.from({ length: JOBS }, (_, i) =>
          client.hire({
            provider: providerId,
            offering: 'echo',
            input: { text: `t${i}` },
            idempotencyKey: `j${i}`,
          }),
        ),
      )
      const done = await Promise.all(jobs.map((job) => job.done({ timeoutMs: 60_000 })))
      expect(done.map((j) => j.status)).toEqual(Array(JOBS).fill('completed'))
      expect(done.map((j) => j.deliverable)).toEqual(
        Array.from({ length: JOBS }, (_, i) => ({ text: `t${i}` })),
      )
      // Fewer transactions than jobs at each step: the steps queued together went out together.
      for (const step of ['create', 'submit', 'settle'] as const) {
        const hashes = new Set(done.map((j) => j.transactions[step]))
        expect(hashes.has(null)).toBe(false)
        expect(hashes.size, step).toBeLessThan(JOBS)
      }
      // Each job has exactly one event of each step on chain, in the transaction its row names.
      const hashes = new Set(
        done.flatMap((j) => [j.transactions.create, j.transactions.submit, j.transactions.settle]),
      )
      const receipts = await Promise.all(
        [...hashes].map((hash) =>
          chain().publicClient.getTransactionReceipt({ hash: hash as `0x${string}` }),
        ),
      )
      const events = receipts.flatMap((r) =>
        parseEventLogs({ abi: agentEconomyAbi, logs: r.logs }).map((e) => ({ ...e, tx: r.transactionHash })),
      )
      for (const job of done)
        for (const [name, step] of [
          ['JobCreated', 'create'],
          ['JobSubmitted', 'submit'],
          ['JobCompleted', 'settle'],
        ] as const) {
          const mine = events.filter(
            (e) => e.eventName === name && (e.args as { jobId: bigint }).jobId.toString() === job.jobId,
          )
          expect(mine, `${name} of ${job.jobId}`).toHaveLength(1)
          expect(mine[0]!.tx).toBe(job.transactions[step])
        }
      const after = await Promise.all([chain().dUSD(clientSafe), chain().dUSD(providerSafe)])
      expect(before[0] - after[0]).toBe(dusd('1') * BigInt(JOBS))
      const payouts = done.reduce((sum, j) => sum + BigInt(j.payout?.value ?? 0), 0n)
      expect(after[1] - before[1]).toBe(payouts)
    },
  )
})
