import { offeringNameSchema, spendingPolicySchema } from '@agora/runtime'
import { z } from 'zod'

// Amounts are decimal strings in token units ("2.5"): never numbers, so no float rounding and no sign.
export const amount = z
  .string()
  .max(40)
  .regex(/^\d+(\.\d+)?$/, 'must be a non-negative decimal number as a string, e.g. "2.5"')
export const positiveAmount = amount.refine((v) => !/^0+(\.0+)?$/.test(v), 'must be more than zero')
export const chainAgentId = z.union([
  z.string().regex(/^\d{1,78}$/, 'must be an on-chain agent id (digits)'),
  z
    .number()
    .int()
    .nonnegative()
    .transform((n) => String(n)),
])
const token = z.string().min(1).max(64)
const idempotencyKey = z.string().min(1).max(200)

// The same rules as agents defined in code.
const policy = spendingPolicySchema

const offering = z.strictObject({
  name: offeringNameSchema,
  description: z.string().min(1).max(2_000),
  price: positiveAmount,
  token,
  capabilities: z.array(z.string().min(1).max(64)).max(32).optional(),
  /** A JSON Schema of what clients send; stored and published, not enforced (the handler echoes). */
  input: z.record(z.string(), z.unknown()).optional(),
})

/** `POST /agents`: the serialisable part of an agent definition. */
export const launchBody = z.strictObject({
  name: z.string().trim().min(1).max(64),
  description: z.string().max(2_000).optional(),
  instructions: z.string().max(20_000).optional(),
  offerings: z.array(offering).max(32).optional(),
  policy: policy.optional(),
})

export const payBody = z.strictObject({
  to: chainAgentId,
  amount: positiveAmount,
  token: token.optional(),
  memo: z.string().max(1_000).optional(),
  idempotencyKey: idempotencyKey.optional(),
})

export const hireBody = z.strictObject({
  provider: chainAgentId,
  offering: z.string().min(1).max(64),
  input: z.unknown(),
  maxPrice: amount.optional(),
  deadlineSeconds: z
    .number()
    .int()
    .min(60)
    .max(30 * 24 * 3_600)
    .optional(),
  evaluator: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/, 'must be an address')
    .optional(),
  idempotencyKey: idempotencyKey.optional(),
})

export const listAgentsQuery = z.strictObject({
  owner: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/, 'must be an address')
    .optional(),
})

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be an address')

/** `PATCH /agents/:id`: what an owner may change after launch (the prompt and the public text). */
export const updateAgentBody = z
  .strictObject({
    description: z.string().max(2_000).optional(),
    instructions: z.string().max(20_000).optional(),
  })
  .refine((b) => b.description !== undefined || b.instructions !== undefined, {
    message: 'must set description or instructions',
  })

/** `POST /agents/:id/withdraw`: everything in dUSD to the owner unless told otherwise. */
export const withdrawBody = z.strictObject({
  token: token.optional(),
  amount: positiveAmount.optional(),
  to: address
    .refine((v) => !/^0x0{40}$/.test(v), 'must not be the zero address (that would burn the tokens)')
    .optional(),
  idempotencyKey: idempotencyKey.optional(),
})

/** `POST /agents/:id/tasks`: a goal for the agent's model to work towards. */
export const taskBody = z.strictObject({
  goal: z.string().trim().min(1).max(10_000),
  maxSteps: z.number().int().min(1).max(50).optional(),
})

export const jobIdParam = z.string().regex(/^\d{1,78}$/, 'must be a job id (digits)')
