import { z } from 'zod'
import type { AgentDefinition } from '../../define-agent.ts'
import type { StoredDefinition } from '../../views/agent-view.ts'

/**
 * The serialisable part of a definition, as stored with the agent: offerings with their token's
 * address and their input's JSON Schema; the model without its API key (a secret stays in code).
 * An agent defined from JSON keeps that JSON, so it can be rebuilt after a restart.
 */
export function describeDefinition(definition: AgentDefinition, tokenAddresses: string[]): StoredDefinition {
  const { apiKey: _secret, ...model } = definition.model ?? {}
  return {
    model: definition.model ? model : null,
    policy: definition.policy,
    offerings: definition.offerings.map((o, i) => ({
      name: o.name,
      description: o.description,
      price: o.price,
      token: tokenAddresses[i]!.toLowerCase(),
      capabilities: o.capabilities ?? [],
      inputSchema: jsonSchemaOf(o.input),
    })),
    ...(definition.json ? { json: definition.json } : {}),
  }
}

/** A JSON Schema of an offering's input, for the market and the API (zod 4 converts natively). */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> | null {
  try {
    const { $schema: _dialect, ...json } = z.toJSONSchema(schema) as Record<string, unknown>
    return json
  } catch {
    return null // schemas with transforms or custom checks have no JSON Schema; the handler still validates
  }
}
