import {
  jobViewSchema,
  moneySchema,
  paymentViewSchema,
  reputationViewSchema,
  withdrawalViewSchema,
} from '@agora/runtime'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Address } from 'viem'
import type { AppEnv } from '../env.ts'
import { jsonRequest, jsonResponse } from '../openapi.ts'
import { requireOwner } from '../owner.ts'
import { problems } from '../problem.ts'
import { agentParams, hireBody, payBody, withdrawBody } from '../schemas.ts'
import { ownerOnly } from './auth.ts'

const routes = {
  pay: createRoute({
    method: 'post',
    path: '/{id}/pay',
    summary: "Pay another agent from this agent's Safe (owner only)",
    tags: ['money'],
    ...ownerOnly,
    request: { params: agentParams, body: jsonRequest(payBody) },
    responses: {
      200: jsonResponse(paymentViewSchema, 'Paid'),
      ...problems(400, 401, 403, 404, 409, 422, 502, 503),
    },
  }),
  hire: createRoute({
    method: 'post',
    path: '/{id}/hire',
    summary: 'Hire another agent: create and fund an escrowed job (owner only)',
    tags: ['money'],
    ...ownerOnly,
    request: { params: agentParams, body: jsonRequest(hireBody) },
    responses: {
      202: jsonResponse(jobViewSchema, 'Funded; the provider works on it'),
      ...problems(400, 401, 403, 404, 409, 422, 502, 503),
    },
  }),
  withdraw: createRoute({
    method: 'post',
    path: '/{id}/withdraw',
    summary: "Send tokens from the agent's Safe to its owner or another address (owner only)",
    tags: ['money'],
    ...ownerOnly,
    request: { params: agentParams, body: { ...jsonRequest(withdrawBody), required: false } },
    responses: {
      200: jsonResponse(withdrawalViewSchema, 'Sent'),
      ...problems(400, 401, 403, 404, 409, 502, 503),
    },
  }),
  balances: createRoute({
    method: 'get',
    path: '/{id}/balances',
    summary: "What the agent's Safe holds of ETH and dUSD",
    tags: ['money'],
    request: { params: agentParams },
    responses: {
      200: jsonResponse(z.object({ balances: z.array(moneySchema) }), 'Balances'),
      ...problems(400, 404),
    },
  }),
  reputation: createRoute({
    method: 'get',
    path: '/{id}/reputation',
    summary: "The agent's on-chain reputation as a provider",
    tags: ['money'],
    request: { params: agentParams },
    responses: { 200: jsonResponse(reputationViewSchema, 'Reputation'), ...problems(400, 404, 409) },
  }),
  jobs: createRoute({
    method: 'get',
    path: '/{id}/jobs',
    summary: 'Jobs the agent hired for or served, newest first, with status, deliverable and transactions',
    tags: ['money'],
    request: { params: agentParams },
    responses: {
      200: jsonResponse(z.object({ jobs: z.array(jobViewSchema) }), 'Jobs'),
      ...problems(400, 404),
    },
  }),
  payments: createRoute({
    method: 'get',
    path: '/{id}/payments',
    summary: "The agent's outgoing payments, newest first (the same view as a payment's answer)",
    tags: ['money'],
    request: { params: agentParams },
    responses: {
      200: jsonResponse(z.object({ payments: z.array(paymentViewSchema) }), 'Payments'),
      ...problems(400, 404),
    },
  }),
}

/** `/agents/:id/…`: pay, hire and withdraw (owner only); balances, reputation, jobs, payments (public). */
export function moneyRouter() {
  const app = new OpenAPIHono<AppEnv>()
  app.openapi(routes.pay, async (c) => {
    const agent = await requireOwner(c, c.req.valid('param').id)
    return c.json(await c.var.runtime.pay(agent.id, c.req.valid('json')), 200)
  })
  app.openapi(routes.hire, async (c) => {
    const agent = await requireOwner(c, c.req.valid('param').id)
    const body = c.req.valid('json')
    return c.json(
      await c.var.runtime.hire(agent.id, { ...body, evaluator: body.evaluator as Address | undefined }),
      202,
    )
  })
  app.openapi(routes.withdraw, async (c) => {
    const agent = await requireOwner(c, c.req.valid('param').id)
    const body = c.req.valid('json') ?? {}
    return c.json(
      await c.var.runtime.withdraw(agent.id, { ...body, to: body.to as Address | undefined }),
      200,
    )
  })
  app.openapi(routes.balances, async (c) =>
    c.json({ balances: await c.var.runtime.getBalances(c.req.valid('param').id) }, 200),
  )
  app.openapi(routes.reputation, async (c) =>
    c.json(await c.var.runtime.getReputation(c.req.valid('param').id), 200),
  )
  app.openapi(routes.jobs, async (c) =>
    c.json({ jobs: await c.var.runtime.listJobs(c.req.valid('param').id) }, 200),
  )
  app.openapi(routes.payments, async (c) =>
    c.json({ payments: await c.var.runtime.listPayments(c.req.valid('param').id) }, 200),
  )
  return app
}
