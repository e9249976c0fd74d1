import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { type OpenAPIHono, z } from '@hono/zod-openapi'
import type { AppEnv } from './env.ts'
import { HttpError, problems } from './problem.ts'

/** A JSON response of `schema` for a route definition. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } }
}

/** A required JSON request body of `schema` for a route definition. */
export function jsonRequest<T extends z.ZodType>(schema: T) {
  return { required: true, content: { 'application/json': { schema } } }
}

/** The security requirement of owner-only routes. */
export const bearer = [{ bearer: [] as string[] }]

export const documentInfo: Parameters<OpenAPIHono['getOpenAPI31Document']>[0] = {
  openapi: '3.1.0',
  info: {
    title: 'Agora API',
    version: '0.1.0',
    description: [
      'Launch AI agents with on-chain identities and Safe wallets, move their money, search the market.',
      'Sign in with Ethereum: GET /auth/nonce, sign an EIP-4361 message, POST /auth/verify, then send',
      '"Authorization: Bearer <token>". Amounts in requests are decimal strings in token units ("2.5");',
      'every amount in a response or an event is a Money object (base units, decimals, token, symbol,',
      'formatted). Agents are addressed by their runtime id (`agt_…`) or their on-chain id.',
      'Every error is a problem+json body with a stable `code`.',
    ].join(' '),
  },
  tags: [
    { name: 'agents', description: 'Launch, read and steer agents.' },
    { name: 'money', description: "Pay, hire, withdraw, and read an agent's money." },
    { name: 'tasks', description: "Goals for an agent's model, followed live on its events." },
    { name: 'market', description: 'Offerings for hire and registration files.' },
    { name: 'auth', description: 'Sign-In with Ethereum.' },
    { name: 'meta', description: 'Health and this document.' },
    { name: 'devnet', description: 'The embedded development chain only: its faucet.' },
  ],
}

const assets: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
}
const loaded: Record<string, Promise<string>> = {}
const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Agora API</title><link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="docs"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script><script src="/docs/assets/init.js"></script></body></html>`

// Served as a file, not inline, so the page's policy allows scripts from this origin only.
const init = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#docs', tryItOutEnabled: true,
  persistAuthorization: true, deepLinking: true })`

/**
 * `/openapi.json` (generated from the routes' zod schemas) and `/docs`, an interactive reference
 * (Swagger UI, served from this server: nothing is loaded from elsewhere) where a route can be tried.
 */
export function registerDocs(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'The token from POST /auth/verify.',
  })
  const document = () => app.getOpenAPI31Document(documentInfo)
  let cached: ReturnType<typeof document> | undefined
  app.get('/openapi.json', (c) => {
    cached ??= document()
    return c.json(cached)
  })
  app.get('/docs', (c) => {
    c.header(
      'content-security-policy',
      "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'",
    )
    return c.html(page)
  })
  app.get('/docs/assets/:file', async (c) => {
    const file = c.req.param('file')
    c.header('cache-control', 'public, max-age=86400')
    if (file === 'init.js') return c.body(init, 200, { 'content-type': 'text/javascript; charset=utf-8' })
    const type = Object.hasOwn(assets, file) ? assets[file] : undefined // not `__proto__` and the like
    if (!type) throw new HttpError('ROUTE_NOT_FOUND', `No asset "${file}".`)
    loaded[file] ??= readFile(join(swaggerDir, file), 'utf8')
    return c.body(await loaded[file], 200, { 'content-type': type })
  })
  const text = (type: string) => ({ [type]: { schema: z.string() } })
  const meta = [
    {
      path: '/openapi.json',
      summary: 'This document (OpenAPI 3.1), generated from the routes',
      content: {
        'application/json': {
          schema: z.object({
            openapi: z.string(),
            info: z.record(z.string(), z.unknown()),
            paths: z.record(z.string(), z.unknown()),
          }),
        },
      },
    },
    {
      path: '/docs',
      summary: 'An interactive reference: try any route from the browser',
      content: text('text/html'),
    },
    {
      path: '/docs/assets/{file}',
      summary: "The reference page's scripts and styles",
      content: { ...text('text/javascript'), ...text('text/css') },
      request: { params: z.object({ file: z.string() }) },
    },
  ] as const
  for (const { content, ...route } of meta) {
    app.openAPIRegistry.registerPath({
      method: 'get',
      tags: ['meta'],
      ...route,
      responses: {
        200: { description: route.summary, content },
        ...(route.path.includes('{file}') ? problems(404) : {}),
      },
    })
  }
}
