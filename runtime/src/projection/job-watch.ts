import type { Job } from '@agora/db'
import type { RuntimeClient } from '../client.ts'
import { createKeyedMutex, type KeyedMutex } from '../outbox/mutex.ts'

export const finalJobStatuses: ReadonlySet<string> = new Set([
  'completed',
  'rejected',
  'declined',
  'expired',
  'failed',
])

/** Per-job locks and the callers waiting for a job to end. */
export type JobWatch = {
  /** Serving and evaluating one job never overlap. */
  readonly work: KeyedMutex
  /** Chain events of one job are applied one after another. */
  readonly apply: KeyedMutex
  readonly waiters: Map<string, Set<(job: Job) => void>>
  /** When stalled work of a job was last resumed (see `resumeStalledJobs`). */
  readonly resumedAt: Map<string, number>
}

/** @example const jobs = createJobWatch() */
export function createJobWatch(): JobWatch {
  return { work: createKeyedMutex(), apply: createKeyedMutex(), waiters: new Map(), resumedAt: new Map() }
}

/**
 * A job moved: once it is final, whoever waits for it hears, its locks are dropped, and a job that
 * ended without paying its provider gives its budget back to the client.
 */
export function jobMoved(client: Pick<RuntimeClient, 'jobs' | 'guard'>, job: Job) {
  if (!finalJobStatuses.has(job.status)) return
  if (job.status !== 'completed' && job.clientAgentId) client.guard.release(job.clientAgentId, job.jobId)
  for (const resolve of client.jobs.waiters.get(job.jobId) ?? []) resolve(job)
  client.jobs.waiters.delete(job.jobId)
  client.jobs.resumedAt.delete(job.jobId)
  client.jobs.work.forget(job.jobId)
  client.jobs.apply.forget(job.jobId)
}
