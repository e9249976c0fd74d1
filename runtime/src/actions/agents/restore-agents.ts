import { BaseError, listAgents } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import type { StoredDefinition } from '../../views/agent-view.ts'
import { type AgentJson, agentFromJson } from './agent-from-json.ts'
import { type HostedDefinition, restoreFormerOfferings } from './former-offerings.ts'

/**
 * Gives agents defined as JSON by an earlier process their definitions (and so their handlers)
 * again, so they keep serving after a restart: the model's key opened from its sealed copy (or read
 * again from the server variable it names), and the former versions of offerings that jobs hired
 * before a change still need. Agents defined in code get theirs from the code
 * (`createRuntime({ definitions })` or `runtime.register`). An agent whose definition no longer
 * builds (its key variable was withdrawn, say) is left out, with a log line saying why. Returns how
 * many were restored.
 *
 * @example
 * const restored = await restoreAgents(client)
 */
export async function restoreAgents(
  client: Pick<RuntimeClient, 'db' | 'definitions' | 'log' | 'keys' | 'shard'>,
): Promise<number> {
  let restored = 0
  for (const agent of await listAgents(client.db, { shard: client.shard })) {
    const stored = agent.definition as StoredDefinition
    const json = stored.json as AgentJson | undefined
    if (!json || client.definitions.has(agent.name) || agent.status === 'retired') continue
    try {
      const apiKey = agent.modelKey
        ? client.keys.openSecret(agent.modelKey, { address: agent.signerAddress, purpose: 'model-api-key' })
        : undefined
      const formerOfferings = restoreFormerOfferings(json, stored.formerOfferings ?? [], { apiKey })
      client.definitions.set(agent.name, {
        ...agentFromJson(json, { apiKey }),
        // Older rows kept edits (PATCH) in the row only, not in the JSON they were launched with.
        description: agent.description,
        instructions: agent.instructions,
        ...(formerOfferings.length > 0 ? { formerOfferings } : {}),
      } satisfies HostedDefinition)
      restored++
    } catch (error) {
      const reason = error instanceof BaseError ? error.shortMessage : 'its definition does not build'
      client.log(`runtime: agent "${agent.name}" (${agent.id}) is not hosted: ${reason}`)
    }
  }
  if (restored > 0) client.log(`runtime: restored ${restored} agent(s) defined as JSON`)
  return restored
}
