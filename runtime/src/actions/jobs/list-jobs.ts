import { listJobs as listJobRows } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import { type JobView, toJobView } from '../../views/job-view.ts'
import type { ViewerParameters } from '../../views/viewer.ts'

export type ListJobsParameters = ViewerParameters
export type ListJobsReturnType = JobView[]

/**
 * The jobs an agent hired for or served, in the same view as one job (inputs and deliverables
 * only for their parties, see `getJob`).
 *
 * @example
 * const jobs = await listJobs(client, agentId, { viewer: session?.address ?? null })
 */
export async function listJobs(
  client: Pick<RuntimeClient, 'db' | 'agents' | 'tokens'>,
  agentId: string,
  parameters: ListJobsParameters = {},
): Promise<ListJobsReturnType> {
  const agent = await client.agents.get(agentId)
  const rows = await listJobRows(client.db, { agentId: agent.id })
  return Promise.all(rows.map((job) => toJobView(client, job, parameters)))
}
