import { listAgents } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import type { StoredDefinition } from '../../views/agent-view.ts'
import { type AgentJson, agentFromJson } from './agent-from-json.ts'

/**
 * Gives agents defined as JSON by an earlier process their definitions (and so their handlers)
 * again, so they keep serving after a restart. Agents defined in code get theirs from the code
 * (`createRuntime({ definitions })` or `runtime.register`). Returns how many were restored.
 *
 * @example
 * const restored = await restoreAgents(client)
 */
export async function restoreAgents(
  client: Pick<RuntimeClient, 'db' | 'definitions' | 'log'>,
): Promise<number> {
  let restored = 0
  for (const agent of await listAgents(client.db)) {
    const { json } = agent.definition as StoredDefinition
    if (!json || client.definitions.has(agent.name) || agent.status === 'retired') continue
    client.definitions.set(agent.name, {
      ...agentFromJson(json as AgentJson),
      // Edits since launch (PATCH) live in the row, not in the JSON it was launched with.
      description: agent.description,
      instructions: agent.instructions,
    })
    restored++
  }
  if (restored > 0) client.log(`runtime: restored ${restored} agent(s) defined as JSON`)
  return restored
}
