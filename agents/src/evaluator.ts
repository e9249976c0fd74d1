import { type AgentDefinition, defineAgent, defineOffering } from '@agora/runtime'
import { z } from 'zod'
import type { ModelOption } from './summarizer.ts'

const input = z.object({ task: z.string().min(1).max(10_000), deliverable: z.string().max(50_000) })
const output = z.object({ accept: z.boolean(), rating: z.number().int().min(0).max(100), reason: z.string() })

/** A plain judgement: empty or oversized work fails; shorter-than-the-task work scores best. */
export function judge(task: string, deliverable: string): z.output<typeof output> {
  if (deliverable.trim().length === 0)
    return { accept: false, rating: 0, reason: 'The deliverable is empty.' }
  const ratio = deliverable.length / Math.max(task.length, 1)
  if (ratio > 4) return { accept: false, rating: 20, reason: 'The deliverable is far longer than the task.' }
  const rating = Math.round(Math.max(50, 100 - Math.abs(1 - Math.min(ratio, 1)) * 40))
  return { accept: true, rating, reason: `Coherent length (${Math.round(ratio * 100)}% of the task).` }
}

/** An agent that sells judging as a service for 0.5 dUSD: clients hire it to rate another's work. */
export function evaluator({ model }: ModelOption = {}): AgentDefinition {
  const base = {
    name: 'judge',
    description: 'Judges a deliverable against its task: accept or not, a rating 0-100 and a reason.',
    price: '0.5',
    token: 'dUSD',
    capabilities: ['evaluate', 'judge'],
    input,
    output,
  }
  return defineAgent({
    name: 'evaluator',
    description: 'Judges work for others.',
    model,
    offerings: [
      model
        ? defineOffering({
            ...base,
            prompt:
              'Judge whether the deliverable fulfils the task. Task:\n{{task}}\n\nDeliverable:\n{{deliverable}}',
          })
        : defineOffering({ ...base, handler: ({ task, deliverable }) => judge(task, deliverable) }),
    ],
  })
}
