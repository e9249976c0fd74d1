/**
 * docs/quickstart.md's walk-through, run as written: its shell blocks between the quickstart markers
 * go to bash against `npm start` in a child process, with only the ports changed (the API's, the
 * model server's and the webhook receiver's). The outputs the page shows (`# {…}` lines, `…` for
 * what varies) must be what the commands print.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type ChildOutput, outputOf } from './child-output.ts'
import { freePort, type NpmStart, npmStart } from './npm-start.ts'
import { startScriptedModel } from './scripted-model.ts'

const root = join(import.meta.dirname, '..', '..')
const page = readFileSync(join(root, 'docs', 'quickstart.md'), 'utf8')

/** The shell blocks of the walk-through, in order. */
function walkThrough(): string {
  const section = /<!-- quickstart:begin -->([\s\S]*?)<!-- quickstart:end -->/.exec(page)?.[1]
  if (!section) throw new Error('docs/quickstart.md has no quickstart markers')
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n')
}

let api: NpmStart
let dataDir: string
let model: Awaited<ReturnType<typeof startScriptedModel>>

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'agora-quickstart-'))
  model = await startScriptedModel()
  api = npmStart({ dataDir, port: await freePort(), devnetPort: await freePort() })
  await api.start()
}, 180_000)

afterAll(async () => {
  await api?.shutdown()
  await model?.close()
  rmSync(dataDir, { recursive: true, force: true })
}, 60_000)

/** Runs `script` with bash in its own process group (its background jobs die with it). */
async function bash(script: string, env: Record<string, string>, ms: number): Promise<ChildOutput> {
  const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
    cwd: root,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), ms)
  try {
    return await outputOf(child)
  } finally {
    clearTimeout(timer)
    try {
      process.kill(-child.pid!, 'SIGTERM') // the webhook receiver it left running
    } catch {
      // the group is gone already
    }
  }
}

describe('docs/quickstart.md', () => {
  test('default: the walk-through runs as written and prints what the page shows', async () => {
    const apiPort = new URL(api.url).port
    const modelPort = new URL(model.baseURL).port
    const receiverPort = String(await freePort())
    const script = walkThrough()
      .replaceAll('localhost:8787', `localhost:${apiPort}`)
      .replaceAll('11434', modelPort)
      .replaceAll('8790', receiverPort)
    model.play({ answer: JSON.stringify({ poem: 'Leaves let go;\nthe year exhales.' }) })

    const run = await bash(script, { PORT: apiPort }, 240_000)
    expect(run.code, `${run.stderr}\n${api.output.slice(-2_000)}`).toBe(0)

    // Every output the page shows, in order, with "…" standing for what varies.
    const shown = [...walkThrough().matchAll(/^# (\{.*\})$/gm)].map((m) => m[1]!)
    expect(shown.length).toBeGreaterThanOrEqual(3)
    const printed = run.stdout.split('\n').filter((line) => line.startsWith('{'))
    let at = 0
    for (const expected of shown) {
      const pattern = new RegExp(
        `^${expected
          .split('…')
          .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
      )
      const found = printed.findIndex((line, i) => i >= at && pattern.test(line))
      expect(found, `"${expected}" in:\n${printed.join('\n')}`).toBeGreaterThanOrEqual(0)
      at = found + 1
    }
    expect(run.stdout).toContain('"deliverable":{"poem":"Leaves let go;\\nthe year exhales."}')

    // The model served the poem with the poet's instructions as its system prompt.
    expect(model.pending()).toBe(0)
    expect(model.requests[0]!.messages[0]).toMatchObject({ role: 'system' })
    expect(String(model.requests[0]!.messages[0]!.content)).toContain('You are a poet.')
  }, 300_000)
})
