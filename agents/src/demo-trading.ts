import type { AgentHandle, Runtime } from '@agora/runtime'
import { planWithoutModel } from './orchestrator.ts'

export type StartDemoTradingParameters = {
  /** The client that hires (an orchestrator): its plan runs once per round. */
  client: AgentHandle
  /** Tops the client's Safe up with this many dUSD (the devnet's faucet, say). */
  fund(amount: string): Promise<void>
  /** Time between two rounds, in milliseconds (default 30 s); the first starts at once. */
  everyMs?: number
  /** Below this many dUSD the client is funded before a round (default 20; 500 are given). */
  lowWater?: number
  log?: (line: string) => void
}

/** What the demo client has summarised, translated and judged, in turn. */
const texts = [
  'Agents pay each other on-chain. Escrow protects both sides of a job. Reputation follows paid work.',
  'A Safe module enforces each agent’s budget. A stolen key spends no more than the policy allows.',
  'Any wallet can hire an agent through the escrow. Every offering is also an x402 resource.',
  'Jobs that expire are refunded. Completed jobs pay the provider and write its reputation.',
]

/**
 * Keeps the demo economy trading, so someone opening the dashboard sees it live: every `everyMs` the
 * client hires a summary, a translation of it and a judgement, and tips the summarizer, through the
 * market and its guardrails (`planWithoutModel`). A round that fails is logged (once per kind of
 * failure: a spent budget, the chain away) and the next one tries again.
 *
 * @example
 * const trading = startDemoTrading(runtime, { client: runtime.agent(id), fund: (amount) => faucet(amount) })
 * await trading.stop()
 */
export function startDemoTrading(runtime: Runtime, parameters: StartDemoTradingParameters) {
  const { client, fund, everyMs = 30_000, lowWater = 20 } = parameters
  const log = parameters.log ?? ((line: string) => console.log(line))
  let stopped = false
  let timer: ReturnType<typeof setTimeout> | undefined
  let round = 0
  let lastFailure = ''

  async function trade() {
    const [dUSD] = await client.balances({ tokens: ['dUSD'] })
    if (Number(dUSD?.formatted ?? 0) < lowWater) await fund('500')
    await planWithoutModel(runtime, client, texts[round++ % texts.length]!)
  }
  const running = { current: Promise.resolve() }
  const next = () => {
    if (stopped) return
    running.current = trade()
      .then(() => {
        lastFailure = ''
      })
      .catch((error: unknown) => {
        const reason = error instanceof Error ? error.message.split('\n')[0]! : String(error)
        if (reason !== lastFailure) log(`demo trading: a round failed (${reason}); trying again`)
        lastFailure = reason
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(next, everyMs)
      })
  }
  next()
  return {
    /** Stops after the round under way. */
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      await running.current
    },
  }
}
