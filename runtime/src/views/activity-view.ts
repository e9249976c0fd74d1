import { type ActivityKind, activityKinds } from '@agora/db'
import { z } from 'zod'

export const activityViewSchema = z
  .object({
    id: z.number().int().describe('Increasing; resume a stream after it with `Last-Event-ID`.'),
    agentId: z.string().nullable(),
    kind: z.enum(activityKinds),
    data: z
      .record(z.string(), z.unknown())
      .describe(
        "What happened; amounts in it are Money objects. Anyone but the agent's owner gets the public kinds only (job, payment, lifecycle, tx), without memos, goals, answers, reasons or logs.",
      ),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'ActivityEvent', description: "One entry of an agent's activity feed." })

export type ActivityView = z.infer<typeof activityViewSchema>

/** Kinds anyone may follow; the rest (model turns, tool calls, guardrail refusals) are the owner's. */
export const publicActivityKinds = [
  'job',
  'payment',
  'lifecycle',
  'tx',
] as const satisfies readonly ActivityKind[]

// The facts of a public entry anyone may read; everything else in `data` (memos, goals, answers,
// handler logs, reasons, verdicts, errors) is left out for anyone but the agent's owner.
const publicFields = new Set([
  'event',
  'jobId',
  'paymentId',
  'taskId',
  'offering',
  'provider',
  'budget',
  'amount',
  'payout',
  'fee',
  'rating',
  'from',
  'to',
  'direction',
  'txHash',
  'name',
  'chainAgentId',
  'safe',
  'account',
  'fields',
  'steps',
])

/**
 * An activity entry as `viewer` may see it: whole for the agent's owner (`full`); for anyone else,
 * only public kinds (undefined for the rest) with only their public facts.
 *
 * @example
 * const view = toActivityView(event, { full: viewerIsAny(viewer, [agent.owner]) })
 */
export function toActivityView<T extends { kind: ActivityKind; data: Record<string, unknown> }>(
  event: T,
  parameters: { full: boolean },
): T | undefined {
  if (parameters.full) return event
  if (!(publicActivityKinds as readonly string[]).includes(event.kind)) return undefined
  const data = Object.fromEntries(Object.entries(event.data).filter(([key]) => publicFields.has(key)))
  return { ...event, data }
}
