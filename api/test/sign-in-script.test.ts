import { spawn } from 'node:child_process'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { serve } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type ChildOutput, outputOf } from './child-output.ts'
import { startTestApi, type TestApi } from './harness.ts'
import { freePort } from './npm-start.ts'

// `npm run sign-in -w @agora/api`: finds the API at API_URL, else on localhost at PORT (8787 by
// default), prints only the token on stdout, and says in one line when the API is not up.

const script = join(import.meta.dirname, '..', 'scripts', 'sign-in.ts')

/** Runs the script with `env` (API_URL and PORT unset unless given); its exit code and output. */
function signIn(env: Record<string, string>, args: string[] = []): Promise<ChildOutput> {
  const { API_URL: _, PORT: __, ...inherited } = process.env
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return outputOf(child)
}

let api: TestApi
let server: ReturnType<typeof serve>
let port: number

beforeAll(async () => {
  api = await startTestApi()
  server = serve({ fetch: api.app.fetch, port: 0, hostname: '127.0.0.1' })
  await new Promise((resolve) => server.once('listening', resolve))
  port = (server.address() as AddressInfo).port
})
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve))
  await api?.stop()
})

describe('scripts/sign-in.ts', () => {
  test('default: PORT finds the API on localhost; only the token goes to stdout', async () => {
    const run = await signIn({ PORT: String(port) })
    expect(run.code, run.stderr).toBe(0)
    const token = run.stdout.trim()
    expect(token).toMatch(/^\S{20,}$/)
    expect(run.stderr).toContain(`Signed in to http://localhost:${port} as ${api.accounts[1]!.address}`)
    // The token is a session of development account #1.
    const response = await api.call('POST', '/auth/logout', undefined, token)
    expect(response.status).toBe(204)
  })

  test('behavior: API_URL wins over PORT', async () => {
    const run = await signIn({ API_URL: `http://127.0.0.1:${port}/`, PORT: '1' })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout.trim()).toMatch(/^\S{20,}$/)
  })

  test('behavior: no API there is one clear line and exit 1, no stack trace', async () => {
    const closed = await freePort()
    const envs: Record<string, string>[] = [
      { PORT: String(closed) },
      { API_URL: `http://127.0.0.1:${closed}` },
    ]
    for (const env of envs) {
      const run = await signIn(env)
      expect(run.code).toBe(1)
      expect(run.stdout).toBe('')
      const lines = run.stderr.trim().split('\n')
      expect(lines, run.stderr).toHaveLength(1)
      expect(lines[0]).toMatch(
        /^The Agora API is not reachable at http:\/\/(localhost|127\.0\.0\.1):\d+ \(ECONNREFUSED\)\./,
      )
      expect(lines[0]).toContain('npm start')
      expect(run.stderr).not.toMatch(/\n\s+at /)
    }
  })

  test('behavior: a key that is not one is refused in one line', async () => {
    const run = await signIn({ PORT: String(port) }, ['0x1234'])
    expect(run.code).toBe(2)
    expect(run.stderr.trim()).toBe('The private key must be 32 bytes of 0x-prefixed hex.')
  })
})
