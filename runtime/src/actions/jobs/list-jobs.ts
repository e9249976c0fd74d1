import { type PageParameters, pageJobs } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import { type JobView, toJobView } from '../../views/job-view.ts'
import type { ViewerParameters } from '../../views/viewer.ts'

export type ListJobsParameters = ViewerParameters & PageParameters
export type ListJobsReturnType = { jobs: JobView[]; next: string | null }

/**
 * A page of the jobs an agent hired for or served, newest first (`limit`, default 50, at most 200;
 * then `cursor`), in the same view as one job (inputs and deliverables only for their parties, see
 * `getJob`).
 *
 * @example
 * const { jobs, next } = await listJobs(client, agentId, { viewer: session?.address ?? null })
 */
export async function listJobs(
  client: Pick<RuntimeClient, 'db' | 'agents' | 'tokens'>,
  agentId: string,
  parameters: ListJobsParameters = {},
): Promise<ListJobsReturnType> {
  const agent = await client.agents.get(agentId)
  const page = await pageJobs(client.db, {
    agentId: agent.id,
    limit: parameters.limit,
    cursor: parameters.cursor,
  })
  return {
    jobs: await Promise.all(page.items.map((job) => toJobView(client, job, parameters))),
    next: page.next,
  }
}
