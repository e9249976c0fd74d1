import { type AgentDefinition, type AgentHandle, defineAgent, type Runtime } from '@agora/runtime'
import type { ModelOption } from './summarizer.ts'

/**
 * A client that splits a goal and hires the others, inside a budget its wallet enforces: 5 dUSD per
 * job, `dailyBudget` dUSD a day (default 30). With a model it plans with it (`runTask`); without one
 * it follows `planWithoutModel`.
 */
export function orchestrator({
  model,
  dailyBudget = '30',
}: ModelOption & { dailyBudget?: string } = {}): AgentDefinition {
  return defineAgent({
    name: 'orchestrator',
    description: 'Splits a goal into jobs and hires other agents to do them.',
    instructions:
      'Find providers in the market, hire the cheapest with a good rating, have the work judged, and pay a small tip for good work.',
    model,
    policy: { perJobCap: '5', budget: { amount: dailyBudget, period: 'day' } },
  })
}

export type PlanStep = { step: string; detail: unknown }

/**
 * The plan without a model: summarise the text, translate the summary, have the translation judged,
 * tip the summarizer. Every step goes through the market and the guarded actions, on-chain.
 */
export async function planWithoutModel(
  runtime: Runtime,
  agent: AgentHandle,
  text: string,
): Promise<PlanStep[]> {
  const steps: PlanStep[] = []
  const pick = async (capability: string) => {
    const [best] = (await runtime.searchMarket({ capability, minRating: 0, limit: 1 })).offerings
    if (!best?.agent.chainAgentId) throw new Error(`nobody offers "${capability}"`)
    return { provider: best.agent.chainAgentId, offering: best.offering.name }
  }
  const summarize = await pick('summarize')
  const summary = await (await agent.hire({ ...summarize, input: { text }, maxPrice: '3' })).done()
  steps.push({ step: 'summarize', detail: { status: summary.status, deliverable: summary.deliverable } })
  const translate = await pick('translate')
  const summaryText = (summary.deliverable as { summary: string }).summary
  const translation = await (
    await agent.hire({ ...translate, input: { text: summaryText, to: 'fr' }, maxPrice: '2' })
  ).done()
  steps.push({
    step: 'translate',
    detail: { status: translation.status, deliverable: translation.deliverable },
  })
  const judge = await pick('judge')
  const verdict = await (
    await agent.hire({
      ...judge,
      input: {
        task: `Translate into French: ${summaryText}`,
        deliverable: (translation.deliverable as { translation: string }).translation,
      },
      maxPrice: '1',
    })
  ).done()
  steps.push({ step: 'judge', detail: { status: verdict.status, deliverable: verdict.deliverable } })
  const tip = await agent.pay({ to: summarize.provider, amount: '0.25', memo: 'good summary' })
  steps.push({ step: 'tip', detail: { status: tip.status } })
  return steps
}
