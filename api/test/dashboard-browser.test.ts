import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { devMnemonic } from '@agora/contracts'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import type { Hex } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { launchChromium } from './chromium.ts'
import { freePort, type NpmStart, npmStart } from './npm-start.ts'
import { startScriptedModel } from './scripted-model.ts'

// The dashboard end to end: `npm start` (embedded devnet, PGlite, the demo agents) in a child
// process, driven from a real headless Chromium. Nothing of ours is mocked; every wait is for
// something to appear on the page, never for a length of time.

const root = join(import.meta.dirname, '..', '..')
/**
 * Screenshots of every page, kept as test artifacts (gitignored); with `UPDATE_SCREENSHOTS=1` the
 * economy's replaces docs/dashboard.png too.
 */
const artifacts = join(root, 'test-artifacts', 'dashboard')
const long = { timeout: 90_000 }

let app: NpmStart
let dataDir: string
let browser: Browser

/** Waits until `check` answers true (the demo agents launch in the background after the API listens). */
async function until(what: string, check: () => Promise<boolean>) {
  for (let i = 0; i < 600; i++) {
    if (await check().catch(() => false)) return
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`${what} never happened`)
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'agora-dashboard-'))
  mkdirSync(artifacts, { recursive: true })
  app = npmStart({ dataDir, port: await freePort(), devnetPort: await freePort() })
  await app.start()
  await until('the summarizer in the market', async () => {
    const found = await fetch(`${app.url}/market/offerings?capability=summarize`)
    return ((await found.json()) as { offerings: unknown[] }).offerings.length > 0
  })
  // Playwright gives the browser a fresh, empty profile of its own (a new --user-data-dir).
  browser = await launchChromium()
}, 240_000)

afterAll(async () => {
  await browser?.close()
  await app?.shutdown()
  rmSync(dataDir, { recursive: true, force: true })
})

/** A page whose failed requests and script errors are collected, to be checked empty. */
async function open(context: BrowserContext, path: string, problems: string[]): Promise<Page> {
  const page = await context.newPage()
  page.on('pageerror', (error) => problems.push(`${path}: ${error.message}`))
  page.on('response', (response) => {
    // 4xx answers the page shows as sentences are the scenario's own; a 5xx or a missing asset is a fault.
    if (response.status() >= 500 || (response.status() === 404 && !response.url().endsWith('/favicon.ico')))
      problems.push(`${path}: ${response.status()} ${response.url()}`)
  })
  await page.goto(`${app.url}${path}`)
  return page
}

/**
 * A browser wallet (an EIP-1193 provider as `window.ethereum`) holding development account
 * `index`'s key: the page asks it for accounts and signatures as it would ask any wallet, and the
 * key signs in this process (viem), as a wallet's would in its own.
 */
async function injectWallet(context: BrowserContext, index: number) {
  const account = mnemonicToAccount(devMnemonic, { addressIndex: index })
  await context.exposeFunction('agoraTestWalletSign', (hex: string) =>
    account.signMessage({ message: { raw: hex as Hex } }),
  )
  await context.addInitScript(`window.ethereum = {
    async request({ method, params }) {
      if (method === 'eth_requestAccounts' || method === 'eth_accounts') return ['${account.address.toLowerCase()}']
      if (method === 'personal_sign') return window.agoraTestWalletSign(params[0])
      throw new Error('unsupported: ' + method)
    },
  }`)
  return account.address.toLowerCase()
}

/** Elements that reach past the right edge of the screen (run in the page; `[]` on a page that fits). */
const wideElements = `[...document.querySelectorAll('body *')]
  .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap'))
  .map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''))`

/** Signs in on the console with development account `index` (the devnet node signs for it). */
async function signIn(page: Page, index: number) {
  const address = mnemonicToAccount(devMnemonic, { addressIndex: index }).address.toLowerCase()
  const select = page.getByLabel('Development account (devnet only)')
  await select.locator(`option[value="${address}"]`).waitFor({ state: 'attached', ...long })
  await select.selectOption(address)
  await page.getByRole('button', { name: 'Sign in with it' }).click()
  await page.locator('#signin-status', { hasText: `Signed in as ${address}` }).waitFor(long)
  return address
}

