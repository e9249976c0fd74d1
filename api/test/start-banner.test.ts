import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { freePort, type NpmStart, npmStart, signIn } from './npm-start.ts'
import { startScriptedModel } from './scripted-model.ts'

// `npm start` as a newcomer meets it: the banner lists each hosted agent with its model; a model
// turned on by AGORA_MODEL_* after the first start is the one the agents think with (tasks
// included); the quickstart's `/agents/1/reputation` and faucet one-liner answer.

type Agent = { id: string; name: string; chainAgentId: string; safe: string }

let app: NpmStart
let dataDir: string
let stub: Awaited<ReturnType<typeof startScriptedModel>>

/** Waits until the process has printed the agents it hosts; returns those lines. */
async function bannerAgents(): Promise<string[]> {
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    const at = app.output.lastIndexOf('Agents hosted here')
    if (at >= 0) {
      const lines = app.output.slice(at).split('\n').slice(1)
      const listed = lines.slice(
        0,
        lines.findIndex((l) => !l.startsWith('  ')),
      )
      if (listed.length >= 3) return listed
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`no agent list in:\n${app.output}`)
}

beforeAll(async () => {
  stub = await startScriptedModel()
  dataDir = mkdtempSync(join(tmpdir(), 'agora-banner-'))
  app = npmStart({ dataDir, port: await freePort(), devnetPort: await freePort() })
})
afterAll(async () => {
  await app?.shutdown()
  await stub?.close()
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
})

describe('npm start', () => {
  test('default: the banner lists the demo agents without a model; the quickstart commands answer', async () => {
    await app.start()
    const lines = await bannerAgents()
    for (const name of ['summarizer', 'translator', 'evaluator'])
      expect(
        lines.find((l) => l.trim().startsWith(name)),
        lines.join('\n'),
      ).toMatch(/#\d+\s+no model$/)
    // `curl localhost:8787/agents/1/reputation`
    const reputation = await fetch(`${app.url}/agents/1/reputation`)
    expect(reputation.status).toBe(200)
    expect(await reputation.json()).toMatchObject({ chainAgentId: '1' })
    // `curl -X POST localhost:8787/devnet/faucet -H 'content-type: application/json' -d '{"to":"<agent id>"}'`
    const { agents } = (await (await fetch(`${app.url}/agents`)).json()) as { agents: Agent[] }
    const summarizer = agents.find((a) => a.name === 'summarizer')!
    const funded = await fetch(`${app.url}/devnet/faucet`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: summarizer.id }),
    })
    expect(funded.status, await funded.clone().text()).toBe(200)
    expect(await funded.json()).toMatchObject({ to: summarizer.safe, dUSD: { formatted: '100' } })
    await app.stop()
  })

  test('behavior: a model turned on by AGORA_MODEL_* after the first start is listed and runs tasks', async () => {
    const saved = { ...process.env }
    Object.assign(process.env, {
      AGORA_MODEL_PROVIDER: 'openai-compatible',
      AGORA_MODEL: 'scripted',
      AGORA_MODEL_BASE_URL: stub.baseURL,
    })
    try {
      await app.start()
    } finally {
      for (const key of ['AGORA_MODEL_PROVIDER', 'AGORA_MODEL', 'AGORA_MODEL_BASE_URL']) {
        if (saved[key] === undefined) delete process.env[key]
        else process.env[key] = saved[key]
      }
    }
    const lines = await bannerAgents()
    expect(lines.find((l) => l.trim().startsWith('summarizer'))).toMatch(/#1\s+openai-compatible\/scripted$/)

    const token = await signIn(app.url, 1)
    const { agents } = (await (await fetch(`${app.url}/agents`)).json()) as { agents: Agent[] }
    const summarizer = agents.find((a) => a.name === 'summarizer')!
    stub.reply('thought it over')
    const started = await fetch(`${app.url}/agents/${summarizer.id}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ goal: 'Think it over.' }),
    })
    expect(started.status, await started.clone().text()).toBe(202)
    const location = started.headers.get('location')!
    let task: { status: string; answer: string | null } = { status: 'running', answer: null }
    for (let i = 0; i < 300 && task.status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 100))
      const response = await fetch(`${app.url}${location}`, { headers: { authorization: `Bearer ${token}` } })
      task = (await response.json()) as typeof task
    }
    expect(task).toMatchObject({ status: 'succeeded', answer: 'thought it over' })
  })
})
