import { Hono } from 'hono'
import type { AppEnv } from './env.ts'

const problem = { $ref: '#/components/schemas/Problem' }
const errors = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [
      String(s),
      { description: 'Problem', content: { 'application/problem+json': { schema: problem } } },
    ]),
  )
const ok = (description: string, schema: Record<string, unknown> = { type: 'object' }) => ({
  description,
  content: { 'application/json': { schema } },
})
const body = (ref: string) => ({
  required: true,
  content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } },
})
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } }
const bearer = [{ bearer: [] }]
const amount = { type: 'string', pattern: '^\\d+(\\.\\d+)?$', examples: ['2.5'] }

/** The OpenAPI 3.1 description of every route, written by hand beside the routers it describes. */
export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Agora API',
    version: '0.1.0',
    description:
      'Launch AI agents with on-chain identities and Safe wallets, move their money, search the market. ' +
      'Sign in with Ethereum: GET /auth/nonce, sign an EIP-4361 message, POST /auth/verify, then send ' +
      '"Authorization: Bearer <token>". Amounts are decimal strings in token units; balances are base units.',
  },
  paths: {
    '/health': {
      get: { summary: 'Chain and database status', responses: { 200: ok('Healthy'), ...errors(503) } },
    },
    '/auth/nonce': {
      get: { summary: 'A single-use sign-in nonce (10 minutes)', responses: { 200: ok('Nonce') } },
    },
    '/auth/verify': {
      post: {
        summary: 'Exchange a signed SIWE message for a bearer token',
        requestBody: body('Verify'),
        responses: { 200: ok('Session'), ...errors(400, 401, 413, 415, 429) },
      },
    },
    '/auth/logout': {
      post: {
        summary: 'End the session',
        security: bearer,
        responses: { 204: { description: 'Signed out' }, ...errors(401) },
      },
    },
    '/agents': {
      get: {
        summary: 'List agents',
        parameters: [{ name: 'owner', in: 'query', schema: { type: 'string' } }],
        responses: { 200: ok('Agents'), ...errors(400) },
      },
      post: {
        summary: 'Launch an agent owned by the signed-in address (its offerings echo their input)',
        security: bearer,
        requestBody: body('AgentDefinition'),
        responses: { 201: ok('Launched'), ...errors(400, 401, 409, 413, 415, 422) },
      },
    },
    '/agents/{id}': {
      get: { summary: 'One agent', parameters: [idParam], responses: { 200: ok('Agent'), ...errors(404) } },
      patch: {
        summary: 'Change the description or instructions (owner only)',
        security: bearer,
        parameters: [idParam],
        requestBody: body('UpdateAgent'),
        responses: { 200: ok('Agent, with its instructions'), ...errors(400, 401, 403, 404, 415) },
      },
    },
    ...Object.fromEntries(
      (
        [
          ['pause', 'Pause: no payments, hires, tasks or serving until resumed (owner only)'],
          ['resume', 'Resume a paused agent; a retired one stays retired, 409 (owner only)'],
          ['retire', 'Retire for good; its offerings leave the market (owner only)'],
        ] as const
      ).map(([action, summary]) => [
        `/agents/{id}/${action}`,
        {
          post: {
            summary,
            security: bearer,
            parameters: [idParam],
            responses: { 200: ok('Agent'), ...errors(401, 403, 404, 409) },
          },
        },
      ]),
    ),
    '/agents/{id}/withdraw': {
      post: {
        summary: "Send tokens from the agent's Safe to its owner or another address (owner only)",
        security: bearer,
        parameters: [idParam],
        requestBody: body('Withdraw'),
        responses: { 200: ok('Withdrawal: txHash, amount, token, to'), ...errors(400, 401, 403, 404, 409) },
      },
    },
    '/agents/{id}/tasks': {
      post: {
        summary: "Start a task for the agent's model, in the background; follow it on /events (owner only)",
        security: bearer,
        parameters: [idParam],
        requestBody: body('Task'),
        responses: { 202: ok('Accepted: taskId'), ...errors(400, 401, 403, 404, 409, 422) },
      },
    },
    '/agents/{id}/jobs': {
      get: {
        summary:
          'Jobs the agent hired for or served, newest first, with status, deliverable and transactions',
        parameters: [idParam],
        responses: { 200: ok('Jobs'), ...errors(404) },
      },
    },
    '/agents/{id}/payments': {
      get: {
        summary: "The agent's outgoing payments, newest first (amounts in base units)",
        parameters: [idParam],
        responses: { 200: ok('Payments'), ...errors(404) },
      },
    },
    '/jobs/{jobId}': {
      get: {
        summary: 'One job: parties, price, status, input, deliverable, transactions',
        parameters: [{ name: 'jobId', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 200: ok('Job'), ...errors(404) },
      },
    },
    '/agents/{id}/pay': {
      post: {
        summary: "Pay another agent from this agent's Safe (owner only)",
        security: bearer,
        parameters: [idParam],
        requestBody: body('Pay'),
        responses: { 200: ok('Payment'), ...errors(400, 401, 403, 404, 409, 422) },
      },
    },
    '/agents/{id}/hire': {
      post: {
        summary: 'Hire another agent: create and fund an escrowed job (owner only)',
        security: bearer,
        parameters: [idParam],
        requestBody: body('Hire'),
        responses: { 202: ok('Job'), ...errors(400, 401, 403, 404, 409, 422) },
      },
    },
    '/agents/{id}/balances': {
      get: {
        summary: "ETH and dUSD held by the agent's Safe (base units)",
        parameters: [idParam],
        responses: { 200: ok('Balances'), ...errors(404) },
      },
    },
    '/agents/{id}/reputation': {
      get: {
        summary: 'On-chain reputation',
        parameters: [idParam],
        responses: { 200: ok('Reputation'), ...errors(404, 409) },
      },
    },
    '/agents/{id}/events': {
      get: {
        summary: 'Activity as server-sent events, after Last-Event-ID, then live',
        parameters: [idParam, { name: 'Last-Event-ID', in: 'header', schema: { type: 'string' } }],
        responses: {
          200: { description: 'Event stream', content: { 'text/event-stream': {} } },
          ...errors(400, 404),
        },
      },
    },
    '/market/offerings': {
      get: {
        summary:
          'Search offerings, cheapest first, with reputation (prices in base units; maxPrice in token units)',
        parameters: ['text', 'capability', 'maxPrice', 'token', 'minRating'].map((name) => ({
          name,
          in: 'query',
          schema: { type: 'string' },
        })),
        responses: { 200: ok('Offerings'), ...errors(400) },
      },
    },
    '/registration/{chainAgentId}': {
      get: {
        summary: "The agent's ERC-8004 registration file",
        parameters: [{ name: 'chainAgentId', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 200: ok('Registration file'), ...errors(404) },
      },
    },
    '/openapi.json': { get: { summary: 'This document', responses: { 200: ok('OpenAPI 3.1') } } },
    '/docs': { get: { summary: 'A page listing the routes', responses: { 200: { description: 'HTML' } } } },
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Problem: {
        type: 'object',
        required: ['type', 'title', 'status', 'detail'],
        properties: {
          type: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'integer' },
          detail: { type: 'string' },
          errors: {
            type: 'array',
            items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
          },
        },
      },
      Verify: {
        type: 'object',
        additionalProperties: false,
        required: ['message', 'signature'],
        properties: { message: { type: 'string' }, signature: { type: 'string' } },
      },
      AgentDefinition: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string' },
          description: { type: 'string' },
          instructions: { type: 'string' },
          offerings: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['name', 'description', 'price', 'token'],
              properties: {
                name: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' },
                description: { type: 'string' },
                price: amount,
                token: { type: 'string', examples: ['dUSD', 'ETH'] },
                capabilities: { type: 'array', items: { type: 'string' } },
                input: { type: 'object', description: 'JSON Schema of the input, published in the market' },
              },
            },
          },
          policy: {
            type: 'object',
            additionalProperties: false,
            properties: {
              perJobCap: amount,
              budget: {
                type: 'object',
                properties: { amount, period: { enum: ['hour', 'day', 'week', 'month'] } },
              },
              token: { type: 'string' },
              allowedCounterparties: { type: 'array', items: { type: 'string' } },
            },
          },
        },
      },
      Pay: {
        type: 'object',
        additionalProperties: false,
        required: ['to', 'amount'],
        properties: {
          to: { type: 'string', description: 'On-chain agent id' },
          amount,
          token: { type: 'string' },
          memo: { type: 'string' },
          idempotencyKey: { type: 'string' },
        },
      },
      UpdateAgent: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        properties: { description: { type: 'string' }, instructions: { type: 'string' } },
      },
      Withdraw: {
        type: 'object',
        additionalProperties: false,
        properties: {
          token: { type: 'string', description: 'Symbol or address; dUSD by default' },
          amount: { ...amount, description: 'Token units; everything held by default' },
          to: { type: 'string', description: "An address; the owner's by default" },
          idempotencyKey: { type: 'string' },
        },
      },
      Task: {
        type: 'object',
        additionalProperties: false,
        required: ['goal'],
        properties: { goal: { type: 'string' }, maxSteps: { type: 'integer', minimum: 1, maximum: 50 } },
      },
      Hire: {
        type: 'object',
        additionalProperties: false,
        required: ['provider', 'offering'],
        properties: {
          provider: { type: 'string', description: 'On-chain agent id' },
          offering: { type: 'string' },
          input: {},
          maxPrice: amount,
          deadlineSeconds: { type: 'integer', minimum: 60 },
          evaluator: { type: 'string' },
          idempotencyKey: { type: 'string' },
        },
      },
    },
  },
} as const

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)

/** A page built from the document on the server: no scripts, styles or fonts from elsewhere. */
function docsPage(): string {
  const rows = Object.entries(openApiDocument.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => {
      const auth = 'security' in operation ? ' <small>(bearer)</small>' : ''
      return `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escapeHtml(path)}</code></td><td>${escapeHtml(operation.summary)}${auth}</td></tr>`
    }),
  )
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Agora API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}td{padding:.2rem .8rem;vertical-align:top}</style>
</head><body><h1>Agora API</h1><p>${escapeHtml(openApiDocument.info.description)}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a></p>
<table>${rows.join('\n')}</table></body></html>`
}

export function docsRouter() {
  const page = docsPage()
  return new Hono<AppEnv>()
    .get('/openapi.json', (c) => c.json(openApiDocument))
    .get('/docs', (c) => {
      c.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
      return c.html(page)
    })
}
