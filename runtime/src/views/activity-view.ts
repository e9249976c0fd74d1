import { activityKinds } from '@agora/db'
import { z } from 'zod'

export const activityViewSchema = z
  .object({
    id: z.number().int().describe('Increasing; resume a stream after it with `Last-Event-ID`.'),
    agentId: z.string().nullable(),
    kind: z.enum(activityKinds),
    data: z.record(z.string(), z.unknown()).describe('What happened; amounts in it are Money objects.'),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'ActivityEvent', description: "One entry of an agent's activity feed." })

export type ActivityView = z.infer<typeof activityViewSchema>