describe('the dashboard in a real browser', () => {
  test('default: an owner launches, funds and hires live; a paused agent’s payment is refused in words; a stranger sees no controls and no private content', async () => {
    // The start banner says where the dashboard is.
    expect(app.output).toMatch(new RegExp(`dashboard +${app.url}/`))

    // The development wallet signs sign-in messages for this host, and nothing else.
    const refused = await fetch(`${app.url}/dashboard/dev-wallet/sign`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        address: mnemonicToAccount(devMnemonic, { addressIndex: 2 }).address,
        message: 'Pay me',
      }),
    })
    expect(refused.status).toBe(400)
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/signs only a sign-in message/)

    const problems: string[] = []
    const owner = await browser.newContext({ viewport: { width: 1280, height: 900 } })

    // Sign in with development account #2 and launch an agent with the form.
    const consolePage = await open(owner, '/console', problems)
    await signIn(consolePage, 2)
    const name = `buyer-${Date.now().toString(36)}`
    await consolePage.getByLabel('Name (lower-case letters, digits and dashes)').fill(name)
    await consolePage.getByLabel('Description').fill('Buys summaries')
    await consolePage.getByLabel('Most per job (dUSD)').fill('5')
    await consolePage.getByRole('button', { name: 'Launch' }).click()
    await consolePage.locator('#launched-link').waitFor(long)
    await consolePage.locator('#my-agents', { hasText: name }).waitFor(long)
    await consolePage.screenshot({ path: join(artifacts, 'console.png'), fullPage: true })

    // Its page: identity, and the owner's controls. Fund it from the faucet.
    await consolePage.locator('#launched-link').click()
    const agentPage = consolePage
    await agentPage.locator('#agent-name', { hasText: name }).waitFor(long)
    await agentPage.locator('#identity', { hasText: 'Token-bound account' }).waitFor(long)
    expect(await agentPage.locator('#identity a[href^="/registration/"]').count()).toBe(1)
    await agentPage.getByRole('button', { name: /Fund from the devnet faucet/ }).click()
    await agentPage.locator('#owner-status', { hasText: 'Funded with 100 dUSD' }).waitFor(long)
    await agentPage.locator('[data-balance="dUSD"]', { hasText: '100 dUSD' }).waitFor(long)

    // The economy, open beside it: its feed is live, its charts drawn.
    const economy = await open(owner, '/', problems)
    await economy.locator('#feed-state[data-state="live"]').waitFor(long)
    await economy.locator('#caption-jobs', { hasText: 'Jobs hired:' }).waitFor(long)
    const jobsBefore = Number(await economy.locator('#chart-jobs').getAttribute('data-points'))
    const completedBefore = Number(await economy.locator('#count-completed').textContent())

    // Hire the summarizer from the agent's page.
    const hire = agentPage.locator('#hire-form')
    const offering = hire.getByLabel('Offering')
    await offering
      .locator('option', { hasText: 'summarizer' })
      .first()
      .waitFor({ state: 'attached', ...long })
    const value = await offering.locator('option', { hasText: 'summarizer' }).first().getAttribute('value')
    await offering.selectOption(value!)
    await hire.getByRole('button', { name: 'Hire' }).click()
    await agentPage.locator('#owner-status', { hasText: 'Hired: job #' }).waitFor(long)
    const row = agentPage.locator('#jobs tbody tr').first()
    await row.waitFor(long)
    const jobId = (await row.getAttribute('data-job-id'))!
    expect(jobId).toMatch(/^\d+$/)

    // The economy's feed shows the job completed without a reload, and the chart and counts follow.
    await economy.locator(`#feed li[data-event="completed"][data-job-id="${jobId}"]`).first().waitFor(long)
    await economy.locator('#count-completed', { hasText: String(completedBefore + 1) }).waitFor(long)
    await economy.locator(`#chart-jobs[data-points="${jobsBefore + 1}"]`).waitFor(long)
    await economy.locator('#caption-earnings', { hasText: 'paid out in all' }).waitFor(long)
    expect(await economy.locator('#feed li.entry.hire').count()).toBeGreaterThan(0)

    // The buyer paid 2 dUSD from its Safe: the balance shows it.
    await agentPage.locator('[data-balance="dUSD"]', { hasText: '98 dUSD' }).waitFor(long)
    await agentPage.locator(`#jobs tr[data-job-id="${jobId}"] .job-completed`).waitFor(long)

    // Withdraw 1 dUSD to the owner and change the description: both show at once.
    const withdraw = agentPage.locator('#withdraw-form')
    await withdraw.getByLabel('Amount (empty: everything)').fill('1')
    await withdraw.getByRole('button', { name: 'Withdraw' }).click()
    await agentPage.locator('#owner-status', { hasText: /^Withdrawal / }).waitFor(long)
    await agentPage.locator('[data-balance="dUSD"]', { hasText: '97 dUSD' }).waitFor(long)
    const settings = agentPage.locator('#settings-form')
    await settings.getByLabel('Description').fill('Buys summaries, cheaply')
    await settings.getByRole('button', { name: 'Save' }).click()
    await agentPage.locator('#owner-status', { hasText: 'Saved.' }).waitFor(long)
    await agentPage.locator('#agent-description', { hasText: 'Buys summaries, cheaply' }).waitFor(long)

    // Over its spending policy, a payment is refused by its guardrails: the sentence on the page, and
    // the refusal in its feed and, to its owner, in the economy's.
    const pay = agentPage.locator('#pay-form')
    await pay.getByLabel('To (on-chain id)').fill('1')
    await pay.getByLabel('Amount (dUSD)').fill('50')
    await pay.getByRole('button', { name: 'Pay' }).click()
    const overPolicy = (await agentPage.locator('#owner-status.error').textContent({ timeout: 90_000 }))!
    expect(overPolicy.split(' ').length).toBeGreaterThan(3)
    await agentPage.locator('#feed li[data-kind="guardrail"]').first().waitFor(long)
    await economy.locator('#feed li[data-kind="guardrail"]').first().waitFor(long)
    await economy.screenshot({ path: join(artifacts, 'economy.png'), fullPage: true })
    // The README's picture is replaced only when asked (a test run leaves the tree as it found it).
    if (process.env.UPDATE_SCREENSHOTS)
      await economy.screenshot({ path: join(root, 'docs', 'dashboard.png') })
    await economy.close()

    // Paused, its payment is refused, and the page says why in a sentence (not a code).
    await agentPage.getByRole('button', { name: 'Pause' }).click()
    await agentPage.locator('#owner-status', { hasText: 'The agent is paused.' }).waitFor(long)
    await pay.getByLabel('Amount (dUSD)').fill('1')
    await pay.getByRole('button', { name: 'Pay' }).click()
    const refusal = agentPage.locator('#owner-status.error')
    await refusal.waitFor(long)
    const sentence = (await refusal.textContent())!
    expect(sentence).toMatch(/paused/i)
    expect(sentence).not.toMatch(/^[A-Z_]+$/)
    expect(sentence.split(' ').length).toBeGreaterThan(3)
    await agentPage.screenshot({ path: join(artifacts, 'agent.png'), fullPage: true })

    // The job's page, to its parties: the escrow's life with its transactions, input and deliverable.
    const job = await open(owner, `/job/${jobId}`, problems)
    await job.locator('#job-state', { hasText: 'completed' }).waitFor(long)
    await job.locator('#job-facts', { hasText: name }).waitFor(long)
    await job.locator('#job-facts', { hasText: 'summarizer #1' }).waitFor(long)
    await job.locator('#job-life li.done', { hasText: 'Completed: the provider was paid' }).waitFor(long)
    expect(await job.locator('#job-life li.done').count()).toBe(3)
    expect(await job.locator('#job-life code').count()).toBe(3)
    expect(await job.locator('#job-input').textContent()).toContain('Agents own identities')
    expect(await job.locator('#job-deliverable').textContent()).not.toContain('Not delivered yet')
    await job.screenshot({ path: join(artifacts, 'job.png'), fullPage: true })
    await job.close()

    // The market finds the summarizer by capability and price.
    const market = await open(owner, '/market?capability=summarize&maxPrice=5&token=dUSD', problems)
    await market.locator('#offerings tbody tr', { hasText: 'summarizer' }).waitFor(long)
    await market.screenshot({ path: join(artifacts, 'market.png'), fullPage: true })
    await market.close()
    await agentPage.close()

    // A stranger (development account #3), signed in: no owner controls, no private job content.
    const stranger = await browser.newContext({ viewport: { width: 390, height: 844 } })
    const strangerConsole = await open(stranger, '/console', problems)
    await signIn(strangerConsole, 3)
    await strangerConsole.close()
    const theirs = await open(stranger, `/job/${jobId}`, problems)
    await theirs.locator('#job-state', { hasText: 'completed' }).waitFor(long)
    await theirs.locator('#job-private').waitFor(long)
    expect(await theirs.locator('#job-input').count()).toBe(0)
    expect(await theirs.locator('#job-deliverable').count()).toBe(0)
    // The economy's feed shows them the job, and no one's refusals.
    const theirEconomy = await open(stranger, '/', problems)
    await theirEconomy
      .locator(`#feed li[data-event="completed"][data-job-id="${jobId}"]`)
      .first()
      .waitFor(long)
    expect(await theirEconomy.locator('#feed li[data-kind="guardrail"]').count()).toBe(0)
    await theirEconomy.close()
    const buyerLink = theirs.locator('#job-facts a').first()
    await buyerLink.click()
    await theirs.locator('#identity', { hasText: 'Token-bound account' }).waitFor(long)
    await theirs.locator('#jobs tbody tr').first().waitFor(long)
    // Its public activity, live, and nothing of the owner's own (model turns, tool calls, refusals).
    await theirs.locator(`#feed li[data-event="completed"][data-job-id="${jobId}"]`).waitFor(long)
    expect(
      await theirs
        .locator('#feed li[data-kind="model"], #feed li[data-kind="tool"], #feed li[data-kind="guardrail"]')
        .count(),
    ).toBe(0)
    expect(await theirs.locator('#owner-title').count()).toBe(0)
    // Readable on a phone: nothing wider than the screen.
    expect(await theirs.evaluate(wideElements)).toEqual([])
    expect(await theirs.locator('button[data-action]').count()).toBe(0)
    expect(await theirs.locator('#hire-form, #pay-form, #withdraw-form, #task-form').count()).toBe(0)
    await theirs.screenshot({ path: join(artifacts, 'agent-stranger-phone.png'), fullPage: true })

    await owner.close()
    await stranger.close()
    expect(problems).toEqual([])
  }, 600_000)

  test('behavior: signed in with a browser wallet, an owner launches an agent with a model, gives it a task and watches each step arrive (a search, a payment, the answer)', async () => {
    const problems: string[] = []
    const model = await startScriptedModel()
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    try {
      const address = await injectWallet(context, 4)
      const page = await open(context, '/console', problems)
      await page.getByRole('button', { name: 'Sign in with a browser wallet' }).click()
      await page.locator('#signin-status', { hasText: `Signed in as ${address}` }).waitFor(long)

      const name = `thinker-${Date.now().toString(36)}`
      await page.getByLabel('Name (lower-case letters, digits and dashes)').fill(name)
      await page.getByLabel('Provider').selectOption('openai-compatible')
      await page.getByLabel('Model', { exact: true }).fill('scripted')
      await page.getByLabel('Base URL').fill(model.baseURL)
      await page.getByRole('button', { name: 'Launch' }).click()
      await page.locator('#launched-link').click()
      await page.locator('#agent-name', { hasText: name }).waitFor(long)
      await page.locator('#identity', { hasText: 'openai-compatible/scripted' }).waitFor(long)
      await page.getByRole('button', { name: /Fund from the devnet faucet/ }).click()
      await page.locator('[data-balance="dUSD"]', { hasText: '100 dUSD' }).waitFor(long)

      model.play(
        { call: [{ name: 'search_market', arguments: { capability: 'summarize' } }] },
        { call: [{ name: 'pay', arguments: { to: '1', amount: '1' } }] },
        { call: [{ name: 'finish', arguments: { answer: 'Tipped the summarizer.' } }] },
      )
      const task = page.locator('#task-form')
      await task.getByLabel('Goal').fill('Find a summarizer and tip it 1 dUSD.')
      await task.getByRole('button', { name: 'Start the task' }).click()
      await page.locator('#owner-status', { hasText: 'is running' }).waitFor(long)
      const steps = page.locator('#task-steps')
      await steps.locator('li[data-event="task succeeded"], li[data-event="task failed"]').waitFor(long)
      const seen = await steps
        .locator('li')
        .evaluateAll((items) =>
          items.map((li) => `${li.getAttribute('data-kind')}:${li.getAttribute('data-event')}`),
        )
      expect(seen.at(-1), (await steps.textContent()) ?? '').toBe('lifecycle:task succeeded')
      expect(seen[0]).toBe('lifecycle:task accepted')
      expect(seen.filter((s) => s.startsWith('model:'))).toHaveLength(3)
      // The search and the payment; `finish` ends the task rather than being a tool call of its own.
      expect(seen.filter((s) => s.startsWith('tool:'))).toHaveLength(2)
      expect(await steps.textContent()).toMatch(/tool search_market answered[\s\S]*tool pay answered/)
      expect(seen).toContain('payment:paid for task')
      expect(seen.at(-1)).toBe('lifecycle:task succeeded')
      await page.locator('#task-answer', { hasText: 'Tipped the summarizer.' }).waitFor(long)
      await page.screenshot({ path: join(artifacts, 'task.png'), fullPage: true })
      expect(problems).toEqual([])
    } finally {
      // What the page showed last, kept beside the other screenshots (the state a failure left).
      for (const page of context.pages())
        await page.screenshot({ path: join(artifacts, 'task-last.png'), fullPage: true })
      await context.close()
      await model.close()
    }
  }, 300_000)
})
