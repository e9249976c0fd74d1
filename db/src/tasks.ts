import { and, desc, eq, type SQL, sql } from 'drizzle-orm'
import type { Db } from './create-db.ts'
import { createId } from './create-id.ts'
import { ValidationError } from './errors.ts'
import { type TaskStatus, tasks } from './schema.ts'

/** A task given to an agent's model: its goal, where it stands and, once finished, its outcome. */
export type Task = typeof tasks.$inferSelect

export type InsertTaskParameters = {
  /** A `task_…` id; a fresh one when omitted. */
  id?: string
  agentId: string
  goal: string
}

/**
 * Records a task as accepted and running.
 *
 * @example
 * const task = await insertTask(db, { agentId, goal: 'Summarise the news' })
 */
export async function insertTask(db: Db, parameters: InsertTaskParameters): Promise<Task> {
  const [task] = await db
    .insert(tasks)
    .values({ id: parameters.id ?? createId('task'), agentId: parameters.agentId, goal: parameters.goal })
    .returning()
  return task!
}

/**
 * Counts the model turns a running task has taken so far (read while it runs); a finished task keeps
 * its final count. Returns the task as it now stands, or undefined when it is unknown.
 *
 * @example
 * await setTaskSteps(db, taskId, 3)
 */
export async function setTaskSteps(db: Db, id: string, steps: number): Promise<Task | undefined> {
  checkSteps(steps)
  const [task] = await db
    .update(tasks)
    .set({ steps })
    .where(and(eq(tasks.id, id), eq(tasks.status, 'running')))
    .returning()
  return task ?? (await getTaskById(db, id))
}

export type FinishTaskParameters =
  | { status: 'succeeded'; answer: string; steps: number }
  | { status: 'failed'; error: string; steps: number }

/**
 * Finishes a running task with its answer or its error. A task finishes once: finishing it again
 * changes nothing and returns undefined, as for an unknown id.
 *
 * @example
 * await finishTask(db, taskId, { status: 'succeeded', answer: 'Done', steps: 2 })
 */
export async function finishTask(
  db: Db,
  id: string,
  parameters: FinishTaskParameters,
): Promise<Task | undefined> {
  checkSteps(parameters.steps)
  const [task] = await db
    .update(tasks)
    .set({
      status: parameters.status,
      answer: parameters.status === 'succeeded' ? parameters.answer : null,
      error: parameters.status === 'failed' ? parameters.error : null,
      steps: parameters.steps,
      finishedAt: sql`now()`,
    })
    .where(and(eq(tasks.id, id), eq(tasks.status, 'running')))
    .returning()
  return task
}

/**
 * Fails every task still running, with `error`: at a start, those a stopped process was running
 * (a task's conversation lives in that process's memory, so it cannot be resumed). Returns them.
 *
 * @example
 * await failRunningTasks(db, 'The runtime stopped while the task ran.')
 */
export function failRunningTasks(db: Db, error: string): Promise<Task[]> {
  return db
    .update(tasks)
    .set({ status: 'failed', error, finishedAt: sql`now()` })
    .where(eq(tasks.status, 'running'))
    .returning()
}

/**
 * One task of one agent: undefined when the agent has no task of that id (another agent's task
 * included).
 *
 * @example
 * const task = await getTask(db, { agentId, id: 'task_…' })
 */
export async function getTask(
  db: Db,
  parameters: { agentId: string; id: string },
): Promise<Task | undefined> {
  const [task] = await db
    .select()
    .from(tasks)
    .where(and(eq(tasks.id, parameters.id), eq(tasks.agentId, parameters.agentId)))
  return task
}

export type ListTasksParameters = {
  agentId: string
  /** Only tasks of this status. */
  status?: TaskStatus
  /** Tasks older than this one (a task id from a previous page): the next page. */
  before?: string
  /** At most this many (default 50, at most 500). */
  limit?: number
}

/**
 * An agent's tasks, newest first, a page at a time.
 *
 * @example
 * const page = await listTasks(db, { agentId, limit: 20 })
 * const next = await listTasks(db, { agentId, limit: 20, before: page.at(-1)?.id })
 */
export function listTasks(db: Db, parameters: ListTasksParameters): Promise<Task[]> {
  const limit = parameters.limit ?? 50
  if (!Number.isInteger(limit) || limit < 1 || limit > 500)
    throw new ValidationError(`limit must be an integer from 1 to 500, got ${limit}.`, {
      code: 'INVALID_INPUT',
    })
  const conditions: (SQL | undefined)[] = [
    eq(tasks.agentId, parameters.agentId),
    parameters.status ? eq(tasks.status, parameters.status) : undefined,
  ]
  // Ids break ties between tasks created in the same instant, so pages never skip or repeat one.
  if (parameters.before !== undefined)
    conditions.push(
      sql`(${tasks.createdAt}, ${tasks.id}) < (select t.created_at, t.id from ${tasks} t where t.id = ${parameters.before})`,
    )
  return db
    .select()
    .from(tasks)
    .where(and(...conditions))
    .orderBy(desc(tasks.createdAt), desc(tasks.id))
    .limit(limit)
}

async function getTaskById(db: Db, id: string): Promise<Task | undefined> {
  const [task] = await db.select().from(tasks).where(eq(tasks.id, id))
  return task
}

function checkSteps(steps: number) {
  if (!Number.isInteger(steps) || steps < 0)
    throw new ValidationError(`steps must be a non-negative integer, got ${steps}.`, {
      code: 'INVALID_INPUT',
    })
}
