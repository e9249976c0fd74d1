import { Hono } from 'hono'
import { jobIdParam } from './agent-input.ts'
import type { AppEnv } from './env.ts'
import { jobView } from './job-view.ts'
import { HttpProblem, json } from './problem.ts'

/** `/jobs/:jobId`: one job, public (its on-chain record is too). */
export function jobsRouter() {
  return new Hono<AppEnv>().get('/:jobId', async (c) => {
    const jobId = c.req.param('jobId')
    const job = jobIdParam.safeParse(jobId).success ? await c.var.runtime.job(jobId).get() : undefined
    if (!job) throw new HttpProblem(404, 'NOT_FOUND', `No job ${jobId}.`)
    return json(c, jobView(job))
  })
}
