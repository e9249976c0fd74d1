import { ConflictError, getJob, type Job } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import { finalJobStatuses } from '../../projection/job-watch.ts'
import { type JobView, toJobView } from '../../views/job-view.ts'

export type WaitForJobParameters = { timeoutMs?: number }
export type WaitForJobReturnType = JobView

/**
 * Resolves once the job is final (completed, rejected, declined, expired or failed); a
 * `ConflictError` after `timeoutMs` (default two minutes).
 *
 * @example
 * const job = await waitForJob(client, jobId)
 */
export async function waitForJob(
  client: Pick<RuntimeClient, 'db' | 'tokens' | 'jobs'>,
  jobId: string,
  { timeoutMs = 120_000 }: WaitForJobParameters = {},
): Promise<WaitForJobReturnType> {
  const current = await getJob(client.db, jobId)
  if (current && finalJobStatuses.has(current.status)) return toJobView(client, current)
  const job = await new Promise<Job>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new ConflictError(`Job ${jobId} did not finish within ${timeoutMs} ms.`)),
      timeoutMs,
    )
    const waiters = client.jobs.waiters.get(jobId) ?? new Set()
    client.jobs.waiters.set(jobId, waiters)
    waiters.add((done) => {
      clearTimeout(timer)
      resolve(done)
    })
  })
  return toJobView(client, job)
}
