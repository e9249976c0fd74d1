import { BaseError, ValidationError } from '@agora/db'
import { z } from 'zod'
import { parseModelConfig } from './inference/model-config.ts'

/** What a provider's handler receives besides the validated input. */
export type OfferingContext = {
  jobId: string
  /** The hiring party's address (a Safe, for agents hosted by a runtime). */
  client: string
  /** The provider agent's runtime id. */
  agentId: string
  log(message: string, data?: Record<string, unknown>): Promise<void>
}

/** A service an agent sells. `input` validates what clients send; the handler produces the deliverable. */
export type Offering<Input = unknown, Output = unknown> = {
  name: string
  description: string
  /** Price in token units as a decimal string, e.g. `'2.5'`. */
  price: string
  /** A token symbol known to the runtime (`'dUSD'`, `'ETH'`) or an ERC-20 address. */
  token: string
  capabilities?: string[]
  input: z.ZodType<Input>
  /** When given, deliverables must match it (clients check it too before paying). */
  output?: z.ZodType<Output>
} & (
  | {
      handler(input: Input, context: OfferingContext): Promise<Output> | Output
      prompt?: never
      webhook?: never
    }
  | {
      /**
       * Served by the agent's model instead of code: `{{field}}` is replaced by that input field
       * (objects as JSON) and the answer must match `output`.
       */
      prompt: string
      output: z.ZodType<Output>
      handler?: never
      webhook?: never
    }
  | {
      /**
       * Served by the owner's own service: the job is POSTed to this http(s) URL, signed by the
       * agent's key, and the answer is the deliverable (see `serveWebhook`).
       */
      webhook: string
      handler?: never
      prompt?: never
    }
)

/**
 * Types an offering's handler from its schemas (inside `defineAgent`'s list the types are erased).
 *
 * @example
 * defineOffering({ name: 'echo', description: 'Echoes', price: '1', token: 'dUSD',
 *   input: z.object({ text: z.string() }), handler: ({ text }) => ({ text }) })
 */
export function defineOffering<Input, Output>(offering: Offering<Input, Output>): Offering<Input, Output> {
  return offering
}

/** Limits the runtime enforces in code before signing anything that moves money. */
export type SpendingPolicy = {
  /** The most one job or payment may cost, in token units. */
  perJobCap?: string
  /** The most the agent may spend per period, in token units of `token`. */
  budget?: { amount: string; period: 'hour' | 'day' | 'week' | 'month' }
  /** The token the limits are expressed in (default: the deployment's default token, dUSD on the devnet); spending in other tokens is refused. */
  token?: string
  /**
   * When given, the only counterparties this agent may pay or hire. Each entry is one of:
   * - an agent's on-chain id (`'7'`): the agent it may pay or hire, and buy x402 resources from
   *   when they are paid to that agent's Safe (an agent hosted here);
   * - an address (`'0x…'`, any case): an x402 payee (`payTo`) it may pay;
   * - a host name (`'api.example.com'`, without port; `'127.0.0.1'` for an IPv4 address): a host
   *   whose x402 resources it may buy, whatever address they are paid to.
   * `pay` and `hire` are checked against agent ids; an x402 purchase is allowed when its payee's
   * agent id, its payee address or the resource's host is listed.
   */
  allowedCounterparties?: string[]
}

/**
 * Which clients a provider serves, checked before any work when a job is funded for it; a refused
 * client's job is declined (refunded in full; a decline counts in no record). The escrow cannot stop
 * a client from reading a delivery and rejecting it: these limits are how a provider chooses whom to
 * trust with its work.
 */
export type ProviderPolicy = {
  /** Refuse clients whose on-chain record has more than this share of their settled jobs rejected or left to expire after delivery (0-1). */
  maxRejectionRate?: number
  /** Refuse jobs without an evaluator (someone other than the client who may reject). */
  requireEvaluator?: boolean
  /** When given, the only evaluators accepted (addresses); implies `requireEvaluator`. */
  trustedEvaluators?: string[]
}

