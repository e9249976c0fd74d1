import { dashboardRouter } from '@agora/web'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { problemOf, startTestApi, type TestApi } from './harness.ts'

let api: TestApi
beforeAll(async () => {
  api = await startTestApi()
})
afterAll(async () => {
  await api?.stop()
})

describe('GET /health', () => {
  test('default', async () => {
    const response = await api.app.request('/health')
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      status: 'ok',
      chainId: api.chainId,
      block: expect.any(Number),
      database: 'ok',
      rpcUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
    })
  })
})

describe('GET /openapi.json', () => {
  test('default', async () => {
    const response = await api.app.request('/openapi.json')
    const document = (await response.json()) as { openapi: string; paths: Record<string, unknown> }
    expect(document.openapi).toBe('3.1.0')
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/health',
        '/auth/verify',
        '/agents',
        '/agents/{id}/events',
        '/market/offerings',
      ]),
    )
  })

  test('behavior: documents every API route the app serves, and only those (the dashboard pages are not API)', async () => {
    const document = (await (await api.app.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, unknown>>
    }
    const keyOf = (r: { method: string; path: string }) =>
      `${r.method} ${r.path.replace(/\/$/, '').replace(/:(\w+)/g, '{$1}')}`
    // Every route the dashboard can have (its devnet-only ones included).
    const pages = new Set(dashboardRouter({ devnetRpcUrl: 'http://127.0.0.1:1' }).routes.map(keyOf))
    const served = api.app.routes
      .filter((r) => r.method !== 'ALL')
      .map(keyOf)
      .filter((route) => !pages.has(route))
    const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    )
    expect([...new Set(served)].sort()).toEqual(documented.sort())
  })

  test('behavior: /docs is an interactive reference served from here, loading nothing from elsewhere', async () => {
    const response = await api.app.request('/docs')
    const html = await response.text()
    expect(response.headers.get('content-type')).toContain('text/html')
    expect(response.headers.get('content-security-policy')).toMatch(/script-src 'self'/)
    expect(html).not.toMatch(/https?:\/\//)
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)
    expect(assets).toEqual(
      expect.arrayContaining(['/docs/assets/swagger-ui-bundle.js', '/docs/assets/init.js']),
    )
    for (const asset of assets) {
      const served = await api.app.request(asset)
      expect(served.status, asset).toBe(200)
      expect((await served.text()).length, asset).toBeGreaterThan(10)
    }
    // The page reads the generated document and lets routes be tried.
    expect(await (await api.app.request('/docs/assets/init.js')).text()).toMatch(
      /openapi\.json[\s\S]*tryItOutEnabled: true/,
    )
    expect((await problemOf(await api.app.request('/docs/assets/secrets.txt'))).status).toBe(404)
  })
})

describe('errors', () => {
  test('behavior: an unknown route is a 404 problem', async () => {
    const body = await problemOf(await api.app.request('/nope'))
    expect(body.status).toBe(404)
  })

  test('behavior: malformed JSON is a 400 problem', async () => {
    const response = await api.app.request('/auth/verify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"message": ',
    })
    expect((await problemOf(response)).type).toBe('urn:agora:problem:malformed-json')
  })

  test('behavior: a body that is not JSON is a 415 problem', async () => {
    const response = await api.app.request('/auth/verify', { method: 'POST', body: 'message=hi' })
    expect((await problemOf(response)).status).toBe(415)
  })

  test('behavior: a huge body is a 413 problem, with or without a length header', async () => {
    const big = JSON.stringify({ message: 'x'.repeat(70 * 1024), signature: '0x' })
    const declared = await api.app.request('/auth/verify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    })
    expect((await problemOf(declared)).status).toBe(413)
    const streamed = await api.app.request('/auth/verify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Blob([big]).stream(),
      duplex: 'half',
    } as RequestInit)
    expect((await problemOf(streamed)).status).toBe(413)
  })
})
