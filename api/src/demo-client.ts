import { orchestrator, startDemoTrading } from '@agora/agents'
import type { Devnet } from '@agora/contracts'
import { devUSDAbi } from '@agora/contracts'
import type { Runtime } from '@agora/runtime'
import { createPublicClient, createWalletClient, http, parseUnits } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'

/**
 * `npm start`'s demo client on the devnet: an orchestrator owned by development account #2 (so its
 * jobs count in the providers' records) that hires the demo agents every `everyMs`, funded from
 * account #1's dUSD when it runs low, inside a budget of 10,000 dUSD a day that its Safe enforces.
 * Launched once; a restart finds it again. Returns the function that stops it.
 *
 * @example
 * const stop = await startDemoClient(runtime, devnet)
 */
export async function startDemoClient(
  runtime: Runtime,
  devnet: Devnet,
  parameters: { everyMs?: number; log?: (line: string) => void } = {},
): Promise<() => Promise<void>> {
  const definition = orchestrator({ dailyBudget: '10000' })
  runtime.register(definition)
  const existing = await findAgent(runtime, definition.name)
  const id =
    existing ?? (await runtime.launch(definition, { owner: devnet.manifest.accounts[2]!.address })).id
  const client = runtime.agent(id)
  const safe = (await client.info()).safe as `0x${string}`
  const transport = http(devnet.rpcUrl)
  const publicClient = createPublicClient({ chain: devnet.chain, transport })
  const funder = createWalletClient({
    account: privateKeyToAccount(devnet.manifest.accounts[1]!.privateKey),
    chain: devnet.chain,
    transport,
  })
  const trading = startDemoTrading(runtime, {
    client,
    everyMs: parameters.everyMs,
    log: parameters.log,
    async fund(amount) {
      const hash = await funder.writeContract({
        address: devnet.manifest.contracts.devUSD!,
        abi: devUSDAbi,
        functionName: 'transfer',
        args: [safe, parseUnits(amount, 6)],
      })
      await publicClient.waitForTransactionReceipt({ hash })
    },
  })
  return () => trading.stop()
}

/** The id of the agent named `name`, if one was launched. */
async function findAgent(runtime: Runtime, name: string): Promise<string | undefined> {
  for (let cursor: string | undefined, more = true; more; more = cursor !== undefined) {
    const { agents, next } = await runtime.listAgents({ limit: 200, cursor })
    const found = agents.find((agent) => agent.name === name)
    if (found) return found.id
    cursor = next ?? undefined
  }
  return undefined
}