/** How a client judges a delivery: accept with a rating (0-100), or reject with a reason. */
export type Verdict = { accept: true; rating: number; feedback?: string } | { accept: false; reason: string }

export type Evaluator = (job: {
  jobId: string
  offering: string
  input: unknown
  deliverable: unknown
}) => Promise<Verdict> | Verdict

export type AgentDefinition = {
  name: string
  description: string
  instructions: string
  /** Inference backend; validated by the inference layer. */
  model?: Record<string, unknown>
  // biome-ignore lint/suspicious/noExplicitAny: each offering has its own input and output types
  offerings: Offering<any, any>[]
  policy: SpendingPolicy
  /** Which clients it serves as a provider (default: everyone). */
  providerPolicy?: ProviderPolicy
  /** Judges deliveries this agent receives as a client; default: accept schema-valid output, rating 100. */
  evaluate?: Evaluator
  /** The JSON this definition was built from (`agentFromJson`), kept to rebuild it after a restart. */
  json?: Record<string, unknown>
}

const decimalAmount = z
  .string()
  .regex(/^\d+(\.\d+)?$/, 'must be a non-negative decimal number as a string, e.g. "2.5"')
  .refine((v) => v.length <= 40, 'is too long')

/** An offering's name: what clients hire it by. */
export const offeringNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lower-case letters, digits, "-" or "_"')

const offeringShape = z.strictObject({
  name: offeringNameSchema,
  description: z.string().min(1).max(2_000),
  price: decimalAmount.refine((v) => !/^0+(\.0+)?$/.test(v), 'must be more than zero'),
  token: z.string().min(1).max(64),
  capabilities: z.array(z.string().min(1).max(64)).max(32).optional(),
  input: z.custom<z.ZodType>((v) => v instanceof z.ZodType, 'must be a zod schema'),
  output: z.custom<z.ZodType>((v) => v instanceof z.ZodType, 'must be a zod schema').optional(),
  handler: z
    .custom<(...args: unknown[]) => unknown>((v) => typeof v === 'function', 'must be a function')
    .optional(),
  prompt: z.string().min(1).max(20_000).optional(),
  webhook: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .max(2_000)
    .optional(),
})

