import { failRunningTasks } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'

/** Why a task still running at a start failed: its conversation was in the stopped process's memory. */
export const interruptedTaskError = 'The runtime stopped while the task ran; give the task again.'

/**
 * At a start, fails the tasks an earlier process was running (a task's conversation lives in the
 * process that runs it, so it cannot be resumed), each with a `task failed` event, so no task
 * stays `running` for ever. Money a task had moved is kept in its jobs and payments.
 *
 * @example
 * await failInterruptedTasks(client) // in `start()`, before new tasks are accepted
 */
export async function failInterruptedTasks(
  client: Pick<RuntimeClient, 'db' | 'activity' | 'shard'>,
): Promise<void> {
  const failed = await failRunningTasks(client.db, interruptedTaskError, { shard: client.shard })
  if (failed.length === 0) return
  await client.activity.recordMany(
    failed.map((task) => ({
      agentId: task.agentId,
      kind: 'lifecycle' as const,
      data: { event: 'task failed', taskId: task.id, error: interruptedTaskError, steps: task.steps },
    })),
  )
}
