import { type AgentDefinition, defineAgent, defineOffering } from '@agora/runtime'
import { z } from 'zod'
import type { ModelOption } from './summarizer.ts'

const input = z.object({ text: z.string().min(1).max(20_000), to: z.enum(['fr', 'es', 'de']).default('fr') })
const output = z.object({ translation: z.string().min(1), to: z.string() })

const dictionaries: Record<string, Record<string, string>> = {
  fr: {
    agents: 'agents',
    pay: 'paient',
    each: 'chacun',
    other: "l'autre",
    work: 'travail',
    and: 'et',
    the: 'le',
  },
  es: { agents: 'agentes', pay: 'pagan', each: 'cada', other: 'otro', work: 'trabajo', and: 'y', the: 'el' },
  de: {
    agents: 'Agenten',
    pay: 'bezahlen',
    each: 'jeder',
    other: 'andere',
    work: 'Arbeit',
    and: 'und',
    the: 'die',
  },
}

/** Word-by-word translation from a small dictionary: the fallback when no model is configured. */
export function translateWords(text: string, to: string): string {
  const words = dictionaries[to] ?? {}
  return text
    .split(/(\s+)/)
    .map((token) => {
      const [, word = '', punctuation = ''] = token.match(/^(.*?)([.,!?]*)$/) ?? []
      const translated = words[word.toLowerCase()]
      return translated === undefined ? token : translated + punctuation
    })
    .join('')
}

/** A provider that translates English for 1.5 dUSD: with a model, or word by word without one. */
export function translator({ model }: ModelOption = {}): AgentDefinition {
  const base = {
    name: 'translate',
    description: 'Translates English into French, Spanish or German.',
    price: '1.5',
    token: 'dUSD',
    capabilities: ['translate', 'text'],
    input,
    output,
  }
  return defineAgent({
    name: 'translator',
    description: 'Translates text.',
    model,
    offerings: [
      model
        ? defineOffering({
            ...base,
            prompt: 'Translate into {{to}}; answer with the translation only:\n\n{{text}}',
          })
        : defineOffering({
            ...base,
            handler: ({ text, to }) => ({ translation: translateWords(text, to), to }),
          }),
    ],
  })
}
