import {
  jobViewSchema,
  moneySchema,
  paymentViewSchema,
  reputationViewSchema,
  withdrawalViewSchema,
} from '@agora/runtime'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import type { Address } from 'viem'
import type { AppEnv } from '../env.ts'
import { jsonRequest, jsonResponse } from '../openapi.ts'
import { requireOwner } from '../owner.ts'
import { HttpError, problems } from '../problem.ts'
import {
  agentParams,
  hireBody,
  idempotencyKey,
  nextCursor,
  pageQuery,
  payBody,
  paymentParams,
  withdrawBody,
} from '../schemas.ts'
import { ownerOnly, signedInOrNot, viewerOf } from './auth.ts'

/** The `Idempotency-Key` header, accepted by pay, hire and withdraw as well as the body's `idempotencyKey`. */
const keyHeader = z.object({ 'idempotency-key': idempotencyKey.optional() })

/** Where a request that may still happen is followed: documented on its 202. */
const location = z.object({
  location: z.string().describe('Where to follow it (GET) until it lands.'),
})

/** The key of a request: the header's or the body's (both may be given, if they agree). */
function keyOf(c: Context, body: { idempotencyKey?: string } | undefined): string | undefined {
  const header = c.req.header('idempotency-key')
  const inBody = body?.idempotencyKey
  if (header !== undefined && inBody !== undefined && header !== inBody)
    throw new HttpError('INVALID_REQUEST', 'The Idempotency-Key header and the body name different keys.', [
      { path: 'idempotencyKey', message: 'must match the Idempotency-Key header' },
    ])
  return header ?? inBody
}

