import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { launchChromium } from './chromium.ts'
import { freePort, type NpmStart, npmStart } from './npm-start.ts'

// What a newcomer sees: `npm start` as it comes (the demo client trading), and its dashboard opened
// by nobody in particular. The economy trades live with no one doing anything.

let app: NpmStart
let dataDir: string
let browser: Browser

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'agora-demo-'))
  app = npmStart({ dataDir, port: await freePort(), devnetPort: await freePort(), demoTrading: true })
  await app.start()
  browser = await launchChromium()
}, 240_000)

afterAll(async () => {
  await browser?.close()
  await app?.shutdown()
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
})

describe('npm start, as it comes', () => {
  test('default: opened by a stranger, the dashboard shows the demo agents trading live, no one acting', async () => {
    const page = await browser.newPage()
    await page.goto(app.url)
    // A job completing arrives in the feed, and the count follows, without a reload.
    const completed = page.locator('#feed li[data-kind="job"]', { hasText: 'completed' }).first()
    await completed.waitFor({ timeout: 120_000 })
    await expect
      .poll(async () => Number(await page.locator('#count-completed').textContent()), {
        timeout: 60_000,
      })
      .toBeGreaterThan(0)
    // The client that hires them is an agent like any other, with its jobs on its page.
    const { agents } = (await (await fetch(`${app.url}/agents`)).json()) as {
      agents: { id: string; name: string }[]
    }
    const client = agents.find((a) => a.name === 'orchestrator')
    expect(client, agents.map((a) => a.name).join(', ')).toBeDefined()
    const { jobs } = (await (await fetch(`${app.url}/agents/${client!.id}/jobs`)).json()) as {
      jobs: { status: string }[]
    }
    expect(jobs.some((job) => job.status === 'completed')).toBe(true)
    expect(app.output).not.toContain('demo trading: a round failed')
    await page.close()
  }, 240_000)
})
