import { jobViewSchema } from '@agora/runtime'
import { createRoute, OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../env.ts'
import { jsonResponse } from '../openapi.ts'
import { problems } from '../problem.ts'
import { jobParams } from '../schemas.ts'

const route = createRoute({
  method: 'get',
  path: '/{jobId}',
  summary: 'One job: parties, price, status, input, deliverable, transactions',
  tags: ['money'],
  request: { params: jobParams },
  responses: { 200: jsonResponse(jobViewSchema, 'The job'), ...problems(400, 404) },
})

/** `/jobs/:jobId`: one job, public (its on-chain record is too). */
export function jobsRouter() {
  const app = new OpenAPIHono<AppEnv>()
  app.openapi(route, async (c) => c.json(await c.var.runtime.getJob(c.req.valid('param').jobId), 200))
  return app
}