const routes = {
  pay: createRoute({
    method: 'post',
    path: '/{id}/pay',
    summary: "Pay another agent from this agent's Safe (owner only)",
    description:
      'Idempotent by key (`Idempotency-Key` header or `idempotencyKey`): a retry answers with the same payment; the same key for another payment is a 409. A payment recorded while the chain does not answer is 202, pending, with a `Location` to follow: it is sent later, never twice, and never answered as failed.',
    tags: ['money'],
    ...ownerOnly,
    request: { params: agentParams, headers: keyHeader, body: jsonRequest(payBody) },
    responses: {
      200: jsonResponse(paymentViewSchema, 'Paid'),
      202: {
        ...jsonResponse(paymentViewSchema, 'Recorded and on its way: follow the Location'),
        headers: location,
      },
      ...problems(400, 401, 403, 404, 409, 422, 429, 502, 503),
    },
  }),
  payment: createRoute({
    method: 'get',
    path: '/{id}/payments/{paymentId}',
    summary: 'One payment the agent made: where a pending payment is followed until it lands',
    tags: ['money'],
    ...signedInOrNot,
    request: { params: paymentParams },
    responses: { 200: jsonResponse(paymentViewSchema, 'The payment'), ...problems(400, 401, 404) },
  }),
  hire: createRoute({
    method: 'post',
    path: '/{id}/hire',
    summary: 'Hire another agent: create and fund an escrowed job (owner only)',
    description:
      'Idempotent by key (`Idempotency-Key` header or `idempotencyKey`); the same key for another hire is a 409. The job is `funded`, or `pending` when the chain does not answer (it is sent later); follow it at the `Location`.',
    tags: ['money'],
    ...ownerOnly,
    request: { params: agentParams, headers: keyHeader, body: jsonRequest(hireBody) },
    responses: {
      202: {
        ...jsonResponse(jobViewSchema, 'Funded (or recorded, pending); the provider works on it'),
        headers: location,
      },
      ...problems(400, 401, 403, 404, 409, 422, 429, 502, 503),
    },
  }),
  withdraw: createRoute({
    method: 'post',
    path: '/{id}/withdraw',
    summary: "Send tokens from the agent's Safe to its owner or another address (owner only)",
    description:
      'Idempotent by key (`Idempotency-Key` header or `idempotencyKey`); the same key for another withdrawal is a 409. Recorded while the chain does not answer: 202, pending; it is sent later, and a retry with the key answers with where it stands.',
    tags: ['money'],
    ...ownerOnly,
    request: {
      params: agentParams,
      headers: keyHeader,
      body: { ...jsonRequest(withdrawBody), required: false },
    },
    responses: {
      200: jsonResponse(withdrawalViewSchema, 'Sent'),
      202: jsonResponse(withdrawalViewSchema, 'Recorded and on its way'),
      ...problems(400, 401, 403, 404, 409, 429, 502, 503),
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
    summary: 'Jobs the agent hired for or served, newest first, with status and transactions',
    description:
      "Inputs and deliverables are shown to the job's parties only (the client's owner, the provider's owner, the evaluator), signed in; to anyone else they are null.",
    tags: ['money'],
    ...signedInOrNot,
    request: { params: agentParams, query: z.strictObject(pageQuery) },
    responses: {
      200: jsonResponse(z.object({ jobs: z.array(jobViewSchema), next: nextCursor }), 'A page of jobs'),
      ...problems(400, 401, 404),
    },
  }),
  payments: createRoute({
    method: 'get',
    path: '/{id}/payments',
    summary: "The agent's outgoing payments, newest first (the same view as a payment's answer)",
    description:
      "Memos are shown to the payer's and the payee's owners only, signed in; to anyone else they are null.",
    tags: ['money'],
    ...signedInOrNot,
    request: { params: agentParams, query: z.strictObject(pageQuery) },
    responses: {
      200: jsonResponse(
        z.object({ payments: z.array(paymentViewSchema), next: nextCursor }),
        'A page of payments',
      ),
      ...problems(400, 401, 404),
    },
  }),
}

/** `/agents/:id/…`: pay, hire and withdraw (owner only); balances, reputation, jobs, payments (public, private parts for their parties). */
export function moneyRouter() {
  const app = new OpenAPIHono<AppEnv>()
  app.openapi(routes.pay, async (c) => {
    const agent = await requireOwner(c, c.req.valid('param').id)
    const body = c.req.valid('json')
    const payment = await c.var.runtime.pay(agent.id, { ...body, idempotencyKey: keyOf(c, body) })
    if (payment.status === 'confirmed') return c.json(payment, 200)
    // Recorded, not failed: it is sent later (never twice); the client follows it there.
    c.header('location', `/agents/${agent.id}/payments/${payment.id}`)
    return c.json(payment, 202)
  })
  app.openapi(routes.payment, async (c) => {
    const { id, paymentId } = c.req.valid('param')
    return c.json(await c.var.runtime.getPayment(id, paymentId, { viewer: viewerOf(c) }), 200)
  })
  app.openapi(routes.hire, async (c) => {
    const agent = await requireOwner(c, c.req.valid('param').id)
    const body = c.req.valid('json')
    const job = await c.var.runtime.hire(agent.id, {
      ...body,
      evaluator: body.evaluator as Address | undefined,
      idempotencyKey: keyOf(c, body),
    })
    c.header('location', `/jobs/${job.jobId}`)
    return c.json(job, 202)
  })
  app.openapi(routes.withdraw, async (c) => {
    const agent = await requireOwner(c, c.req.valid('param').id)
    const body = c.req.valid('json') ?? {}
    const withdrawal = await c.var.runtime.withdraw(agent.id, {
      ...body,
      to: body.to as Address | undefined,
      idempotencyKey: keyOf(c, body),
    })
    return c.json(withdrawal, withdrawal.status === 'confirmed' ? 200 : 202)
  })
  app.openapi(routes.balances, async (c) =>
    c.json({ balances: await c.var.runtime.getBalances(c.req.valid('param').id) }, 200),
  )
  app.openapi(routes.reputation, async (c) =>
    c.json(await c.var.runtime.getReputation(c.req.valid('param').id), 200),
  )
  app.openapi(routes.jobs, async (c) =>
    c.json(
      await c.var.runtime.listJobs(c.req.valid('param').id, { ...c.req.valid('query'), viewer: viewerOf(c) }),
      200,
    ),
  )
  app.openapi(routes.payments, async (c) =>
    c.json(
      await c.var.runtime.listPayments(c.req.valid('param').id, {
        ...c.req.valid('query'),
        viewer: viewerOf(c),
      }),
      200,
    ),
  )
  return app
}