/** An entry of `allowedCounterparties`: an agent id, an address, or a host name (not a cut-short address). */
const counterpartyPattern =
  /^(\d{1,78}|0x[0-9a-fA-F]{40}|(?!0x[0-9a-fA-F]*$)(?=.*[a-zA-Z.])[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*)$/

export const spendingPolicySchema = z.strictObject({
  perJobCap: decimalAmount.optional(),
  budget: z
    .strictObject({ amount: decimalAmount, period: z.enum(['hour', 'day', 'week', 'month']) })
    .optional(),
  token: z.string().min(1).max(64).optional(),
  allowedCounterparties: z
    .array(
      z
        .string()
        .max(253)
        .regex(
          counterpartyPattern,
          'must be an on-chain agent id, an address (0x…) or a host name (api.example.com)',
        ),
    )
    .max(1_000)
    .optional(),
})

export const providerPolicySchema = z.strictObject({
  maxRejectionRate: z.number().min(0).max(1).optional(),
  requireEvaluator: z.boolean().optional(),
  trustedEvaluators: z
    .array(z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be an address'))
    .max(100)
    .optional(),
})

const definitionShape = z.strictObject({
  name: z.string().trim().min(1).max(64),
  description: z.string().max(2_000).default(''),
  instructions: z.string().max(20_000).default(''),
  model: z.record(z.string(), z.unknown()).optional(),
  offerings: z.array(offeringShape).max(32).default([]),
  policy: spendingPolicySchema.default({}),
  providerPolicy: providerPolicySchema.optional(),
  evaluate: z.custom<Evaluator>((v) => typeof v === 'function', 'must be a function').optional(),
  json: z.record(z.string(), z.unknown()).optional(),
})

/**
 * The limits an agent with a model gets when its definition sets none (in dUSD): a model can be
 * talked into spending (prompt injection in a listing, an input, a deliverable), so it starts
 * small. An owner widens them by setting `perJobCap` or `budget` in the policy.
 */
export const defaultModelPolicy = { perJobCap: '5', budget: { amount: '20', period: 'day' } } as const

/** A policy with limits: the agent's own, or the defaults when it sets none. */
function withModelLimits(name: string, policy: SpendingPolicy): SpendingPolicy {
  if (policy.perJobCap || policy.budget) return policy
  if (policy.token && !/^dusd$/i.test(policy.token)) {
    throw new ValidationError(
      `Agent definition "${name}" has a model and no spending limits in ${policy.token}: set perJobCap or budget.`,
      { code: 'INVALID_DEFINITION' },
    )
  }
  return { ...policy, ...defaultModelPolicy }
}

export type DefineAgentParameters = {
  name: string
  description?: string
  instructions?: string
  model?: Record<string, unknown>
  // biome-ignore lint/suspicious/noExplicitAny: each offering has its own input and output types
  offerings?: Offering<any, any>[]
  policy?: SpendingPolicy
  providerPolicy?: ProviderPolicy
  evaluate?: Evaluator
  json?: Record<string, unknown>
}

/**
 * Declares an agent: what it is, what it sells and what it may spend. Validated here, so a mistake
 * is reported where it was written, with the path of the offending field.
 *
 * @example
 * const echo = defineAgent({
 *   name: 'echo',
 *   offerings: [{ name: 'echo', description: 'Repeats text', price: '1', token: 'dUSD',
 *     input: z.object({ text: z.string() }), handler: ({ text }) => ({ text }) }],
 *   policy: { perJobCap: '5', budget: { amount: '50', period: 'day' } },
 * })
 */
export function defineAgent(parameters: DefineAgentParameters): AgentDefinition {
  const parsed = definitionShape.safeParse(parameters)
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(definition)'}: ${i.message}`)
    throw new ValidationError(
      `Agent definition "${String(parameters?.name ?? '')}" is invalid: ${issues.join('; ')}`,
      {
        code: 'INVALID_DEFINITION',
        meta: { issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) },
      },
    )
  }
  if (parsed.data.model) {
    try {
      parseModelConfig(parsed.data.model)
    } catch (error) {
      throw new ValidationError(
        `Agent definition "${parsed.data.name}" has an invalid model: ${error instanceof BaseError ? error.shortMessage : String(error)}`,
        { code: 'INVALID_DEFINITION', cause: error },
      )
    }
    parsed.data.policy = withModelLimits(parsed.data.name, parsed.data.policy)
  }
  const names = new Set<string>()
  for (const offering of parsed.data.offerings) {
    const served = (offering.handler ? 1 : 0) + (offering.prompt ? 1 : 0) + (offering.webhook ? 1 : 0)
    if (served !== 1) {
      throw new ValidationError(
        `Offering "${offering.name}" of "${parsed.data.name}" needs exactly one of a handler, a prompt or a webhook.`,
        { code: 'INVALID_DEFINITION' },
      )
    }
    if (offering.prompt && (!offering.output || !parsed.data.model)) {
      throw new ValidationError(
        `Offering "${offering.name}" of "${parsed.data.name}" is served by a prompt, so it needs an output schema and the agent a model.`,
        { code: 'INVALID_DEFINITION' },
      )
    }
    if (names.has(offering.name)) {
      throw new ValidationError(
        `Agent definition "${parsed.data.name}" lists the offering "${offering.name}" twice.`,
        {
          code: 'INVALID_DEFINITION',
        },
      )
    }
    names.add(offering.name)
  }
  return parsed.data as AgentDefinition
}
