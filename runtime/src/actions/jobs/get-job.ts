import { getJob as getJobRow, NotFoundError } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import { type JobView, toJobView } from '../../views/job-view.ts'
import type { ViewerParameters } from '../../views/viewer.ts'

export type GetJobParameters = ViewerParameters
export type GetJobReturnType = JobView

/**
 * One job this runtime knows (as client or provider), by its on-chain id; a `NotFoundError`
 * otherwise. Its input and deliverable are the parties' (see `jobVisibleTo`): for any other
 * `viewer` they are null.
 *
 * @example
 * const job = await getJob(client, jobId, { viewer: session?.address ?? null })
 */
export async function getJob(
  client: Pick<RuntimeClient, 'db' | 'tokens'> & Partial<Pick<RuntimeClient, 'agents'>>,
  jobId: string,
  parameters: GetJobParameters = {},
): Promise<GetJobReturnType> {
  const job = /^\d{1,78}$/.test(jobId) ? await getJobRow(client.db, jobId) : undefined
  if (!job) throw new NotFoundError(`No job ${jobId}.`)
  return toJobView(client, job, parameters)
}
