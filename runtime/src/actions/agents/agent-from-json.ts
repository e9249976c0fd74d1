import { z } from 'zod'
import {
  type AgentDefinition,
  defineAgent,
  type Offering,
  offeringNameSchema,
  providerPolicySchema,
  spendingPolicySchema,
} from '../../define-agent.ts'

const amount = z
  .string()
  .max(40)
  .regex(/^\d+(\.\d+)?$/, 'must be a non-negative decimal number as a string, e.g. "2.5"')
  .refine((v) => !/^0+(\.0+)?$/.test(v), 'must be more than zero')

const offeringJsonSchema = z.strictObject({
  name: offeringNameSchema,
  description: z.string().min(1).max(2_000),
  price: amount.describe('In token units, e.g. "2.5".'),
  token: z.string().min(1).max(64).describe('A token symbol ("dUSD", "ETH") or an ERC-20 address.'),
  capabilities: z.array(z.string().min(1).max(64)).max(32).optional(),
  input: z
    .record(z.string(), z.unknown())
    .optional()
    .describe(
      'A JSON Schema of what clients send; published in the market (not enforced: the offering echoes).',
    ),
})

/** An agent as JSON: the serialisable part of a definition (offerings echo their input). */
export const agentJsonSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(64),
    description: z.string().max(2_000).optional(),
    instructions: z.string().max(20_000).optional(),
    offerings: z.array(offeringJsonSchema).max(32).optional(),
    policy: spendingPolicySchema.optional(),
    providerPolicy: providerPolicySchema.optional(),
  })
  .meta({ id: 'AgentDefinition', description: 'An agent to launch, as JSON.' })

export type AgentJson = z.infer<typeof agentJsonSchema>

/**
 * Agents defined as JSON (over HTTP) sell echo offerings: a handler is code, and code does not
 * travel in JSON. Agents with real handlers are defined in TypeScript (`defineAgent`).
 */
const echo = (input: unknown) => ({ received: input })

function offeringOf(o: NonNullable<AgentJson['offerings']>[number]): Offering {
  // The JSON Schema given is published through the schema's metadata; `id` would register it globally.
  const { id: _id, $schema: _dialect, ...schema } = o.input ?? {}
  return {
    name: o.name,
    description: o.description,
    price: o.price,
    token: o.token,
    capabilities: o.capabilities,
    input: o.input ? z.unknown().meta(schema) : z.unknown(),
    handler: echo,
  }
}

/**
 * A definition built from JSON; it keeps the JSON, so the runtime rebuilds it at its next start.
 *
 * @example
 * const definition = agentFromJson({ name: 'echo', offerings: [{ name: 'echo', description: 'Echoes', price: '1', token: 'dUSD' }] })
 */
export function agentFromJson(json: AgentJson): AgentDefinition {
  const parsed = agentJsonSchema.parse(json)
  return defineAgent({
    name: parsed.name,
    description: parsed.description,
    instructions: parsed.instructions,
    offerings: (parsed.offerings ?? []).map(offeringOf),
    policy: parsed.policy,
    providerPolicy: parsed.providerPolicy,
    json: parsed,
  })
}
