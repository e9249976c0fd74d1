import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { problemOf, startTestApi, type TestApi } from './harness.ts'

// Finding 12: a NUL byte reached Postgres (which refuses it in text) and answered 500, and the 500's
// log line carried the failed query's parameters, among them the new agent's sealed key.
let api: TestApi
const logged: string[] = []
let owner: { token: string; address: string }
let agentId: string

beforeAll(async () => {
  api = await startTestApi({ log: (line) => void logged.push(line) })
  owner = await api.signIn(2)
  const launched = await api.call('POST', '/agents', { name: 'nul-owner' }, owner.token)
  expect(launched.status).toBe(201)
  agentId = ((await launched.json()) as { id: string }).id
})
afterAll(async () => {
  await api?.stop()
})

describe('NUL bytes', () => {
  test('behavior: in a path or a query they are a 400, never a 500', async () => {
    for (const path of [
      '/agents/%00',
      '/agents/a%00b/events',
      '/jobs/%00',
      '/jobs/1%00',
      '/registration/%00',
      '/registration/1%00',
      '/market/offerings?text=%00',
      '/market/offerings?capability=a%00',
      '/agents?owner=%00',
    ]) {
      const response = await api.app.request(path)
      expect(response.status, path).toBe(400)
      expect((await problemOf(response)).code, path).toBe('INVALID_REQUEST')
    }
  })

  test('behavior: in a JSON body, anywhere, they are a 400 naming the field', async () => {
    const cases: [string, string, unknown][] = [
      ['PATCH', `/agents/${agentId}`, { description: 'a\u0000b' }],

      ['POST', '/agents', { name: 'nul', description: '\u0000' }],
      ['POST', '/agents', { name: 'nul2', offerings: [{ name: 'x', description: 'd\u0000', price: '1' }] }],
      ['POST', `/agents/${agentId}/pay`, { to: '1', amount: '1', memo: '\u0000' }],
      ['POST', '/auth/verify', { message: 'nonce: \u0000', signature: '0x' }],
      ['POST', `/agents/${agentId}/hire`, { provider: '1', offering: 'x', input: { '\u0000': 1 } }],
    ]
    for (const [method, path, body] of cases) {
      const response = await api.call(method, path, body, owner.token)
      expect(response.status, `${method} ${path}`).toBe(400)
      const problem = await problemOf(response)
      expect(problem.code).toBe('INVALID_REQUEST')
      expect(problem.errors?.[0]?.message).toMatch(/NUL/)
    }
    // Nothing was launched or changed.
    const agents = (await (await api.app.request('/agents')).json()) as { agents: { name: string }[] }
    expect(agents.agents.map((a) => a.name)).toEqual(['nul-owner'])
  })

  test('behavior: nothing above reached the 5xx log; a sealed key never does', () => {
    // Before the fix the launch's failed insert was logged with its parameters: `params: …, v1.<sealed key>`.
    expect(logged.join('\n')).not.toMatch(/params:|v1\.[\w-]+\.[\w-]+\.[\w-]+/)
    expect(logged).toEqual([])
  })
})
