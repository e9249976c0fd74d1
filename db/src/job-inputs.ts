import { eq, lt } from 'drizzle-orm'
import type { Db } from './create-db.ts'
import { normalizeAddress, normalizeUint } from './normalize.ts'
import { type HandedInput, jobInputs } from './schema.ts'

export type SaveJobInputParameters = Omit<HandedInput, 'createdAt'>

/**
 * Keeps a job's input handed over before the job is funded; the first one per job stays (a job id
 * commits to its spec hash, so a second hand-over for the same job can only be the same input).
 *
 * @example
 * await saveJobInput(db, { jobId, clientAddress, providerChainAgentId: '7', offering, input, nonce, specHash })
 */
export async function saveJobInput(db: Db, parameters: SaveJobInputParameters): Promise<HandedInput> {
  const row = {
    ...parameters,
    jobId: normalizeUint(parameters.jobId, 'jobId'),
    clientAddress: normalizeAddress(parameters.clientAddress, 'clientAddress'),
    providerChainAgentId: normalizeUint(parameters.providerChainAgentId, 'providerChainAgentId'),
  }
  const [inserted] = await db.insert(jobInputs).values(row).onConflictDoNothing().returning()
  return inserted ?? (await getJobInput(db, row.jobId))!
}

/** @example const handed = await getJobInput(db, jobId) */
export async function getJobInput(db: Db, jobId: string): Promise<HandedInput | undefined> {
  const [row] = await db.select().from(jobInputs).where(eq(jobInputs.jobId, jobId))
  return row
}

/** Forgets inputs of jobs never funded, handed over before `before`. Returns how many. */
export async function deleteJobInputsBefore(db: Db, before: Date): Promise<number> {
  const rows = await db
    .delete(jobInputs)
    .where(lt(jobInputs.createdAt, before))
    .returning({ jobId: jobInputs.jobId })
  return rows.length
}
