/**
 * Agents composed in TypeScript trade on the embedded devnet: a writer hires a summarizer and a
 * translator, they deliver, the writer rates them and they get paid; then the writer tips one of
 * them directly. Run: `npm run example -w @agora/agents` (no keys, no services).
 */
import { defineAgent, defineOffering, startEmbeddedRuntime } from '@agora/runtime'
import { z } from 'zod'

const summarizer = defineAgent({
  name: 'summarizer',
  description: 'Summarises text into its first sentences.',
  offerings: [
    defineOffering({
      name: 'summarize',
      description: 'Returns the first two sentences of a text.',
      price: '2',
      token: 'dUSD',
      capabilities: ['summarize', 'text'],
      input: z.object({ text: z.string().min(1).max(50_000) }),
      output: z.object({ summary: z.string() }),
      handler: ({ text }) => ({
        summary: text
          .split(/(?<=[.!?])\s+/)
          .slice(0, 2)
          .join(' '),
      }),
    }),
  ],
})

const translator = defineAgent({
  name: 'translator',
  description: 'Translates a few English words into French, word by word.',
  offerings: [
    defineOffering({
      name: 'translate',
      description: 'English to French, from a small dictionary.',
      price: '1.5',
      token: 'dUSD',
      capabilities: ['translate', 'text'],
      input: z.object({ text: z.string().min(1).max(5_000) }),
      output: z.object({ translation: z.string() }),
      handler: ({ text }) => {
        const words: Record<string, string> = {
          agents: 'agents',
          pay: 'paient',
          each: 'chacun',
          other: 'autre',
          the: 'le',
        }
        return {
          translation: text
            .split(/\s+/)
            .map((w) => words[w.toLowerCase()] ?? w)
            .join(' '),
        }
      },
    }),
  ],
})

const writer = defineAgent({
  name: 'writer',
  description: 'Hires others to summarise and translate its drafts.',
  policy: { perJobCap: '5', budget: { amount: '20', period: 'day' } },
  evaluate: ({ deliverable }) => ({
    accept: true,
    rating: JSON.stringify(deliverable).length > 10 ? 95 : 60,
  }),
})

const say = (line: string) => console.log(line)
const { runtime, devnet, stop } = await startEmbeddedRuntime({
  definitions: [summarizer, translator, writer],
  log: () => {},
})
try {
  // The writer is the owner's; the providers have owners of their own (a job between two agents of
  // one owner counts in no record).
  const owner = devnet.manifest.accounts[1]!.address
  say(`devnet ${devnet.rpcUrl}; launching three agents, the writer owned by ${owner}...`)
  const [s, t, w] = await Promise.all(
    [summarizer, translator, writer].map((d, i) =>
      runtime.launch(d, { owner: d === writer ? owner : devnet.manifest.accounts[2 + i]!.address }),
    ),
  )
  const info = await Promise.all([s!, t!, w!].map((a) => a.info()))
  for (const a of info) say(`  ${a.name.padEnd(11)} agent #${a.chainAgentId}  Safe ${a.safe}`)

  say('funding the writer with 50 dUSD from the owner...')
  const { createPublicClient, createWalletClient, http, parseUnits } = await import('viem')
  const { privateKeyToAccount } = await import('viem/accounts')
  const { devUSDAbi } = await import('@agora/contracts')
  const transport = http(devnet.rpcUrl)
  const publicClient = createPublicClient({ chain: devnet.chain, transport })
  const ownerWallet = createWalletClient({
    account: privateKeyToAccount(devnet.manifest.accounts[1]!.privateKey),
    chain: devnet.chain,
    transport,
  })
  const funding = await ownerWallet.writeContract({
    address: devnet.manifest.contracts.devUSD,
    abi: devUSDAbi,
    functionName: 'transfer',
    args: [info[2]!.safe as `0x${string}`, parseUnits('50', 6)],
  })
  await publicClient.waitForTransactionReceipt({ hash: funding })

  const { offerings: market } = await runtime.searchMarket({ capability: 'text' })
  say(`market: ${market.map((m) => `${m.offering.name} by #${m.agent.chainAgentId}`).join(', ')}`)

  const draft = 'Agents pay each other on-chain. Escrow protects both sides. Reputation follows paid work.'
  const jobs = await Promise.all([
    w!.hire({
      provider: info[0]!.chainAgentId!,
      offering: 'summarize',
      input: { text: draft },
      maxPrice: '3',
    }),
    w!.hire({
      provider: info[1]!.chainAgentId!,
      offering: 'translate',
      input: { text: 'agents pay each other' },
      maxPrice: '3',
    }),
  ])
  for (const job of jobs) {
    const done = await job.done()
    say(
      `job ${done.offering}: ${done.status}, rating ${done.rating}, deliverable ${JSON.stringify(done.deliverable)}`,
    )
  }
  const tip = await w!.pay({ to: info[0]!.chainAgentId!, amount: '0.5', memo: 'thanks for the summary' })
  say(`tip: ${tip.status} (${tip.txHash})`)

  for (const a of [s!, t!, w!]) {
    const row = await a.info()
    const [dUSD] = await a.balances({ tokens: ['dUSD'] })
    const reputation = await runtime.getReputation(row.chainAgentId!)
    say(
      `  ${row.name.padEnd(11)} dUSD ${Number(dUSD?.formatted ?? 0)
        .toFixed(2)
        .padStart(6)}  completed ${reputation.completed}  rating ${reputation.averageRating}`,
    )
  }
  try {
    await w!.hire({
      provider: info[0]!.chainAgentId!,
      offering: 'summarize',
      input: { text: draft.repeat(3) },
      maxPrice: '1',
    })
  } catch (error) {
    say(`refused as expected: ${(error as Error).message}`)
  }
} finally {
  await stop()
}
