import { listAgents } from '@agora/db'
import { defineAgent, type Offering, type Runtime } from '@agora/runtime'
import { Hono } from 'hono'
import { type Address, getAddress } from 'viem'
import { z } from 'zod'
import { hireBody, launchBody, listAgentsQuery, payBody } from './agent-input.ts'
import { agentView } from './agent-view.ts'
import { requireAuth } from './auth.ts'
import type { AppEnv } from './env.ts'
import { agentEvents } from './events.ts'
import { jobView, paymentView } from './job-view.ts'
import { ownedAgent, requireActive } from './owned-agent.ts'
import { HttpProblem, json, readJson, validate } from './problem.ts'

/**
 * Agents launched over HTTP sell echo offerings: a handler is code, and code does not travel in a
 * JSON body. Agents with real handlers are defined in TypeScript (`defineAgent`) and given to the
 * runtime at start; the API still lists, funds and hires them like any other.
 */
const echo = (input: unknown) => ({ received: input })

function offeringOf(o: NonNullable<z.output<typeof launchBody>['offerings']>[number]): Offering {
  // The JSON Schema given is published through the schema's metadata; `id` would register it globally.
  const { id: _id, ...schema } = o.input ?? {}
  return {
    name: o.name,
    description: o.description,
    price: o.price,
    token: o.token,
    capabilities: o.capabilities,
    input: o.input ? z.unknown().meta(schema) : z.unknown(),
    handler: echo,
  }
}

/**
 * Gives agents launched over HTTP by an earlier process their echo handlers again, so they keep
 * serving after a restart. Only for a runtime that hosts no agents defined in code: any agent
 * without a registered definition is taken to be one launched over HTTP.
 *
 * @example
 * const { runtime } = await startEmbeddedRuntime({ dataDir })
 * await restoreEchoAgents(runtime)
 */
export async function restoreEchoAgents(runtime: Runtime): Promise<number> {
  let restored = 0
  for (const agent of await runtime.agents()) {
    if (runtime.context.definitions.has(agent.name)) continue
    const stored = agent.definition as {
      offerings?: {
        name: string
        description: string
        price: string
        token: string
        capabilities?: string[]
      }[]
      policy?: Parameters<typeof defineAgent>[0]['policy']
    }
    runtime.register(
      defineAgent({
        name: agent.name,
        description: agent.description,
        instructions: agent.instructions,
        offerings: (stored.offerings ?? []).map((o) => ({ ...o, input: z.unknown(), handler: echo })),
        policy: stored.policy,
      }),
    )
    restored++
  }
  return restored
}

/**
 * `/agents`: launch (signed in), list and read (public), pay and hire (owner only), balances,
 * reputation, jobs, payments, events. Managing an agent is in `agent-control.ts`.
 */
export function agentsRouter() {
  return new Hono<AppEnv>()
    .post('/', requireAuth, async (c) => {
      const body = await readJson(c, launchBody)
      const runtime = c.var.runtime
      // Offering handlers are found by agent name, so a name must stay with one agent.
      const taken =
        runtime.context.definitions.has(body.name) ||
        (await listAgents(runtime.context.db)).some((a) => a.name === body.name)
      if (taken) throw new HttpProblem(409, 'CONFLICT', `An agent named "${body.name}" exists already.`)
      // The runtime reads the policy's token only when money moves; an unknown one is refused now.
      if (body.policy?.token) await runtime.context.tokens.resolve(body.policy.token)
      const definition = defineAgent({
        name: body.name,
        description: body.description,
        instructions: body.instructions,
        offerings: (body.offerings ?? []).map(offeringOf),
        policy: body.policy,
      })
      const handle = await runtime.launch(definition, { owner: getAddress(c.var.session.address) as Address })
      const agent = await handle.info()
      return json(
        c,
        {
          id: agent.id,
          chainAgentId: agent.chainAgentId,
          tokenBoundAccount: agent.accountAddress,
          safe: agent.safeAddress,
        },
        201,
      )
    })
    .get('/', async (c) => {
      const query = validate(listAgentsQuery, c.req.query(), 'query')
      const agents = await c.var.runtime.agents(query.owner)
      return json(c, { agents: agents.map(agentView) })
    })
    .get('/:id', async (c) => json(c, agentView(await c.var.runtime.agent(c.req.param('id')).info())))
    .post('/:id/pay', requireAuth, async (c) => {
      const agent = await ownedAgent(c)
      const body = await readJson(c, payBody)
      requireActive(agent, 'pay')
      const payment = await c.var.runtime.agent(agent.id).pay(body)
      return json(c, payment)
    })
    .post('/:id/hire', requireAuth, async (c) => {
      const agent = await ownedAgent(c)
      const body = await readJson(c, hireBody)
      requireActive(agent, 'hire')
      const job = await c.var.runtime.agent(agent.id).hire(body as typeof body & { evaluator?: Address })
      return json(c, { jobId: job.jobId, job: await job.get() }, 202)
    })
    .get('/:id/balances', async (c) => {
      const balances = await c.var.runtime.agent(c.req.param('id')).balances()
      return json(c, { balances })
    })
    .get('/:id/reputation', async (c) => {
      const agent = await c.var.runtime.agent(c.req.param('id')).info()
      if (!agent.chainAgentId) {
        throw new HttpProblem(409, 'CONFLICT', `Agent "${agent.id}" has no on-chain identity yet.`)
      }
      return json(c, {
        chainAgentId: agent.chainAgentId,
        ...(await c.var.runtime.reputation(agent.chainAgentId)),
      })
    })
    .get('/:id/jobs', async (c) => {
      const handle = c.var.runtime.agent(c.req.param('id'))
      await handle.info()
      return json(c, { jobs: (await handle.jobs()).map(jobView) })
    })
    .get('/:id/payments', async (c) => {
      const handle = c.var.runtime.agent(c.req.param('id'))
      await handle.info()
      return json(c, { payments: (await handle.payments()).map(paymentView) })
    })
    .get('/:id/events', agentEvents)
}
