import { and, desc, eq, getTableColumns, inArray, lt, or, type SQL, sql } from 'drizzle-orm'
import type { Db } from './create-db.ts'
import { NotFoundError } from './errors.ts'
import { normalizeAddress, normalizeUint, optional } from './normalize.ts'
import { decodeCursor, encodeCursor, type Page, type PageParameters, pageLimit, toPage } from './page.ts'
import { type Job, type JobRecordStatus, jobs } from './schema.ts'

export type JobInput = {
  /** The on-chain job id as a decimal string. */
  jobId: string
  clientAddress: string
  clientAgentId?: string | null
  providerChainAgentId: string
  providerAgentId?: string | null
  offering: string
  input?: unknown
  specHash: string
  token: string
  budget: string
  deadline: Date
  evaluator?: string | null
  status?: JobRecordStatus
  deliverable?: unknown
  deliverableHash?: string | null
  rating?: number | null
  fee?: string | null
  payout?: string | null
  createTx?: string | null
  submitTx?: string | null
  settleTx?: string | null
  /** The key the client hired with; one job per client and key. */
  idempotencyKey?: string | null
}

export type UpdateJobParameters = Partial<Omit<JobInput, 'jobId'>>

/**
 * Inserts a job or merges the given fields into the known one. The status only moves forward
 * (pending → funded → submitted → a final state), so replaying older events cannot undo a settlement.
 *
 * @example
 * await upsertJob(db, { jobId, clientAddress, providerChainAgentId: '7', offering: 'summarize', specHash, token, budget: '1000000', deadline })
 */
export async function upsertJob(db: Db, parameters: JobInput): Promise<Job> {
  const values = normalizeJob(parameters)
  const columns = getTableColumns(jobs)
  const set: Record<string, SQL> = { updatedAt: sql`now()` }
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined || key === 'jobId') continue
    const column = sql.identifier(columns[key as keyof typeof columns].name)
    set[key] = key === 'status' ? forwardStatus(sql`excluded.status`) : sql`excluded.${column}`
  }
  const [job] = await db
    .insert(jobs)
    .values(values as typeof values & { jobId: string })
    .onConflictDoUpdate({ target: jobs.jobId, set })
    .returning()
  return job!
}

/**
 * Changes the given fields of a known job, with the same forward-only status as `upsertJob`.
 *
 * @example
 * await updateJob(db, jobId, { status: 'submitted', deliverable, deliverableHash, submitTx })
 */
export async function updateJob(db: Db, jobId: string, patch: UpdateJobParameters): Promise<Job> {
  const { status, ...rest } = normalizeJob(patch)
  const [job] = await db
    .update(jobs)
    .set({
      ...rest,
      ...(status ? { status: forwardStatus(sql`${status}::text`) } : {}),
      updatedAt: sql`now()`,
    })
    .where(eq(jobs.jobId, normalizeUint(jobId, 'jobId')))
    .returning()
  if (!job) throw new NotFoundError(`Job ${jobId} not found.`, { code: 'NOT_FOUND' })
  return job
}

/**
 * Moves a known job's status forward and sets the given fields with it, in one statement. Returns
 * the job when it moved; undefined when it is unknown or already at that stage or past it (a
 * replayed event changes nothing).
 *
 * @example
 * const job = await advanceJob(db, jobId, { status: 'completed', rating: 90, settleTx })
 * if (job) notifyFinal(job) // only the first to see the event reacts
 */
export async function advanceJob(
  db: Db,
  jobId: string,
  patch: UpdateJobParameters & { status: JobRecordStatus },
): Promise<Job | undefined> {
  const { status, ...rest } = normalizeJob(patch)
  const [job] = await db
    .update(jobs)
    .set({ ...rest, status, updatedAt: sql`now()` })
    .where(
      and(
        eq(jobs.jobId, normalizeUint(jobId, 'jobId')),
        sql`${statusRank(sql`${status}::text`)} > ${statusRank(sql`${jobs.status}`)}`,
      ),
    )
    .returning()
  return job
}

/** @example const job = await getJob(db, '42') */
export async function getJob(db: Db, jobId: string): Promise<Job | undefined> {
  const [job] = await db
    .select()
    .from(jobs)
    .where(eq(jobs.jobId, normalizeUint(jobId, 'jobId')))
  return job
}

/**
 * The job a client agent hired under an idempotency key, if any.
 *
 * @example
 * const earlier = await getJobByKey(db, { clientAgentId, idempotencyKey })
 */
