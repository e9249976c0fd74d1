import { listJobs } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import { recordIntent } from '../../outbox/record-intent.ts'
import { sendIntent } from '../../outbox/send-intent.ts'

/**
 * Refunds this runtime's clients' jobs whose time is up (funded past the deadline, submitted past
 * the deadline and the grace period). Anyone may call the refund on chain: a relayer does.
 *
 * @example
 * await refundExpiredJobs(client, Number(block.timestamp))
 */
export async function refundExpiredJobs(client: RuntimeClient, now: number): Promise<void> {
  const open = [
    ...(await listJobs(client.db, { status: 'funded' })),
    ...(await listJobs(client.db, { status: 'submitted' })),
  ]
  const grace = client.chain.submissionGraceSeconds
  for (const job of open) {
    if (!job.clientAgentId) continue
    const deadline = Math.floor(job.deadline.getTime() / 1_000)
    const refundableAfter = job.status === 'funded' ? deadline : deadline + grace
    if (now <= refundableAfter) continue
    try {
      const { intent } = await recordIntent(client, client.db, {
        idempotencyKey: `refundExpired:${job.jobId}`,
        kind: 'refundExpired',
        agentId: job.clientAgentId,
        payload: { jobId: job.jobId },
      })
      await sendIntent(client, intent)
    } catch (error) {
      client.log(`jobs: refund of ${job.jobId} failed: ${(error as Error).message}`)
    }
  }
}
