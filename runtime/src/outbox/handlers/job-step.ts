import { agentEconomyAbi } from '@agora/contracts'
import { getJob, updateJob } from '@agora/db'
import { parseEventLogs } from 'viem'
import { applyJobEvent } from '../../projection/apply-job-event.ts'
import { jobMoved } from '../../projection/job-watch.ts'
import { safeCallHandler } from './safe-call.ts'

/**
 * One step of a job made by an agent's Safe on the economy (create and fund, submit, decline,
 * complete, reject). The receipt's events settle the job at once, ahead of the indexer.
 */
export const jobStepHandler = safeCallHandler({
  async onSettled(client, _intent, receipt) {
    for (const event of parseEventLogs({ abi: agentEconomyAbi, logs: receipt.logs }))
      await applyJobEvent(client, event)
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
