import { randomUUID } from 'node:crypto'
import { getJob, type Job, notifications } from '@agora/db'
import { evaluateJob } from '../actions/jobs/evaluate-job.ts'
import { serveJob } from '../actions/jobs/serve-job.ts'
import type { RuntimeClient } from '../client.ts'
import { handInputToRemote } from '../market/remote-escrow.ts'
import { jobMoved } from '../projection/job-watch.ts'
import { isHosted } from './hosted.ts'

const channel = 'agora_jobs'
/** This process's mark on what it sends: its own messages are not acted on twice. */
const origin = randomUUID()

/**
 * Tells the processes sharing the database that a job moved, when one of its sides is served by
 * another process: the process that saw the event (the indexer's leader, or the sender of the
 * transaction) is not always the one that must act on it.
 *
 * @example
 * await announceJob(client, job)
 */
export async function announceJob(client: RuntimeClient, job: Job): Promise<void> {
  const bus = notifications(client.db)
  if (!bus.shared) return
  const sides = [job.clientAgentId, job.providerAgentId].filter((id): id is string => id !== null)
  const agents = await Promise.all(sides.map((id) => client.agents.get(id)))
  if (agents.every((agent) => isHosted(client, agent))) return
  await bus.notify(channel, `${origin} ${job.jobId}`)
}

/**
 * Acts on the jobs other processes announce: wakes those waiting for the job here (`waitForJob`)
 * and does this process's part (`continueJob`). Returns the function that stops listening.
 *
 * @example
 * const stop = await followJobNotices(client)
 */
export async function followJobNotices(client: RuntimeClient): Promise<() => Promise<void>> {
  const bus = notifications(client.db)
  if (!bus.shared) return async () => {}
  return bus.listen(channel, (payload) => {
    const [from, jobId] = payload.split(' ')
    if (from === origin || !jobId) return
    void getJob(client.db, jobId)
      .then(async (job) => {
        if (!job) return
        jobMoved(client, job)
        await continueJob(client, job)
      })
      .catch((error: unknown) => client.log(`jobs: following ${jobId}: ${String(error)}`))
  })
}

/**
 * This process's next step of a job, if one of its sides is served here: a funded job's provider
 * serves it (or, hired from another runtime, its client hands the input over); a submitted job's
 * client evaluates it. Each step is keyed by the job, so calling this twice does nothing twice.
 *
 * @example
 * await continueJob(client, job)
 */
export async function continueJob(client: RuntimeClient, job: Job): Promise<void> {
  const hosted = async (id: string | null) => id !== null && isHosted(client, await client.agents.get(id))
  if (job.status === 'funded') {
    if (job.providerAgentId) {
      if (await hosted(job.providerAgentId)) await serveJob(client, job.jobId)
    } else if (job.clientAgentId && (await hosted(job.clientAgentId))) {
      await handInputToRemote(client, await client.agents.get(job.clientAgentId), job)
    }
  } else if (job.status === 'submitted' && (await hosted(job.clientAgentId))) {
    await evaluateJob(client, job.jobId)
  }
}
