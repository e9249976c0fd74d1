import { listJobs as listJobRows } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import { type JobView, toJobView } from '../../views/job-view.ts'

export type ListJobsReturnType = JobView[]

/**
 * The jobs an agent hired for or served, in the same view as one job.
 *
 * @example
 * const jobs = await listJobs(client, agentId)
 */
export async function listJobs(
  client: Pick<RuntimeClient, 'db' | 'agents' | 'tokens'>,
  agentId: string,
): Promise<ListJobsReturnType> {
  const agent = await client.agents.get(agentId)
  const rows = await listJobRows(client.db, { agentId: agent.id })
  return Promise.all(rows.map((job) => toJobView(client, job)))
}
