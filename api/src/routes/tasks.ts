import { taskViewSchema } from '@agora/runtime'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { AppEnv } from '../env.ts'
import { jsonRequest, jsonResponse } from '../openapi.ts'
import { requireOwner } from '../owner.ts'
import { problems } from '../problem.ts'
import { agentParams, nextCursor, pageQuery, taskBody } from '../schemas.ts'
import { ownerOnly } from './auth.ts'

/** `/agents/:id/tasks/:taskId`. */
const taskParams = agentParams.extend({
  taskId: z
    .string()
    .max(100)
    .openapi({ param: { name: 'taskId', in: 'path' }, example: 'task_3f2a…' }),
})

const listTasksQuery = z.strictObject({
  ...pageQuery,
  status: z.enum(taskViewSchema.shape.status.options).optional(),
})

const streamNote =
  "Each model turn (`model`), tool call (`tool`), hire (`job`, `hired for task`), payment (`payment`, `paid for task`) and refusal (`tool` with `refused: true`, beside the guard's `guardrail` entry) streams on `GET /agents/{id}/events` with the task's `taskId`, between `task accepted` and `task succeeded` or `task failed`. Model turns, tool calls and goals are the owner's only."

const routes = {
  start: createRoute({
    method: 'post',
    path: '/{id}/tasks',
    summary: "Start a task for the agent's model, in the background (owner only)",
    description: `Answers at once with the task id; follow it at the \`Location\` (\`GET /agents/{id}/tasks/{taskId}\`) and live on the agent's events. ${streamNote} The model is the one the agent has in this process (422 \`NO_MODEL\` without one); a paused or retired agent takes no tasks (409).`,
    tags: ['tasks'],
    ...ownerOnly,
    request: { params: agentParams, body: jsonRequest(taskBody) },
    responses: {
      202: {
        ...jsonResponse(z.object({ taskId: z.string() }), 'Accepted; running in the background'),
        headers: z.object({ location: z.string().describe('Where to follow the task.') }),
      },
      ...problems(400, 401, 403, 404, 409, 415, 422),
    },
  }),
  get: createRoute({
    method: 'get',
    path: '/{id}/tasks/{taskId}',
    summary: 'One task: its state, the steps taken so far, and its answer or error (owner only)',
    description: `Another agent's task id is a 404. ${streamNote}`,
    tags: ['tasks'],
    ...ownerOnly,
    request: { params: taskParams },
    responses: { 200: jsonResponse(taskViewSchema, 'The task'), ...problems(400, 401, 403, 404) },
  }),
  list: createRoute({
    method: 'get',
    path: '/{id}/tasks',
    summary: "The agent's tasks, newest first, a page at a time (owner only)",
    tags: ['tasks'],
    ...ownerOnly,
    request: { params: agentParams, query: listTasksQuery },
    responses: {
      200: jsonResponse(z.object({ tasks: z.array(taskViewSchema), next: nextCursor }), 'A page of tasks'),
      ...problems(400, 401, 403, 404),
    },
  }),
}

/** `/agents/:id/tasks`: start a task, read one, list them (the agent's owner only). */
export function tasksRouter() {
  const app = new OpenAPIHono<AppEnv>()
  app.openapi(routes.start, async (c) => {
    const agent = await requireOwner(c, c.req.valid('param').id)
    const { taskId } = await c.var.runtime.startTask(agent.id, c.req.valid('json'))
    c.header('location', `/agents/${agent.id}/tasks/${taskId}`)
    return c.json({ taskId }, 202)
  })
  app.openapi(routes.get, async (c) => {
    const { id, taskId } = c.req.valid('param')
    const agent = await requireOwner(c, id)
    const viewer = c.var.session.address
    return c.json(await c.var.runtime.getTask(agent.id, taskId, { viewer }), 200)
  })
  app.openapi(routes.list, async (c) => {
    const agent = await requireOwner(c, c.req.valid('param').id)
    const viewer = c.var.session.address
    return c.json(await c.var.runtime.listTasks(agent.id, { ...c.req.valid('query'), viewer }), 200)
  })
  return app
}
