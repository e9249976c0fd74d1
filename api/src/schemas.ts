import { PAGE_LIMIT } from '@agora/db'
import { offeringNameSchema, updateAgentSchema } from '@agora/runtime'
import { z } from '@hono/zod-openapi'

// Amounts are decimal strings in token units ("2.5"): never numbers, so no float rounding and no sign.
export const amount = z
  .string()
  .max(40)
  .regex(/^\d+(\.\d+)?$/, 'must be a non-negative decimal number as a string, e.g. "2.5"')
  .meta({ examples: ['2.5'] })
export const positiveAmount = amount.refine((v) => !/^0+(\.0+)?$/.test(v), 'must be more than zero')
export const chainAgentId = z
  .union([
    z.string().regex(/^\d{1,78}$/, 'must be an on-chain agent id (digits)'),
    z
      .number()
      .int()
      .nonnegative()
      .transform((n) => String(n)),
  ])
  .describe('An on-chain agent id.')
export const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be an address')
const token = z.string().min(1).max(64).describe('A token symbol ("dUSD", "ETH") or an ERC-20 address.')
export const idempotencyKey = z
  .string()
  .min(1)
  .max(200)
  .describe('Retrying with the same key never does it twice; the same key for something else is a 409.')

/** The id in an agent's routes: its runtime id (`agt_…`) or its on-chain id. */
export const agentParams = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[\w-]+$/, 'must be an agent id (`agt_…`) or an on-chain id (digits)')
    .openapi({
      param: {
        name: 'id',
        in: 'path',
        description:
          "The agent's runtime id (`agt_…`) or its on-chain id (digits): every route takes either.",
      },
      example: 'agt_3f2a…',
    }),
})

/** `/agents/:id/payments/:paymentId`. */
export const paymentParams = agentParams.extend({
  paymentId: z
    .string()
    .max(100)
    .openapi({ param: { name: 'paymentId', in: 'path' }, example: 'pay_3f2a…' }),
})

export const payBody = z
  .strictObject({
    to: chainAgentId,
    amount: positiveAmount.describe('In token units.'),
    token: token.optional(),
    memo: z.string().max(1_000).optional(),
    idempotencyKey: idempotencyKey.optional(),
  })
  .meta({ id: 'Pay' })

export const hireBody = z
  .strictObject({
    provider: chainAgentId,
    offering: offeringNameSchema,
    input: z.unknown().describe("The offering's input."),
    maxPrice: amount.optional().describe('Refuse if the offering costs more (token units).'),
    deadlineSeconds: z
      .number()
      .int()
      .min(60)
      .max(30 * 24 * 3_600)
      .optional(),
    evaluator: address.optional().describe('Who may judge the delivery besides the client.'),
    idempotencyKey: idempotencyKey.optional(),
  })
  .meta({ id: 'Hire' })

/** Every list route reads a page at a time: `limit`, then `cursor` (the `next` of the page before). */
export const pageQuery = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(PAGE_LIMIT.max)
    .optional()
    .describe(`At most this many items (default ${PAGE_LIMIT.default}, at most ${PAGE_LIMIT.max}).`),
  cursor: z
    .string()
    .max(1_000)
    .optional()
    .describe('Where to read on: the `next` of the previous page, unchanged.'),
}

/** The `next` of a page: the cursor of the page after it, null on the last one. */
export const nextCursor = z
  .string()
  .nullable()
  .describe(
    'Pass as `cursor` for the next page; null when this is the last. Items added meanwhile are neither skipped nor repeated.',
  )

export const listAgentsQuery = z.strictObject({ owner: address.optional(), ...pageQuery })

/**
 * `PATCH /agents/:id`: what an owner set at launch, each field replacing the agent's (the runtime's
 * `updateAgentSchema`: model with its sealed key, the full list of offerings, policies, texts).
 */
export const updateAgentBody = updateAgentSchema.meta({
  id: 'UpdateAgent',
  description:
    'What to change; every field is optional and replaces the one the agent has. Agents defined in TypeScript change only description and instructions.',
})

