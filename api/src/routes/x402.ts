import type { Runtime, SaleQuote } from '@agora/runtime'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { decodePaymentSignatureHeader } from '@x402/core/http'
import type { FacilitatorClient, HTTPAdapter, HTTPRequestContext } from '@x402/core/server'
import { ExactEvmScheme } from '@x402/evm/exact/server'
import { paymentMiddlewareFromHTTPServer, x402HTTPResourceServer, x402ResourceServer } from '@x402/hono'
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../env.ts'
import { jsonResponse } from '../openapi.ts'
import { HttpError, problems } from '../problem.ts'

const params = z.object({
  chainAgentId: z
    .string()
    .regex(/^\d{1,78}$/, 'must be an on-chain agent id')
    .openapi({ param: { name: 'chainAgentId', in: 'path' }, example: '7' }),
  offering: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'offering', in: 'path' }, example: 'upper' }),
})

const saleSchema = z
  .object({
    agent: z.string().describe("The seller's on-chain id."),
    offering: z.string(),
    deliverable: z
      .unknown()
      .describe('What the offering produced (held to its output schema, when it has one).'),
  })
  .meta({
    id: 'Sale',
    description: 'An x402 purchase delivered; the `PAYMENT-RESPONSE` header carries the settlement.',
  })

const route = createRoute({
  method: 'post',
  path: '/agents/{chainAgentId}/offerings/{offering}',
  summary:
    'Buy an offering as a paid HTTP resource (x402 v2): send its input, pay the 402, get the deliverable',
  description: [
    'Without a `PAYMENT-SIGNATURE` header this answers 402 with the v2 `PAYMENT-REQUIRED` header: scheme',
    "`exact` (EIP-3009), the offering's token and price, the agent's Safe as `payTo`, the chain as a CAIP-2",
    'network. The input is checked first: an input the offering refuses is a 400 and nobody is charged. With',
    'a valid payment (from any account, or a smart wallet through ERC-1271) the offering runs; the payment is',
    "settled on chain by the runtime's own facilitator only once the deliverable is ready, and the answer",
    'carries `PAYMENT-RESPONSE`. A payment presented twice is refused, and nothing is delivered for it.',
  ].join(' '),
  tags: ['market'],
  request: {
    params,
    body: {
      required: true,
      content: { 'application/json': { schema: z.unknown().openapi({ example: { text: 'hello' } }) } },
    },
  },
  responses: {
    200: jsonResponse(saleSchema, 'The deliverable; the payment is settled'),
    402: {
      description: 'Payment required (see the `PAYMENT-REQUIRED` header), or the payment was refused',
      content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
    },
    ...problems(400, 404, 409),
  },
})

/**
 * Every offering of a hosted agent (priced in an EIP-3009 token) as an x402 v2 resource, charged with
 * `@x402/hono`'s middleware and settled by the runtime's own facilitator (no outside service).
 */
export function salesRouter(runtime: Runtime) {
  const app = new OpenAPIHono<AppEnv>()
  const facilitator: FacilitatorClient = {
    verify: (payload, requirements) => runtime.x402Facilitator.verify(payload, requirements),
    settle: (payload, requirements) => runtime.x402Facilitator.settle(payload, requirements),
    getSupported: async () =>
      runtime.x402Facilitator.getSupported() as Awaited<ReturnType<FacilitatorClient['getSupported']>>,
  }
  const network = `eip155:${runtime.chainId}` as const
  const resourceServer = new x402ResourceServer(facilitator).register(network, new ExactEvmScheme())
  // One quote per request: the price and the payee read the same one.
  const quotes = new WeakMap<HTTPAdapter, Promise<SaleQuote>>()
  const quoteOf = (context: HTTPRequestContext): Promise<SaleQuote> => {
    const known = quotes.get(context.adapter)
    if (known) return known
    const [, id, name] = /^\/agents\/([^/]+)\/offerings\/([^/]+)$/.exec(context.path) ?? []
    const body: Promise<unknown> = Promise.resolve(context.adapter.getBody?.())
    const quote = body.then((input) => runtime.quoteSale(id ?? '', decodeURIComponent(name ?? ''), input))
    quotes.set(context.adapter, quote)
    return quote
  }
  const httpServer = new x402HTTPResourceServer(resourceServer, {
    'POST /agents/*/offerings/*': {
      accepts: {
        scheme: 'exact',
        network,
        maxTimeoutSeconds: 300,
        payTo: async (context) => (await quoteOf(context)).payTo,
        price: async (context) => {
          const quote = await quoteOf(context)
          return { amount: quote.price.toString(), asset: quote.token.address, extra: quote.domain }
        },
      },
      mimeType: 'application/json',
      description: 'An offering of an Agora agent',
      unpaidResponseBody: async (context) => {
        const quote = await quoteOf(context)
        return {
          contentType: 'application/json',
          body: {
            title: 'Payment required',
            detail: `"${quote.offering.name}" of agent ${quote.agent.chainAgentId} costs ${quote.offering.price} ${quote.token.symbol}; pay with x402 (see the PAYMENT-REQUIRED header).`,
          },
        }
      },
      settlementFailedResponseBody: async (_context, failure) => ({
        contentType: 'application/json',
        body: {
          title: 'Payment refused',
          detail: `The payment could not be settled: ${failure.errorMessage ?? failure.errorReason}. Nothing was delivered.`,
          reason: failure.errorReason,
        },
      }),
    },
  })
  app.use('/agents/:chainAgentId/offerings/:offering', checkSale, paymentMiddlewareFromHTTPServer(httpServer))
  app.openapi(route, async (c) => {
    const { chainAgentId, offering } = c.req.valid('param')
    const quote = await runtime.quoteSale(chainAgentId, offering, await c.req.json())
    // Verified by the middleware before this runs; settled by it after this answers.
    const payment = decodePaymentSignatureHeader(c.req.header('payment-signature') ?? '')
    const { authorization } = payment.payload as { authorization: { from: `0x${string}`; nonce: string } }
    const deliverable = await runtime.deliverSale(quote, {
      payer: authorization.from,
      nonce: authorization.nonce,
      resource: c.req.url,
    })
    return c.json({ agent: chainAgentId, offering, deliverable: deliverable ?? null }, 200)
  })
  return app
}

/**
 * Before any payment is asked for or taken: the agent, the offering and the input, each a clear
 * problem (404, 409, 400) rather than a 402 for something that could never be delivered.
 */
const checkSale: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.method !== 'POST') return next()
  let input: unknown
  try {
    input = await c.req.json()
  } catch {
    throw new HttpError('MALFORMED_JSON', "Send the offering's input as a JSON body.")
  }
  const id = c.req.param('chainAgentId') ?? ''
  const offering = c.req.param('offering') ?? ''
  if (!/^\d{1,78}$/.test(id))
    throw new HttpError('INVALID_REQUEST', 'The path is invalid.', [
      { path: 'chainAgentId', message: 'must be an on-chain agent id' },
    ])
  if (offering.length === 0 || offering.length > 64)
    throw new HttpError('INVALID_REQUEST', 'The path is invalid.', [
      { path: 'offering', message: 'must be 1 to 64 characters' },
    ])
  await c.var.runtime.quoteSale(id, offering, input)
  await next()
}
