import { agentFromJson, agentJsonSchema, agentViewSchema, OwnerSignatureRequiredError } from '@agora/runtime'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { type Address, getAddress } from 'viem'
import type { AppEnv } from '../env.ts'
import { jsonRequest, jsonResponse } from '../openapi.ts'
import { requireOwner } from '../owner.ts'
import { problems } from '../problem.ts'
import {
  agentParams,
  listAgentsQuery,
  nextCursor,
  ownerSignatureBody,
  ownerSignatureRequestSchema,
  updateAgentBody,
} from '../schemas.ts'
import { ownerOnly } from './auth.ts'

const ownedAgentView = agentViewSchema
  .extend({ instructions: z.string().describe("The agent's system prompt (owner only).") })
  .meta({ id: 'OwnedAgent', description: 'An agent as its owner sees it.' })

const routes = {
  launch: createRoute({
    method: 'post',
    path: '/',
    summary:
      "Launch an agent owned by the signed-in address; its offerings are served by its model or its owner's service",
    tags: ['agents'],
    ...ownerOnly,
    request: { body: jsonRequest(agentJsonSchema) },
    description:
      "Counts against the owner's quotas (launches, transactions and gas per day; 429 with Retry-After once used up). A `model.apiKey` is sealed at rest with the master key and never returned or logged; `model.apiKeyEnv` instead names a server environment variable its operator offers (`AGORA_MODEL_KEY_ENVS`).",
    responses: {
      201: jsonResponse(agentViewSchema, 'Launched'),
      ...problems(400, 401, 409, 413, 415, 422, 429),
    },
  }),
  list: createRoute({
    method: 'get',
    path: '/',
    summary: 'List agents, oldest first, a page at a time; `owner` narrows it to one owner',
    tags: ['agents'],
    request: { query: listAgentsQuery },
    responses: {
      200: jsonResponse(z.object({ agents: z.array(agentViewSchema), next: nextCursor }), 'A page of agents'),
      ...problems(400),
    },
  }),
  get: createRoute({
    method: 'get',
    path: '/{id}',
    summary: 'One agent',
    tags: ['agents'],
    request: { params: agentParams },
    responses: { 200: jsonResponse(agentViewSchema, 'The agent'), ...problems(400, 404) },
  }),
  update: createRoute({
    method: 'patch',
    path: '/{id}',
    summary: 'Change what the owner set at launch: model, instructions, offerings, policies (owner only)',
    tags: ['agents'],
    ...ownerOnly,
    description:
      'A policy change of an agent on the agent module (its `guardrails` is `on-chain`) is a Safe transaction of its owners: without `ownerSignature` the answer is 202 with that transaction and nothing changes; the same PATCH again with their signatures writes the policy on chain, then the rest. Each field given replaces the one the agent has; all or nothing (a bad patch changes nothing). `model` replaces the model (`null` removes it); inside it `apiKey` replaces the sealed key, `apiKey: null` removes it, and without `apiKey` the sealed key is kept. `offerings` is the full list: offerings left out are retired, new ones added, changed ones updated; jobs funded before keep the terms they were hired on. Agents defined in TypeScript change only description and instructions (409 `DEFINED_IN_CODE`); a retired agent only those too (409 `AGENT_RETIRED`).',
    request: { params: agentParams, body: jsonRequest(updateAgentBody) },
    responses: {
      200: jsonResponse(ownedAgentView, 'The agent, with its instructions'),
      202: jsonResponse(ownerSignatureRequestSchema, "The owners' Safe transaction to sign first"),
      ...problems(400, 401, 403, 404, 409, 413, 415, 422),
    },
  }),
  moveToModule: createRoute({
    method: 'post',
    path: '/{id}/module',
    summary:
      "Move an agent launched before the agent module onto it, as its owners' Safe transaction (owner only)",
    tags: ['agents'],
    ...ownerOnly,
    description:
      "One Safe transaction of the agent's owners removes the agent's key as an owner, enables the agent module and writes the key and the agent's policy to it. Without `ownerSignature` the answer is 202 with that transaction; the same request with their signatures sends it and answers once it landed. 409 when the agent already acts through the module.",
    request: { params: agentParams, body: jsonRequest(ownerSignatureBody) },
    responses: {
      200: jsonResponse(agentViewSchema, 'The agent, now on the module'),
      202: jsonResponse(ownerSignatureRequestSchema, "The owners' Safe transaction to sign first"),
      ...problems(400, 401, 403, 404, 409, 413, 415, 422),
    },
  }),
}

/** Runs a change that may need the owners' Safe signature first: that request is a 202, not an error. */
async function orSignatureRequest<T>(run: () => Promise<T>) {
  try {
    return { done: await run() }
  } catch (error) {
    if (error instanceof OwnerSignatureRequiredError)
      return { request: error.request as z.infer<typeof ownerSignatureRequestSchema> }
    throw error
  }
}

const statusRoutes = [
  ['pause', 'paused', 'Pause: no payments, hires, tasks or serving until resumed (owner only)'],
  ['resume', 'active', 'Resume a paused agent; a retired one stays retired, 409 (owner only)'],
  ['retire', 'retired', 'Retire for good; its offerings leave the market (owner only)'],
] as const

/** `/agents`: launch (signed in), list and read (public), edit, pause/resume/retire (owner); tasks are in `tasks.ts`. */
export function agentsRouter() {
  const app = new OpenAPIHono<AppEnv>()
  app.openapi(routes.launch, async (c) => {
    const definition = agentFromJson(c.req.valid('json'))
    const handle = await c.var.runtime.launch(definition, {
      owner: getAddress(c.var.session.address) as Address,
    })
    return c.json(await handle.info(), 201)
  })
  app.openapi(routes.list, async (c) => c.json(await c.var.runtime.listAgents(c.req.valid('query')), 200))
  app.openapi(routes.get, async (c) => c.json(await c.var.runtime.getAgent(c.req.valid('param').id), 200))
  app.openapi(routes.update, async (c) => {
    const agent = await requireOwner(c, c.req.valid('param').id)
    const result = await orSignatureRequest(() => c.var.runtime.updateAgent(agent.id, c.req.valid('json')))
    return result.request ? c.json(result.request, 202) : c.json(result.done, 200)
  })
  app.openapi(routes.moveToModule, async (c) => {
    const agent = await requireOwner(c, c.req.valid('param').id)
    const body = c.req.valid('json') as { ownerSignature?: `0x${string}` }
    const result = await orSignatureRequest(() => c.var.runtime.moveToModule(agent.id, body))
    return result.request ? c.json(result.request, 202) : c.json(result.done, 200)
  })
  for (const [action, status, summary] of statusRoutes) {
    const route = createRoute({
      method: 'post',
      path: `/{id}/${action}`,
      summary,
      tags: ['agents'],
      ...ownerOnly,
      request: { params: agentParams },
      responses: { 200: jsonResponse(agentViewSchema, 'The agent'), ...problems(400, 401, 403, 404, 409) },
    })
    app.openapi(route, async (c) => {
      const agent = await requireOwner(c, c.req.valid('param').id)
      return c.json(await c.var.runtime.setAgentStatus(agent.id, { status }), 200)
    })
  }
  return app
}
