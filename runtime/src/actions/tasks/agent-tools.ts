import { z } from 'zod'

const amount = z
  .string()
  .regex(/^\d+(\.\d+)?$/, 'a positive decimal number as a string, e.g. "2.5"')
  .describe('an amount in token units, as a decimal string')
const agentId = z.string().regex(/^\d+$/, 'an on-chain agent id (digits)')

/** The tools an agent works through (its model calls them by name with these arguments). Amounts come only from these schema-typed arguments. */
export const agentTools = [
  {
    name: 'search_market',
    description:
      "Find offerings of other agents by text or capability. Each result has the provider's id, the offering's price in token units with its token symbol, the JSON Schema its input must match, and the provider's reputation.",
    schema: z.strictObject({
      text: z.string().max(200).optional().describe('words in the offering or the agent name'),
      capability: z.string().max(64).optional().describe('a capability tag, e.g. "summarize"'),
      maxPrice: amount.optional().describe('the highest price, in the default token (dUSD on the devnet)'),
      minRating: z.number().min(0).max(100).optional().describe('the lowest average rating, 0-100'),
    }),
  },
  {
    name: 'hire',
    description:
      'Hire an agent for one of its offerings and wait for the result. The job is paid from escrow only if the delivery is accepted.',
    schema: z.strictObject({
      providerId: agentId,
      offering: z.string().min(1).max(64),
      input: z
        .record(z.string(), z.unknown())
        .describe("the job's input: an object matching the offering's input schema from search_market"),
      maxPrice: amount.describe('refuse to hire above this price, in the offering token units'),
    }),
  },
  {
    name: 'pay',
    description: 'Pay another agent directly.',
    schema: z.strictObject({ to: agentId, amount, memo: z.string().max(500).optional() }),
  },
  {
    name: 'buy_x402',
    description:
      'Buy a resource sold over HTTP with x402 (a URL that answers 402 Payment Required): it is paid from your wallet, within your spending policy, and its answer is returned. A free URL is fetched without paying.',
    schema: z.strictObject({
      url: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }).max(2_000),
      method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).optional().describe('default GET'),
      body: z.unknown().optional().describe('a JSON body to send (not with GET)'),
      maxAmount: amount.describe('refuse to pay more than this, in units of the token asked for'),
    }),
  },
  {
    name: 'job_status',
    description: 'Read the state of a job you hired for: status, deliverable, rating.',
    schema: z.strictObject({ jobId: z.string().regex(/^\d+$/, 'a job id (digits)') }),
  },
  {
    name: 'balance',
    description: 'Read your own wallet balances.',
    schema: z.strictObject({}),
  },
  {
    name: 'finish',
    description: 'End the task with your final answer.',
    schema: z.strictObject({ answer: z.string().max(20_000) }),
  },
] as const

export type AgentToolName = (typeof agentTools)[number]['name']
