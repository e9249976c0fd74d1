import { type Agent, recordUsage } from '@agora/db'
import type { z } from 'zod'
import type { RuntimeClient } from '../../client.ts'
import type { Offering } from '../../define-agent.ts'
import { createChatModel } from '../../inference/chat-model.ts'
import type { ModelConfigInput } from '../../inference/model-config.ts'
import { generateStructured } from '../../inference/structured.ts'
import { untrusted, untrustedDataRule } from '../../inference/untrusted.ts'
import { serveWebhook, type WorkOrder } from './serve-webhook.ts'

/**
 * The deliverable of one piece of work (a funded job, or an x402 sale): from the offering's code, the
 * owner's service (a webhook), or the agent's model (a prompt). The input is already validated.
 *
 * @example
 * const deliverable = await produceDeliverable(client, provider, definition.model, offering, input, job)
 */
export function produceDeliverable(
  client: RuntimeClient,
  provider: Agent,
  model: Record<string, unknown> | undefined,
  offering: Offering,
  input: unknown,
  job: WorkOrder,
): Promise<unknown> {
  if (offering.handler) {
    return Promise.resolve(
      offering.handler(input, {
        jobId: job.jobId,
        client: job.clientAddress,
        agentId: provider.id,
        log: (message, data) =>
          client.activity.record(provider.id, 'job', { jobId: job.jobId, message, ...data }),
      }),
    )
  }
  if (offering.webhook)
    return serveWebhook(client, {
      provider,
      offering: { ...offering, webhook: offering.webhook },
      input,
      job,
    })
  return serveWithModel(client, provider, model!, offering.prompt!, offering.output!, input, job.jobId)
}

/**
 * A prompt-served offering: the template filled from the client's input (each value marked as
 * untrusted data), the agent's instructions as the system prompt, the answer held to the output
 * schema.
 */
async function serveWithModel(
  client: RuntimeClient,
  provider: Agent,
  model: Record<string, unknown>,
  prompt: string,
  output: z.ZodType,
  input: unknown,
  jobId: string,
) {
  const fields = (input ?? {}) as Record<string, unknown>
  const filled = prompt.replace(/\{\{(\w+)\}\}/g, (_, key: string) =>
    untrusted(`client input ${key}`, fields[key] ?? null),
  )
  return generateStructured({
    model: createChatModel(model as ModelConfigInput),
    messages: [
      { role: 'system', content: [provider.instructions, untrustedDataRule].filter(Boolean).join('\n') },
      { role: 'user', content: filled },
    ],
    schema: output,
    usage: {
      record: async (u) => {
        await recordUsage(client.db, { agentId: provider.id, jobId, ...u })
        await client.activity.record(provider.id, 'model', { jobId, model: u.model, usage: u })
      },
    },
  })
}
