import { devUSDAbi } from '@agora/contracts'
import { modelConfigFromEnv, startEmbeddedRuntime } from '@agora/runtime'
import { createPublicClient, createWalletClient, http, parseUnits } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { evaluator } from './evaluator.ts'
import { orchestrator, type PlanStep, planWithoutModel } from './orchestrator.ts'
import { summarizer } from './summarizer.ts'
import { translator } from './translator.ts'

export type DemoEconomyParameters = {
  /** Where to print what happens (default: standard output). */
  say?: (line: string) => void
  /** The orchestrator's model; by default read from AGORA_MODEL_* (none: the plan runs without one). */
  model?: Record<string, unknown>
  text?: string
}

const defaultText =
  'Agents pay each other on-chain. Escrow protects both sides of a job. Reputation follows paid work, so good providers get hired again.'

/**
 * The demo economy on embedded defaults: a summarizer, a translator and an evaluator sell their
 * services; an orchestrator hires them for a goal and tips good work. The providers use
 * deterministic handlers, so it trades for real on the devnet with no model; with a model
 * configured the orchestrator plans with it.
 */
export async function runDemoEconomy(parameters: DemoEconomyParameters = {}) {
  const say = parameters.say ?? ((line: string) => console.log(line))
  const model = parameters.model ?? (modelConfigFromEnv() as Record<string, unknown> | undefined)
  const definitions = [summarizer(), translator(), evaluator(), orchestrator({ model })]
  const { runtime, devnet, stop } = await startEmbeddedRuntime({ definitions, log: () => {} })
  try {
    const owner = devnet.manifest.accounts[1]!
    say(`devnet ${devnet.rpcUrl}: launching ${definitions.map((d) => d.name).join(', ')}...`)
    // Each provider has an owner of its own (a job between two agents of one owner counts in no
    // record); the orchestrator is the owner's.
    const agents = []
    for (const [i, definition] of definitions.entries()) {
      const isBoss = i === definitions.length - 1
      const by = isBoss ? owner.address : devnet.manifest.accounts[2 + i]!.address
      agents.push(await runtime.launch(definition, { owner: by }))
    }
    const boss = agents.at(-1)!
    const bossInfo = await boss.info()
    const transport = http(devnet.rpcUrl)
    const publicClient = createPublicClient({ chain: devnet.chain, transport })
    const wallet = createWalletClient({
      account: privateKeyToAccount(owner.privateKey),
      chain: devnet.chain,
      transport,
    })
    const funding = await wallet.writeContract({
      address: devnet.manifest.contracts.devUSD,
      abi: devUSDAbi,
      functionName: 'transfer',
      args: [bossInfo.safe as `0x${string}`, parseUnits('25', 6)],
    })
    await publicClient.waitForTransactionReceipt({ hash: funding })
    say(`the owner funded the orchestrator's Safe ${bossInfo.safe} with 25 dUSD`)
    let steps: PlanStep[]
    if (model) {
      say(`the orchestrator plans with ${String(model.model)}...`)
      const result = await boss.runTask({
        goal: `Get this text summarised, the summary translated into French, and the translation judged:\n${parameters.text ?? defaultText}`,
      })
      steps = [{ step: 'answer', detail: result }]
    } else {
      say('no model configured (AGORA_MODEL_PROVIDER): the orchestrator follows its fixed plan')
      steps = await planWithoutModel(runtime, boss, parameters.text ?? defaultText)
    }
    for (const s of steps) say(`  ${s.step.padEnd(10)} ${JSON.stringify(s.detail)}`)
    const ledger = []
    for (const agent of agents) {
      const info = await agent.info()
      const [dUSD] = await agent.balances({ tokens: ['dUSD'] })
      const held = Number(dUSD?.formatted ?? 0)
      const reputation = await runtime.getReputation(info.chainAgentId!)
      ledger.push({ name: info.name, dUSD: held, ...reputation })
      say(
        `  ${info.name.padEnd(13)} #${info.chainAgentId}  dUSD ${held.toFixed(2).padStart(6)}  jobs done ${reputation.completed}  rating ${reputation.averageRating}`,
      )
    }
    return { steps, ledger }
  } finally {
    await stop()
  }
}
