import { BaseError, ValidationError } from '@agora/db'
import { z } from 'zod'
import {
  type AgentDefinition,
  defineAgent,
  type Offering,
  offeringNameSchema,
  providerPolicySchema,
  spendingPolicySchema,
} from '../../define-agent.ts'
import {
  type ModelFromJsonOptions,
  misplacedApiKeyError,
  modelFromJson,
  modelJsonSchema,
} from '../../inference/model-config.ts'
import { compileJsonSchema, zodFromJsonSchema } from '../../json-schema.ts'
import { webhookUrlProblem } from '../jobs/webhook-url.ts'

const amount = z
  .string()
  .max(40)
  .regex(/^\d+(\.\d+)?$/, 'must be a non-negative decimal number as a string, e.g. "2.5"')
  .refine((v) => !/^0+(\.0+)?$/.test(v), 'must be more than zero')

const jsonSchemaField = z.record(z.string(), z.unknown())

const offeringFields = z.strictObject({
  name: offeringNameSchema,
  description: z.string().min(1).max(2_000),
  price: amount.describe('In token units, e.g. "2.5".'),
  token: z.string().min(1).max(64).describe('A token symbol ("dUSD", "ETH") or an ERC-20 address.'),
  capabilities: z.array(z.string().min(1).max(64)).max(32).optional(),
  input: jsonSchemaField
    .optional()
    .describe(
      'A JSON Schema (2020-12) of what clients send, published in the market and enforced before any money moves; default: any JSON object.',
    ),
  output: jsonSchemaField
    .optional()
    .describe(
      'A JSON Schema (2020-12) the deliverable must match; required with `prompt` (an object schema: the model answers named fields).',
    ),
  prompt: z
    .string()
    .min(1)
    .max(20_000)
    .optional()
    .describe(
      "Served by the agent's model: the template of the request, where `{{field}}` is that field of the input (each a property of `input`). The agent's instructions are the system prompt.",
    ),
  webhook: z
    .string()
    .max(2_000)
    .optional()
    .describe(
      "Served by the owner's service: the job is POSTed to this https URL (http on the devnet), signed by the agent's key; the JSON answer is the deliverable. See docs/webhooks.md.",
    ),
})

const offeringJsonSchema = offeringFields.superRefine(checkOffering).meta({
  id: 'OfferingDefinition',
  description:
    "An offering to sell, served by the agent's model (`prompt`) or by the owner's service (`webhook`).",
})

type OfferingJson = z.infer<typeof offeringFields>

/** What zod cannot say field by field: schemas that compile, one way of serving, template fields that exist. */
function checkOffering(o: OfferingJson, context: z.RefinementCtx) {
  const issue = (field: string | undefined, message: string) =>
    context.addIssue({
      code: 'custom',
      path: field ? [field] : [],
      message: `offering "${o.name}": ${message}`,
    })
  for (const field of ['input', 'output'] as const) {
    const schema = o[field]
    if (!schema) continue
    try {
      compileJsonSchema(schema)
    } catch (error) {
      issue(field, error instanceof BaseError ? error.shortMessage : String(error))
    }
  }
  if ((o.prompt === undefined) === (o.webhook === undefined))
    issue(
      o.prompt === undefined ? undefined : 'webhook',
      'needs exactly one of "prompt" (served by the model) or "webhook" (served by your service)',
    )
  if (o.webhook !== undefined) {
    const problem = webhookUrlProblem(o.webhook, { devnet: true })
    if (problem) issue('webhook', `the webhook ${problem}`)
  }
  if (o.prompt !== undefined) {
    if (!o.output) issue('output', 'a prompt offering needs an output JSON Schema (the model answers in it)')
    else if (o.output.type !== 'object')
      issue(
        'output',
        'the output of a prompt offering must be an object schema ("type": "object"): the model answers named fields',
      )
    const properties = (o.input?.properties ?? {}) as Record<string, unknown>
    for (const [, field] of o.prompt.matchAll(/\{\{([^}]*)\}\}/g)) {
      if (!/^\w+$/.test(field!))
        issue('prompt', `"{{${field}}}" is not a field: write {{name}}, a property of the input`)
      else if (!Object.hasOwn(properties, field!))
        issue('prompt', `the template names {{${field}}}, which is not a property of the input schema`)
    }
  }
}

/** An agent as JSON: the serialisable part of a definition (offerings served by its model or its owner's service). */
export const agentJsonSchema = z
  .strictObject(
    {
      name: z.string().trim().min(1).max(64),
      description: z.string().max(2_000).optional(),
      instructions: z.string().max(20_000).optional(),
      model: modelJsonSchema.optional(),
      offerings: z.array(offeringJsonSchema).max(32).optional(),
      policy: spendingPolicySchema.optional(),
      providerPolicy: providerPolicySchema.optional(),
    },
    { error: misplacedApiKeyError },
  )
  .meta({ id: 'AgentDefinition', description: 'An agent to launch, as JSON.' })

export type AgentJson = z.infer<typeof agentJsonSchema>

/** An offering as JSON is served by the model or by the owner's service; its schemas become zod ones. */
function offeringOf(o: OfferingJson): Offering {
  const common = {
    name: o.name,
    description: o.description,
    price: o.price,
    token: o.token,
    capabilities: o.capabilities,
    input: zodFromJsonSchema(o.input ?? anyObject),
  }
  if (o.webhook !== undefined)
    return { ...common, output: o.output && zodFromJsonSchema(o.output), webhook: o.webhook }
  return { ...common, output: zodFromJsonSchema(o.output!), prompt: o.prompt! }
}

/** The input of an offering that declares none. */
const anyObject = { type: 'object' }

/**
 * A definition built from JSON; it keeps the JSON, so the runtime rebuilds it at its next start.
 *
 * @example
 * const definition = agentFromJson({
 *   name: 'lookup',
 *   offerings: [{ name: 'lookup', description: 'Looks a word up', price: '1', token: 'dUSD',
 *     input: { type: 'object', properties: { word: { type: 'string' } }, required: ['word'] },
 *     webhook: 'https://owner.example/agora' }],
 * })
 */
export function agentFromJson(json: AgentJson, options: ModelFromJsonOptions = {}): AgentDefinition {
  const parsed = agentJsonSchema.parse(json)
  requireModelForPrompts(parsed)
  // The model's API key is sealed apart (`agents.model_key`): the JSON kept has none.
  const { apiKey: _sealedApart, ...model } = parsed.model ?? { apiKey: undefined }
  return defineAgent({
    name: parsed.name,
    description: parsed.description,
    instructions: parsed.instructions,
    model: parsed.model && modelFromJson(parsed.model, options),
    offerings: (parsed.offerings ?? []).map(offeringOf),
    policy: parsed.policy,
    providerPolicy: parsed.providerPolicy,
    json: parsed.model ? { ...parsed, model } : parsed,
  })
}

/** A prompt offering is served by the agent's model, so the agent needs one. */
function requireModelForPrompts(parsed: AgentJson) {
  if (parsed.model) return
  const index = (parsed.offerings ?? []).findIndex((o) => o.prompt !== undefined)
  if (index < 0) return
  const message = `offering "${parsed.offerings![index]!.name}" is served by a prompt, so the agent needs a "model"`
  throw new ValidationError(`The agent "${parsed.name}" is invalid: ${message}.`, {
    meta: { issues: [{ path: ['offerings', String(index), 'prompt'], message }] },
  })
}
