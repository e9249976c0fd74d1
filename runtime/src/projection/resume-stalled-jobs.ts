import { getIntentByKey, type Job, listJobs } from '@agora/db'
import { evaluateJob } from '../actions/jobs/evaluate-job.ts'
import { serveJob } from '../actions/jobs/serve-job.ts'
import type { RuntimeClient } from '../client.ts'
import { isHosted } from '../cluster/hosted.ts'
import { handInputToRemote } from '../market/remote-escrow.ts'

export type ResumeStalledJobsParameters = {
  /**
   * How long a job must have been left alone before its work counts as stalled, and how long
   * between two attempts at one job (default 10 s: an evaluator that keeps failing is not re-run
   * more often).
   */
  staleMs?: number
}

/**
 * Job work that stalled while the runtime runs: its event was applied, but serving or evaluating it
 * failed under an outage (the database or the chain went away) before the next step was recorded. A
 * funded job of a hosted provider with no submission or decline recorded is served again; a
 * submitted job of a hosted client with no completion or rejection recorded is evaluated again. A
 * step recorded is the outbox's to finish; each is keyed by the job, so nothing happens twice.
 *
 * @example
 * setInterval(() => void resumeStalledJobs(client), 5_000)
 */
export async function resumeStalledJobs(
  client: RuntimeClient,
  parameters: ResumeStalledJobsParameters = {},
): Promise<void> {
  const now = Date.now()
  const before = now - (parameters.staleMs ?? 10_000)
  const hosted = async (id: string | null) => id !== null && isHosted(client, await client.agents.get(id))
  const stalled = async (job: Job, steps: string[]) => {
    if (job.updatedAt.getTime() > before || (client.jobs.resumedAt.get(job.jobId) ?? 0) > before) return false
    const recorded = await Promise.all(steps.map((step) => getIntentByKey(client.db, `${step}:${job.jobId}`)))
    if (recorded.some((intent) => intent !== undefined)) return false
    client.jobs.resumedAt.set(job.jobId, now)
    return true
  }
  const log = (jobId: string) => (error: unknown) => client.log(`jobs: resuming ${jobId}: ${String(error)}`)
  for (const job of await listJobs(client.db, { status: 'funded' })) {
    if (job.providerAgentId) {
      if ((await hosted(job.providerAgentId)) && (await stalled(job, ['submitJob', 'declineJob'])))
        void serveJob(client, job.jobId).catch(log(job.jobId))
    }
    // Hired from another runtime: its input is handed over again until that runtime acknowledges it.
    else if ((await hosted(job.clientAgentId)) && (await stalled(job, [])))
      void client.agents
        .get(job.clientAgentId!)
        .then((hirer) => handInputToRemote(client, hirer, job))
        .catch(log(job.jobId))
  }
  for (const job of await listJobs(client.db, { status: 'submitted' }))
    if ((await hosted(job.clientAgentId)) && (await stalled(job, ['completeJob', 'rejectJob'])))
      void evaluateJob(client, job.jobId).catch(log(job.jobId))
}
