import { z } from 'zod'
import type { AgentDefinition } from '../../define-agent.ts'
import { type ModelCredential, type ModelJson, parseModelConfig } from '../../inference/model-config.ts'
import type { StoredDefinition } from '../../views/agent-view.ts'

/**
 * The serialisable part of a definition, as stored with the agent: offerings with their token's
 * address and their input's JSON Schema; the model without its API key (a key given over HTTP is
 * sealed apart, in `agents.model_key`; one given in code stays in code) and where that key comes
 * from. An agent defined from JSON keeps that JSON (without the key), so it can be rebuilt after a
 * restart.
 *
 * @example
 * const stored = describeDefinition(definition, offerings.map((o) => o.token))
 */
export function describeDefinition(definition: AgentDefinition, tokenAddresses: string[]): StoredDefinition {
  return {
    model: definition.model ? modelWithoutKey(definition.model) : null,
    credential: credentialOf(definition),
    policy: definition.policy,
    offerings: definition.offerings.map((o, i) => ({
      name: o.name,
      description: o.description,
      price: o.price,
      token: tokenAddresses[i]!.toLowerCase(),
      capabilities: o.capabilities ?? [],
      inputSchema: jsonSchemaOf(o.input),
      outputSchema: o.output ? jsonSchemaOf(o.output) : null,
    })),
    ...(definition.json ? { json: definition.json } : {}),
  }
}

/** The model as it is used (defaults filled in), without its key. */
function modelWithoutKey(model: Record<string, unknown>): Record<string, unknown> {
  let config: Record<string, unknown> = model
  try {
    config = parseModelConfig(model)
  } catch {
    // Validated by defineAgent already; kept as given if it is not.
  }
  const { apiKey: _secret, ...rest } = config
  // JSON keeps no undefined: a local provider's default base URL is written out, OpenAI's left out.
  return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined))
}

/** Where the model's key comes from: sealed (given over HTTP), a server variable, code, or nowhere. */
export function credentialOf(definition: AgentDefinition): ModelCredential {
  if (!definition.model) return { source: 'none' }
  const apiKeyEnv = (definition.json?.model as ModelJson | undefined)?.apiKeyEnv
  if (apiKeyEnv) return { source: 'env', apiKeyEnv }
  if (!definition.model.apiKey) return { source: 'none' }
  return { source: definition.json ? 'sealed' : 'code' }
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
