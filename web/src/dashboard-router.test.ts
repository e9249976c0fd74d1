import { Hono } from 'hono'
import { describe, expect, test } from 'vitest'
import { dashboardRouter } from './dashboard-router.tsx'

describe('dashboardRouter', () => {
  test('default: every page is a whole HTML document with its module, from this origin only', async () => {
    const app = dashboardRouter()
    for (const [path, script] of [
      ['/', 'economy-page'],
      ['/market', 'market-page'],
      ['/console', 'console-page'],
      ['/agent/agt_1', 'agent-page'],
      ['/job/42', 'job-page'],
    ]) {
      const response = await app.request(path!)
      expect(response.status, path).toBe(200)
      const html = await response.text()
      expect(html.startsWith('<!doctype html><html lang="en">'), path).toBe(true)
      expect(html).toContain(`<script type="module" src="/assets/js/${script}.js">`)
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'")
      expect(response.headers.get('cache-control')).toBe('no-store')
    }
  })

  test('behavior: every module a page names is served, and so is uPlot from node_modules', async () => {
    const app = dashboardRouter()
    const scripts = new Set<string>()
    for (const path of ['/', '/market', '/console', '/agent/1', '/job/1']) {
      const html = await (await app.request(path)).text()
      for (const [, src] of html.matchAll(/src="(\/assets\/[^"]+)"/g)) scripts.add(src!)
      for (const [, href] of html.matchAll(/href="(\/assets\/[^"]+)"/g)) scripts.add(href!)
    }
    // The modules' own imports, followed to the end.
    const queue = [...scripts]
    while (queue.length > 0) {
      const path = queue.shift()!
      const response = await app.request(path)
      expect(response.status, path).toBe(200)
      if (!path.endsWith('.js')) continue
      const text = await response.text()
      for (const [, spec] of text.matchAll(/from '(\.\/[\w-]+\.js|\/assets\/[\w./-]+)'/g)) {
        const next = spec!.startsWith('./') ? new URL(spec!, `http://x${path}`).pathname : spec!
        if (!scripts.has(next)) {
          scripts.add(next)
          queue.push(next)
        }
      }
    }
    expect(scripts).toContain('/assets/vendor/uPlot.esm.js')
    expect(scripts).toContain('/assets/js/stream.js')
  })

  test('behavior: an unknown asset is a problem answer; no path leaves the asset folders', async () => {
    const app = dashboardRouter()
    for (const path of [
      '/assets/js/nope.js',
      '/assets/js/..%2F..%2Fpackage.json',
      '/assets/vendor/uPlot.cjs.js',
    ]) {
      const response = await app.request(path)
      expect(response.status, path).toBe(404)
      expect(response.headers.get('content-type')).toBe('application/problem+json')
      expect(((await response.json()) as { detail: string }).detail).toMatch(/^No asset/)
    }
  })

  test('behavior: without a devnet there is no development wallet and no faucet button', async () => {
    const app = new Hono().route('/', dashboardRouter())
    expect((await app.request('/dashboard/dev-wallet/accounts')).status).toBe(404)
    expect(await (await app.request('/console')).text()).not.toContain('Development account')
    expect(await (await app.request('/agent/1')).text()).not.toContain('devnet faucet')
    const onDevnet = dashboardRouter({ devnetRpcUrl: 'http://127.0.0.1:1' })
    expect(await (await onDevnet.request('/console')).text()).toContain('Development account')
  })
})
