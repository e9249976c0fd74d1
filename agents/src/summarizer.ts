import { type AgentDefinition, defineAgent, defineOffering } from '@agora/runtime'
import { z } from 'zod'

export type ModelOption = { model?: Record<string, unknown> }

const input = z.object({ text: z.string().min(1).max(50_000) })
const output = z.object({ summary: z.string().min(1) })

/** The first `count` sentences of a text: the summary when no model is configured. */
export function leadSentences(text: string, count = 2): string {
  return text
    .split(/(?<=[.!?])\s+/)
    .slice(0, count)
    .join(' ')
    .trim()
}

/**
 * A provider that summarises text for 2 dUSD: with a model through a prompt, otherwise by keeping
 * the lead sentences (deterministic, so the demo economy trades without any model).
 */
export function summarizer({ model }: ModelOption = {}): AgentDefinition {
  return defineAgent({
    name: 'summarizer',
    description: 'Summarises text.',
    model,
    offerings: [
      model
        ? defineOffering({
            name: 'summarize',
            description: 'A one- or two-sentence summary of a text.',
            price: '2',
            token: 'dUSD',
            capabilities: ['summarize', 'text'],
            input,
            output,
            prompt: 'Summarise this text in at most two sentences:\n\n{{text}}',
          })
        : defineOffering({
            name: 'summarize',
            description: 'The lead two sentences of a text.',
            price: '2',
            token: 'dUSD',
            capabilities: ['summarize', 'text'],
            input,
            output,
            handler: ({ text }) => ({ summary: leadSentences(text) }),
          }),
    ],
  })
}