/** `POST /agents/:id/withdraw`: everything in dUSD to the owner unless told otherwise. */
export const withdrawBody = z
  .strictObject({
    token: token.optional(),
    amount: positiveAmount.optional().describe('Token units; everything held by default.'),
    to: address
      .refine((v) => !/^0x0{40}$/.test(v), 'must not be the zero address (that would burn the tokens)')
      .optional()
      .describe("The owner's address by default."),
    idempotencyKey: idempotencyKey.optional(),
  })
  .meta({ id: 'Withdraw' })

/** `POST /agents/:id/tasks`: a goal for the agent's model to work towards. */
export const taskBody = z
  .strictObject({
    goal: z.string().trim().min(1).max(10_000),
    maxSteps: z.number().int().min(1).max(50).optional(),
  })
  .meta({ id: 'StartTask' })

export const searchQuery = z
  .strictObject({
    text: z.string().max(200).optional(),
    capability: z.string().max(64).optional(),
    maxPrice: amount.optional().describe('In token units of `token` (required with it).'),
    token: token.optional(),
    minRating: z.coerce.number().min(0).max(100).optional(),
    sort: z
      .enum(['reputation', 'price'])
      .optional()
      .describe('`reputation` (default): the most trusted providers first; `price`: the cheapest first.'),
    ...pageQuery,
  })
  .refine((q) => q.maxPrice === undefined || q.token !== undefined, {
    path: ['token'],
    message: 'is required with maxPrice',
  })

/** A job id; anything that is not one is simply not found. */
export const jobParams = z.object({
  jobId: z
    .string()
    .max(100)
    .openapi({ param: { name: 'jobId', in: 'path', description: 'The on-chain job id (digits).' } }),
})

/** The `{chainAgentId}` path parameter of routes about one agent of the market (registration file, agent card). */
export const chainAgentParams = z.object({
  chainAgentId: z
    .string()
    .max(100)
    .openapi({ param: { name: 'chainAgentId', in: 'path' }, example: '7' }),
})

const hex = z.string().regex(/^0x[0-9a-fA-F]*$/, 'must be 0x-prefixed hex')

/** The Safe transaction an agent's owners sign before a change the agent module enforces. */
export const ownerSignatureRequestSchema = z
  .object({
    ownerSignatureRequired: z.literal(true),
    purpose: z.string().describe('What the transaction does.'),
    safe: address,
    safeTxHash: hex.describe("The Safe transaction's hash: what each owner signs (EIP-712)."),
    safeTransaction: z
      .object({
        to: address,
        value: z.string(),
        data: hex,
        operation: z.union([z.literal(0), z.literal(1)]),
        safeTxGas: z.literal('0'),
        baseGas: z.literal('0'),
        gasPrice: z.literal('0'),
        gasToken: address,
        refundReceiver: address,
        nonce: z.string(),
      })
      .describe("The transaction at the Safe's nonce now, as protocol-kit's `createTransaction` takes it."),
    typedData: z
      .object({
        domain: z.object({ chainId: z.number(), verifyingContract: address }),
        types: z.record(z.string(), z.array(z.object({ name: z.string(), type: z.string() }))),
        primaryType: z.literal('SafeTx'),
      })
      .describe('The EIP-712 domain and types; the message is `safeTransaction`.'),
  })
  .meta({
    id: 'OwnerSignatureRequest',
    description:
      "Nothing changed yet: the agent's owners sign this Safe transaction (protocol-kit, a wallet, viem's signTypedData), then send the same request again with their signatures (65 bytes each, sorted by owner address) as `ownerSignature`.",
  })

export const ownerSignatureBody = z
  .object({
    ownerSignature: z
      .string()
      .regex(/^0x([0-9a-fA-F]{130})+$/, 'must be Safe owner signatures: 0x and 65 bytes per owner')
      .optional(),
  })
  .meta({ id: 'OwnerSignature' })
