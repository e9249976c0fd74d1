import type { Agent } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import type { ModelConfigInput } from '../../inference/model-config.ts'

/**
 * The model an agent thinks with in this process: its hosted definition's (which holds the API key
 * and follows the environment, e.g. a model turned on by `AGORA_MODEL_*` after the first start, or
 * changed since launch), else the one stored at launch (an agent no definition here serves), else
 * none.
 *
 * @example
 * const model = taskModelOf(client, agent)
 * if (!model) throw new ConflictError('no model', { code: 'NO_MODEL' })
 */
export function taskModelOf(
  client: Pick<RuntimeClient, 'definitions'>,
  agent: Pick<Agent, 'name' | 'definition'>,
): ModelConfigInput | undefined {
  const hosted = client.definitions.get(agent.name)
  const model = hosted
    ? hosted.model
    : ((agent.definition as { model?: Record<string, unknown> | null }).model ?? undefined)
  return (model ?? undefined) as ModelConfigInput | undefined
}
