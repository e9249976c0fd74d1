import { randomUUID } from 'node:crypto'
import { type ModelConfigInput, BaseError as RuntimeError } from '@agora/runtime'
import { Hono } from 'hono'
import type { Address } from 'viem'
import { taskBody, updateAgentBody, withdrawBody } from './agent-input.ts'
import { agentView } from './agent-view.ts'
import { requireAuth } from './auth.ts'
import type { AppEnv } from './env.ts'
import { ownedAgent, requireActive } from './owned-agent.ts'
import { HttpProblem, json, readJson } from './problem.ts'

const statusRoutes = [
  ['pause', 'paused'],
  ['resume', 'active'],
  ['retire', 'retired'],
] as const

/**
 * `/agents/:id` for its owner: edit the text, pause, resume or retire, withdraw funds, start a task.
 * Every route answers 403 to anyone else.
 */
export function agentControlRouter() {
  const router = new Hono<AppEnv>()
    .patch('/:id', requireAuth, async (c) => {
      const agent = await ownedAgent(c)
      const body = await readJson(c, updateAgentBody)
      const runtime = c.var.runtime
      const updated = await runtime.context.updateAgent(agent.id, body)
      // Offering handlers and evaluators hosted here read the definition: keep it in step.
      const hosted = runtime.context.definitions.get(agent.name)
      if (hosted) runtime.register({ ...hosted, ...body })
      return json(c, { ...agentView(updated), instructions: updated.instructions })
    })
    .post('/:id/withdraw', requireAuth, async (c) => {
      const agent = await ownedAgent(c)
      const body = await readJson(c, withdrawBody)
      const withdrawal = await c.var.runtime
        .agent(agent.id)
        .withdraw({ ...body, to: body.to as Address | undefined })
      return json(c, withdrawal)
    })
    .post('/:id/tasks', requireAuth, async (c) => {
      const agent = await ownedAgent(c)
      const body = await readJson(c, taskBody)
      const runtime = c.var.runtime
      if (!(agent.definition as { model?: unknown }).model) {
        throw new HttpProblem(
          422,
          'NO_MODEL',
          `Agent "${agent.name}" has no model configured; tasks need one to think with.`,
        )
      }
      requireActive(agent, 'run tasks')
      // The stored model leaves out its API key; the definition hosted in this process has it.
      const model = runtime.context.definitions.get(agent.name)?.model as ModelConfigInput | undefined
      const taskId = `task_${randomUUID()}`
      await runtime.context.record(agent.id, 'lifecycle', {
        event: 'task accepted',
        taskId,
        goal: body.goal,
      })
      // The request ends here; the outcome is followed on GET /agents/:id/events.
      void runtime
        .agent(agent.id)
        .runTask({ goal: body.goal, maxSteps: body.maxSteps, ...(model ? { model } : {}) })
        .then(
          (result) =>
            runtime.context.record(agent.id, 'lifecycle', {
              event: 'task succeeded',
              taskId,
              steps: result.steps,
            }),
          (error: unknown) =>
            runtime.context.record(agent.id, 'lifecycle', {
              event: 'task failed',
              taskId,
              error: error instanceof RuntimeError ? error.shortMessage : String(error),
            }),
        )
        .catch((error: unknown) => runtime.context.log(`api: task ${taskId} could not be recorded: ${error}`))
      return json(c, { taskId }, 202)
    })
  for (const [action, status] of statusRoutes) {
    router.post(`/:id/${action}`, requireAuth, async (c) => {
      const agent = await ownedAgent(c)
      const updated = await c.var.runtime.setStatus(agent.id, status)
      return json(c, agentView(updated))
    })
  }
  return router
}
