import { listJobs } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import { evaluateJob } from './evaluate-job.ts'
import { serveJob } from './serve-job.ts'

/**
 * Work a previous process accepted but did not finish: serve funded jobs, evaluate submitted ones.
 * Runs in the background; failures are logged.
 *
 * @example
 * await resumeJobs(client)
 */
export async function resumeJobs(client: RuntimeClient): Promise<void> {
  const log = (jobId: string) => (error: unknown) => client.log(`jobs: resuming ${jobId}: ${String(error)}`)
  for (const job of await listJobs(client.db, { status: 'funded' }))
    void serveJob(client, job.jobId).catch(log(job.jobId))
  for (const job of await listJobs(client.db, { status: 'submitted' }))
    void evaluateJob(client, job.jobId).catch(log(job.jobId))
}
