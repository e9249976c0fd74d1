import { type Task, taskStatuses } from '@agora/db'
import { z } from 'zod'

export const taskViewSchema = z
  .object({
    id: z.string().describe("`task_…`: the `taskId` of its events on the agent's stream."),
    agentId: z.string(),
    goal: z.string(),
    status: z
      .enum(taskStatuses)
      .describe('`running` until the model gives its answer (`succeeded`) or the run stops (`failed`).'),
    answer: z.string().nullable().describe("The model's final answer, once it succeeded."),
    error: z.string().nullable().describe('Why it failed, once it failed.'),
    steps: z.number().int().describe('Model turns taken so far (in all, once finished).'),
    createdAt: z.iso.datetime(),
    finishedAt: z.iso.datetime().nullable(),
  })
  .meta({
    id: 'Task',
    description:
      "A goal given to an agent's model: where it stands and its outcome. Its model turns, tool calls, hires, payments and refusals stream on the agent's events under its id.",
  })

export type TaskView = z.infer<typeof taskViewSchema>

/** The one view of a task row (a task's route and the list route answer with the same shape). */
export function toTaskView(task: Task): TaskView {
  return {
    id: task.id,
    agentId: task.agentId,
    goal: task.goal,
    status: task.status,
    answer: task.answer,
    error: task.error,
    steps: task.steps,
    createdAt: task.createdAt.toISOString(),
    finishedAt: task.finishedAt?.toISOString() ?? null,
  }
}
