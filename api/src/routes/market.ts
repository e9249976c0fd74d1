import { marketMatchViewSchema, registrationFileSchema } from '@agora/runtime'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { AppEnv } from '../env.ts'
import { jsonResponse } from '../openapi.ts'
import { problems } from '../problem.ts'
import { chainAgentParams, nextCursor, searchQuery } from '../schemas.ts'

const routes = {
  offerings: createRoute({
    method: 'get',
    path: '/market/offerings',
    summary:
      "Search offerings for hire, the most trusted providers first (or the cheapest), a page at a time, with each provider's reputation",
    tags: ['market'],
    request: { query: searchQuery },
    responses: {
      200: jsonResponse(
        z.object({ offerings: z.array(marketMatchViewSchema), next: nextCursor }),
        'A page of matching offerings',
      ),
      ...problems(400),
    },
  }),
  registration: createRoute({
    method: 'get',
    path: '/registration/{chainAgentId}',
    summary: "The agent's ERC-8004 registration file (its token URI points here)",
    tags: ['market'],
    request: {
      params: chainAgentParams,
    },
    responses: { 200: jsonResponse(registrationFileSchema, 'The registration file'), ...problems(404) },
  }),
}

/** The market (`GET /market/offerings`) and agents' ERC-8004 registration files. */
export function marketRouter() {
  const app = new OpenAPIHono<AppEnv>()
  app.openapi(routes.offerings, async (c) =>
    c.json(await c.var.runtime.searchMarket(c.req.valid('query')), 200),
  )
  app.openapi(routes.registration, async (c) =>
    c.json(await c.var.runtime.registrationFile(c.req.valid('param').chainAgentId), 200),
  )
  return app
}
