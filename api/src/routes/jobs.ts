import { jobViewSchema } from '@agora/runtime'
import { createRoute, OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../env.ts'
import { jsonResponse } from '../openapi.ts'
import { problems } from '../problem.ts'
import { jobParams } from '../schemas.ts'
import { signedInOrNot, viewerOf } from './auth.ts'

const route = createRoute({
  method: 'get',
  path: '/{jobId}',
  summary: 'One job: parties, price, status, hashes, transactions; input and deliverable for its parties',
  description:
    "Anyone reads the public facts (as on chain). The input and the deliverable are shown to the job's parties only (the client's owner, the provider's owner and the evaluator), signed in; to anyone else they are null.",
  tags: ['money'],
  ...signedInOrNot,
  request: { params: jobParams },
  responses: { 200: jsonResponse(jobViewSchema, 'The job'), ...problems(400, 401, 404) },
})

/** `/jobs/:jobId`: one job; its public facts to anyone, its input and deliverable to its parties. */
export function jobsRouter() {
  const app = new OpenAPIHono<AppEnv>()
  app.openapi(route, async (c) =>
    c.json(await c.var.runtime.getJob(c.req.valid('param').jobId, { viewer: viewerOf(c) }), 200),
  )
  return app
}
