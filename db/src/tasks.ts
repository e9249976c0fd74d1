import { and, desc, eq, inArray, type SQL, sql } from 'drizzle-orm'
import type { Db } from './create-db.ts'
import { createId } from './create-id.ts'
import { ValidationError } from './errors.ts'
import { decodeCursor, encodeCursor, type Page, type PageParameters, pageLimit, toPage } from './page.ts'
import { agents, type TaskStatus, tasks } from './schema.ts'

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
 * `shard`: only the tasks of the agents that shard serves (a process starting for it).
 *
 * @example
 * await failRunningTasks(db, 'The runtime stopped while the task ran.')
 */
export function failRunningTasks(
  db: Db,
  error: string,
  parameters: { shard?: number } = {},
): Promise<Task[]> {
  const { shard } = parameters
  return db
    .update(tasks)
    .set({ status: 'failed', error, finishedAt: sql`now()` })
    .where(
      and(
        eq(tasks.status, 'running'),
        // Another process's agents' tasks are running there, not interrupted.
        shard === undefined
          ? undefined
          : inArray(tasks.agentId, db.select({ id: agents.id }).from(agents).where(eq(agents.shard, shard))),
      ),
    )
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

export type ListTasksParameters = PageParameters & {
  agentId: string
  /** Only tasks of this status. */
  status?: TaskStatus
}

/**
 * A page of an agent's tasks, newest first.
 *
 * @example
 * const first = await listTasks(db, { agentId, limit: 20 })
 * const second = await listTasks(db, { agentId, limit: 20, cursor: first.next! })
 */
export async function listTasks(db: Db, parameters: ListTasksParameters): Promise<Page<Task>> {
  const limit = pageLimit(parameters.limit)
  const [before] = parameters.cursor ? decodeCursor(parameters.cursor, 'tasks', ['string']) : []
  const conditions: (SQL | undefined)[] = [
    eq(tasks.agentId, parameters.agentId),
    parameters.status ? eq(tasks.status, parameters.status) : undefined,
  ]
  // Ids break ties between tasks created in the same instant, so pages never skip or repeat one.
  if (before !== undefined)
    conditions.push(
      sql`(${tasks.createdAt}, ${tasks.id}) < (select t.created_at, t.id from ${tasks} t where t.id = ${before})`,
    )
  const rows = await db
    .select()
    .from(tasks)
    .where(and(...conditions))
    .orderBy(desc(tasks.createdAt), desc(tasks.id))
    .limit(limit + 1)
  return toPage(rows, limit, (last) => encodeCursor('tasks', [last.id]))
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