export async function getJobByKey(
  db: Db,
  parameters: { clientAgentId: string; idempotencyKey: string },
): Promise<Job | undefined> {
  const [job] = await db
    .select()
    .from(jobs)
    .where(
      and(
        eq(jobs.clientAgentId, parameters.clientAgentId),
        eq(jobs.idempotencyKey, parameters.idempotencyKey),
      ),
    )
  return job
}

export type ListJobsParameters = {
  /** Jobs where this agent is the client or the provider (narrow with `role`). */
  agentId?: string
  role?: 'client' | 'provider'
  status?: JobRecordStatus | JobRecordStatus[]
  /** Only jobs whose deadline is before this instant (to find expired ones). */
  deadlineBefore?: Date
  /** At most this many (all when not given: the runtime's sweeps must see every one). */
  limit?: number
}

/**
 * Jobs newest first.
 *
 * @example
 * const overdue = await listJobs(db, { agentId, role: 'client', status: ['funded', 'submitted'], deadlineBefore: new Date() })
 */
export function listJobs(db: Db, parameters: ListJobsParameters = {}): Promise<Job[]> {
  const { agentId, role, status, deadlineBefore } = parameters
  const statuses = status === undefined ? undefined : Array.isArray(status) ? status : [status]
  return db
    .select()
    .from(jobs)
    .where(
      and(
        agentId
          ? or(
              role !== 'provider' ? eq(jobs.clientAgentId, agentId) : undefined,
              role !== 'client' ? eq(jobs.providerAgentId, agentId) : undefined,
            )
          : undefined,
        statuses ? inArray(jobs.status, statuses) : undefined,
        deadlineBefore ? lt(jobs.deadline, deadlineBefore) : undefined,
      ),
    )
    .orderBy(desc(jobs.createdAt), desc(jobs.jobId))
    .limit(parameters.limit ?? Number.MAX_SAFE_INTEGER)
}

/**
 * A page of the jobs an agent hired for or served, newest first.
 *
 * @example
 * const first = await pageJobs(db, { agentId, limit: 20 })
 * const second = await pageJobs(db, { agentId, limit: 20, cursor: first.next! })
 */
export async function pageJobs(db: Db, parameters: { agentId: string } & PageParameters): Promise<Page<Job>> {
  const limit = pageLimit(parameters.limit)
  const [before] = parameters.cursor ? decodeCursor(parameters.cursor, 'jobs', ['string']) : []
  const rows = await db
    .select()
    .from(jobs)
    .where(
      and(
        or(eq(jobs.clientAgentId, parameters.agentId), eq(jobs.providerAgentId, parameters.agentId)),
        before === undefined
          ? undefined
          : sql`(${jobs.createdAt}, ${jobs.jobId}) < (select j.created_at, j.job_id from ${jobs} j where j.job_id = ${before})`,
      ),
    )
    .orderBy(desc(jobs.createdAt), desc(jobs.jobId))
    .limit(limit + 1)
  return toPage(rows, limit, (last) => encodeCursor('jobs', [last.jobId]))
}

// funded (1) → submitted (2) → completed | rejected | declined | expired (3); a final state stays.
/** Where a status stands: pending, funded, submitted, then every final state alike. */
const statusRank = (status: SQL) =>
  sql`coalesce(array_position(array['pending', 'funded', 'submitted']::text[], ${status}), 4)`

function forwardStatus(next: SQL): SQL {
  return sql`case when ${statusRank(next)} > ${statusRank(sql`${jobs.status}`)} then ${next} else ${jobs.status} end`
}

function normalizeJob<T extends Partial<JobInput>>(job: T): T {
  return {
    ...job,
    jobId: optional(job.jobId, (v) => normalizeUint(v, 'jobId')),
    clientAddress: optional(job.clientAddress, (v) => normalizeAddress(v, 'clientAddress')),
    providerChainAgentId: optional(job.providerChainAgentId, (v) => normalizeUint(v, 'providerChainAgentId')),
    token: optional(job.token, (v) => normalizeAddress(v, 'token')),
    budget: optional(job.budget, (v) => normalizeUint(v, 'budget')),
    evaluator: optional(job.evaluator, (v) => normalizeAddress(v, 'evaluator')),
    fee: optional(job.fee, (v) => normalizeUint(v, 'fee')),
    payout: optional(job.payout, (v) => normalizeUint(v, 'payout')),
  } as T
}
