import { getJob as getJobRow, NotFoundError } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import { type JobView, toJobView } from '../../views/job-view.ts'

export type GetJobReturnType = JobView

/**
 * One job this runtime knows (as client or provider), by its on-chain id; a `NotFoundError` otherwise.
 *
 * @example
 * const job = await getJob(client, jobId)
 */
export async function getJob(
  client: Pick<RuntimeClient, 'db' | 'tokens'>,
  jobId: string,
): Promise<GetJobReturnType> {
  const job = /^\d{1,78}$/.test(jobId) ? await getJobRow(client.db, jobId) : undefined
  if (!job) throw new NotFoundError(`No job ${jobId}.`)
  return toJobView(client, job)
}
