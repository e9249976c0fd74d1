import { agentEconomyAbi, type Devnet } from '@agora/contracts'
import { parseUnits } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { z } from 'zod'
import { defineAgent } from '../src/define-agent.ts'
import type { AgentHandle, Runtime } from '../src/runtime.ts'
import { adapters, devnetClients, openRuntime, withDevnet } from './harness.ts'

const AGENTS = 8
const PAYMENTS_EACH = 4
const HIRES_EACH = 2

const worker = (i: number) =>
  defineAgent({
    name: `worker-${i}`,
    offerings: [
      {
        name: 'square',
        description: 'Squares a number',
        price: `0.${i + 1}`,
        token: 'dUSD',
        input: z.object({ n: z.number() }),
        handler: ({ n }) => ({ n: n * n }),
      },
    ],
  })

describe.each(adapters)('concurrency on $name', (adapter) => {
  let devnet: Devnet
  let runtime: Runtime
  let close: () => Promise<void>
  let agents: AgentHandle[]
  const definitions = Array.from({ length: AGENTS }, (_, i) => worker(i))

  beforeAll(async () => {
    if (adapter.skip) return
    devnet = await withDevnet()
    ;({ runtime, close } = await openRuntime(devnet, adapter, definitions, [10, 11, 12, 13, 14, 15]))
    const owner = devnet.manifest.accounts[3]!.address
    agents = await Promise.all(definitions.map((d) => runtime.launch(d, { owner })))
    for (const agent of agents) await devnetClients(devnet).fund((await agent.info()).safe!, '20', 3)
  })
  afterAll(async () => {
    await close?.()
    await devnet?.stop()
  })

  test.skipIf(adapter.skip)(
    'behavior: agents paying and hiring at once: no nonce errors, balances add up to the unit',
    async () => {
      const infos = await Promise.all(agents.map((a) => a.info()))
      const chainIds = infos.map((a) => a.chainAgentId!)
      const work: Promise<unknown>[] = []
      agents.forEach((agent, i) => {
        for (let k = 0; k < PAYMENTS_EACH; k++) {
          const to = chainIds[(i + k + 1) % AGENTS]!
          work.push(agent.pay({ to, amount: `0.0${k + 1}` }))
        }
        for (let k = 0; k < HIRES_EACH; k++) {
          const provider = chainIds[(i + 2 * k + 3) % AGENTS]!
          work.push(agent.hire({ provider, offering: 'square', input: { n: k } }).then((job) => job.done()))
        }
      })
      const results = await Promise.allSettled(work)
      const failures = results
        .filter((r) => r.status === 'rejected')
        .map((r) => String((r as PromiseRejectedResult).reason))
      expect(failures).toEqual([])

      // Every agent's Safe holds exactly: funding - paid + received - job budgets + job payouts.
      const { dUSD, publicClient } = devnetClients(devnet)
      // Each payment is listed by its payer and by its payee: counted once, by id.
      const payments = new Map(
        (await Promise.all(agents.map((a) => a.payments()))).flat().map((p) => [p.id, p]),
      )
      let fees = 0n
      for (const [i, agent] of agents.entries()) {
        const safe = infos[i]!.safe!.toLowerCase()
        let expected = parseUnits('20', 6)
        for (const p of payments.values()) {
          if (p.status !== 'confirmed') continue
          if (p.from.address === safe) expected -= BigInt(p.amount.value)
          if (p.to.address === safe) expected += BigInt(p.amount.value)
        }
        for (const job of await agent.jobs()) {
          expect(job.status).toBe('completed')
          if (job.client.address === safe) expected -= BigInt(job.budget.value)
          if (job.provider.agentId === agent.id) {
            expected += BigInt(job.payout!.value)
            fees += BigInt(job.fee!.value)
          }
        }
        expect(await dUSD(safe)).toBe(expected)
      }
      const accrued = await publicClient.readContract({
        address: devnet.manifest.contracts.economy,
        abi: agentEconomyAbi,
        functionName: 'accruedFees',
        args: [devnet.manifest.contracts.devUSD],
      })
      expect(accrued).toBe(fees)
      expect(await dUSD(devnet.manifest.contracts.economy)).toBe(fees)
      expect(payments.size).toBe(AGENTS * PAYMENTS_EACH)
      // Each payer lists its own, each payee what it received.
      for (const [i, agent] of agents.entries()) {
        const listed = await agent.payments()
        const made = listed.filter((p) => p.from.agentId === agent.id)
        expect(made).toHaveLength(PAYMENTS_EACH)
        expect(
          listed
            .filter((p) => p.from.agentId !== agent.id)
            .every((p) => p.to.chainAgentId === infos[i]!.chainAgentId),
        ).toBe(true)
      }
    },
  )
})
