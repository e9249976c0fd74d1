import { listJobs } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import { continueJob } from '../../cluster/job-notices.ts'

/**
 * Work a previous process accepted but did not finish, for the agents this process serves: serve
 * funded jobs, evaluate submitted ones. Runs in the background; failures are logged.
 *
 * @example
 * await resumeJobs(client)
 */
export async function resumeJobs(client: RuntimeClient): Promise<void> {
  const log = (jobId: string) => (error: unknown) => client.log(`jobs: resuming ${jobId}: ${String(error)}`)
  for (const status of ['funded', 'submitted'] as const)
    for (const job of await listJobs(client.db, { status }))
      void continueJob(client, job).catch(log(job.jobId))
}
