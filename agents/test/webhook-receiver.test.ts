import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { keccak256, toBytes } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startWebhookReceiver, verifyAgoraRequest, type WebhookReceiver } from '../src/webhook-receiver.ts'

const agent = privateKeyToAccount(generatePrivateKey())
const stranger = privateKeyToAccount(generatePrivateKey())

const job = {
  jobId: '42',
  agentId: '7',
  offering: 'lookup',
  input: { topic: 'autumn' },
  price: { value: '1000000', decimals: 6, token: '0x0', symbol: 'dUSD', formatted: '1' },
  client: '0x0000000000000000000000000000000000000001',
  deadline: new Date(Date.now() + 3_600_000).toISOString(),
}

/** A request as the runtime signs it; `overrides` forge single parts. */
async function signed(
  overrides: {
    by?: typeof agent
    header?: string
    timestamp?: number
    body?: string
    signedBody?: string
  } = {},
) {
  const body = overrides.body ?? JSON.stringify(job)
  const timestamp = overrides.timestamp ?? Math.floor(Date.now() / 1_000)
  const by = overrides.by ?? agent
  const message = `agora-webhook:${timestamp}:${keccak256(toBytes(overrides.signedBody ?? body))}`
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'agora-timestamp': String(timestamp),
      'agora-signature': await by.signMessage({ message }),
      'agora-agent': overrides.header ?? by.address.toLowerCase(),
    },
  }
}

describe('startWebhookReceiver', () => {
  let receiver: WebhookReceiver
  const handled: unknown[] = []

  beforeAll(async () => {
    receiver = await startWebhookReceiver({
      signer: agent.address,
      handle: (received) => {
        handled.push(received)
        if ((received.input as { topic?: string }).topic === 'nothing')
          throw Object.assign(new Error('no such topic'), { status: 422 })
        return { answer: `all about ${(received.input as { topic: string }).topic}` }
      },
    })
  })
  afterAll(async () => {
    await receiver?.close()
  })

  const post = async (request: { body: string; headers: Record<string, string> }) => {
    const response = await fetch(receiver.url, { method: 'POST', ...request })
    return { status: response.status, body: await response.json() }
  }

  test('default: a request signed by the agent is answered with the deliverable', async () => {
    expect(await post(await signed())).toEqual({ status: 200, body: { answer: 'all about autumn' } })
    expect(handled.at(-1)).toEqual(job)
  })

  test('behavior: forged, tampered, stale or foreign requests are 401 and never handled', async () => {
    const count = handled.length
    const cases: [Awaited<ReturnType<typeof signed>>, string][] = [
      // Signed by another key, claiming to be the agent.
      [await signed({ by: stranger, header: agent.address }), 'bad signature'],
      // The body changed after signing.
      [await signed({ signedBody: JSON.stringify({ ...job, input: { topic: 'else' } }) }), 'bad signature'],
      // Replayed six minutes later.
      [await signed({ timestamp: Math.floor(Date.now() / 1_000) - 360 }), 'stale timestamp'],
      // Validly signed, by an agent this service does not serve.
      [await signed({ by: stranger }), 'unknown agent'],
    ]
    for (const [request, reason] of cases)
      expect(await post(request), reason).toEqual({ status: 401, body: { error: reason } })
    const unsigned = await post({
      body: JSON.stringify(job),
      headers: { 'content-type': 'application/json' },
    })
    expect(unsigned).toEqual({ status: 401, body: { error: 'missing or malformed agora-* headers' } })
    expect(handled).toHaveLength(count)
  })

  test('behavior: an error with a 4xx status refuses the job for good', async () => {
    const request = await signed({ body: JSON.stringify({ ...job, input: { topic: 'nothing' } }) })
    expect(await post(request)).toEqual({ status: 422, body: { error: 'no such topic' } })
  })
})

describe('verifyAgoraRequest', () => {
  test('behavior: accepts a signer check, and Fetch API headers', async () => {
    const request = await signed()
    const checked = await verifyAgoraRequest({
      body: request.body,
      headers: new Headers(request.headers),
      signer: (address) => address.toLowerCase() === agent.address.toLowerCase(),
    })
    expect(checked).toEqual({ ok: true, job, signer: agent.address.toLowerCase() })
  })
})

describe('examples/webhook-receiver.ts', () => {
  let child: ChildProcess
  let url: string

  beforeAll(async () => {
    const example = join(import.meta.dirname, '..', 'src', 'examples', 'webhook-receiver.ts')
    child = spawn(process.execPath, ['--import', 'tsx', example], {
      env: { ...process.env, PORT: '0', AGENT_SIGNER: agent.address },
    })
    let output = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk
    })
    const started = Date.now()
    while (!/http:\S+/.test(output)) {
      if (Date.now() - started > 60_000 || child.exitCode !== null) throw new Error(`no URL in: ${output}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    url = /http:\S+/.exec(output)![0]
  }, 90_000)
  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill()
      await once(child, 'exit')
    }
  })

  test('default: runs, answers the agent, refuses a forgery and a replay', async () => {
    const post = async (request: { body: string; headers: Record<string, string> }) =>
      (await fetch(url, { method: 'POST', ...request })).status
    const good = await signed()
    const answer = await fetch(url, { method: 'POST', ...good })
    expect(answer.status).toBe(200)
    expect(await answer.json()).toEqual({ received: job.input })
    expect(await post(await signed({ by: stranger, header: agent.address }))).toBe(401)
    expect(await post(await signed({ by: stranger }))).toBe(401)
    expect(await post(await signed({ timestamp: Math.floor(Date.now() / 1_000) - 360 }))).toBe(401)
    expect(await post({ body: '{}', headers: { 'agora-agent': 'nonsense' } })).toBe(401)
  })
})
