import { agentEconomyAbi } from '@agora/contracts'
import { getJob, updateJob } from '@agora/db'
import { parseEventLogs } from 'viem'
import { applyJobEvent } from '../../projection/apply-job-event.ts'
import { jobMoved } from '../../projection/job-watch.ts'
import { safeCallHandler } from './safe-call.ts'

/**
 * One step of a job made by an agent's Safe on the economy (create and fund, submit, decline,
 * complete, reject). The receipt's events of its job settle the job at once, ahead of the indexer.
 * Steps of one kind queued together in a Safe's lane (a provider's submissions, a client's
 * completions or hires) go out as one transaction, like payments; each applies its own job's events.
 */
export const jobStepHandler = safeCallHandler({
  batch: true,
  async onSettled(client, intent, receipt) {
    const jobId = String(intent.payload.jobId)
    for (const event of parseEventLogs({ abi: agentEconomyAbi, logs: receipt.logs }))
      if ((event.args as { jobId?: bigint }).jobId?.toString() === jobId) await applyJobEvent(client, event)
    return undefined
  },
  async onFailed(client, intent, error) {
    const jobId = String(intent.payload.jobId)
    const job = await getJob(client.db, jobId)
    if (job?.status === 'pending') jobMoved(client, await updateJob(client.db, jobId, { status: 'failed' }))
    await client.activity.record(intent.agentId, 'job', {
      jobId,
      event: `${intent.kind} failed`,
      error: error.shortMessage,
    })
  },
})
