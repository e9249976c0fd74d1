import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { launchChromium } from './chromium.ts'
import { startTestApi, type TestApi } from './harness.ts'

let api: TestApi
let server: ReturnType<typeof serve>
let base: string
let browser: Browser

beforeAll(async () => {
  api = await startTestApi()
  server = serve({ fetch: api.app.fetch, port: 0, hostname: '127.0.0.1' })
  await once(server, 'listening')
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  // Playwright gives the browser a fresh, empty profile of its own. Debian: `apt-get install chromium`.
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
  server?.close()
  await api?.stop()
})

describe('/docs in a real browser', () => {
  test('default: the reference renders every route from the generated document, and a route can be tried', async () => {
    const page = await browser.newPage()
    const failed: string[] = []
    // Everything the page loads comes from this server and loads; the browser's own favicon probe aside.
    page.on('requestfailed', (request) => failed.push(request.url()))
    page.on('response', (response) => {
      if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) failed.push(response.url())
    })
    page.on('request', (request) => {
      if (!request.url().startsWith(base)) failed.push(request.url())
    })
    await page.goto(`${base}/docs`)
    const health = page.locator('#operations-meta-get_health')
    await health.waitFor({ timeout: 30_000 })
    expect(await page.locator('.opblock').count()).toBeGreaterThanOrEqual(25)

    // Try GET /health from the page: Swagger UI sends it and shows the live answer.
    await health.locator('.opblock-summary').click()
    await health
      .getByRole('button', { name: 'Try it out' })
      .click()
      .catch(() => {})
    await health.getByRole('button', { name: 'Execute' }).click()
    const body = health.locator('.live-responses-table .highlight-code').first()
    await body.waitFor({ timeout: 15_000 })
    expect(await body.textContent()).toMatch(/"status": "ok"/)
    expect(failed).toEqual([])
    await page.close()
  })
})
