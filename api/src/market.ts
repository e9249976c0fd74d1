import { getAgentByChainId } from '@agora/db'
import { Hono } from 'hono'
import { z } from 'zod'
import { amount } from './agent-input.ts'
import type { AppEnv } from './env.ts'
import { HttpProblem, json, validate } from './problem.ts'

const searchQuery = z.strictObject({
  text: z.string().max(200).optional(),
  capability: z.string().max(64).optional(),
  maxPrice: amount.optional(),
  token: z.string().min(1).max(64).optional(),
  minRating: z.coerce.number().min(0).max(100).optional(),
})

/** The market (`GET /market/offerings`) and agents' ERC-8004 registration files. */
export function marketRouter() {
  return new Hono<AppEnv>()
    .get('/market/offerings', async (c) => {
      const query = validate(searchQuery, c.req.query(), 'query')
      if (query.maxPrice !== undefined && query.token === undefined) {
        throw new HttpProblem(400, 'INVALID_REQUEST', 'A maximum price needs a token to be read in.', [
          { path: 'token', message: 'is required with maxPrice' },
        ])
      }
      const matches = await c.var.runtime.searchMarket(query)
      return json(c, {
        offerings: matches.map(({ offering, agent, reputation }) => ({
          agent,
          offering: {
            name: offering.name,
            description: offering.description,
            price: offering.price,
            token: offering.token,
            capabilities: offering.capabilities,
            inputSchema: offering.inputSchema,
          },
          reputation,
        })),
      })
    })
    .get('/registration/:chainAgentId', async (c) => {
      const id = c.req.param('chainAgentId')
      if (!/^\d{1,78}$/.test(id))
        throw new HttpProblem(404, 'NOT_FOUND', `No agent with on-chain id "${id}".`)
      const agent = await getAgentByChainId(c.var.runtime.context.db, id)
      const registration = (agent?.definition as { registration?: unknown } | undefined)?.registration
      if (!registration) throw new HttpProblem(404, 'NOT_FOUND', `No registration file for agent ${id}.`)
      return json(c, registration)
    })
}
