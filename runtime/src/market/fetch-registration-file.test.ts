import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  fetchRegistrationFile,
  type RegistrationFileContext,
  RegistrationFileRefused,
} from './fetch-registration-file.ts'

const registry = '0x00000000000000000000000000000000000000Aa'
const devnet: RegistrationFileContext = {
  chain: { chainId: 31337, contracts: { identityRegistry: registry } },
}
const publicChain: RegistrationFileContext = {
  chain: { chainId: 8453, contracts: { identityRegistry: registry } },
}

const file = (overrides: Record<string, unknown> = {}) => ({
  type: 'https://eips.ethereum.org/EIPS/eip-8004#registration-v1',
  name: 'scribe',
  description: 'Writes things down.',
  image: '',
  services: [{ name: 'agora', endpoint: 'http://127.0.0.1:1/api' }],
  x402Support: false,
  active: true,
  registrations: [{ agentId: 7, agentRegistry: `eip155:31337:${registry.toLowerCase()}` }],
  supportedTrust: ['reputation'],
  offerings: [
    {
      name: 'summarize',
      description: 'Short summaries',
      price: { value: '1500000', decimals: 6, token: registry, symbol: 'dUSD', formatted: '1.5' },
      capabilities: ['text'],
      inputSchema: { type: 'object' },
      outputSchema: null,
      x402: null,
    },
  ],
  ...overrides,
})

type Route = (request: IncomingMessage, response: ServerResponse) => void
const routes: Record<string, Route> = {
  '/ok': (_, res) => json(res, file({ extra: { ignored: true } })),
  '/minimal': (_, res) => {
    const { image: _i, x402Support: _x, supportedTrust: _s, offerings: _o, ...rest } = file()
    json(res, rest)
  },
  '/slow': () => {}, // never answers
  '/drip': (_, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.write('{"name":')
    // The rest never comes.
  },
  '/declared-huge': (_, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024) })
    res.write('{')
  },
  '/streamed-huge': (_, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    const chunk = Buffer.alloc(64 * 1024, 32)
    let sent = 0
    const pump = () => {
      while (sent < 64 * 1024 * 1024) {
        sent += chunk.length
        streamed = sent
        if (!res.write(chunk)) return void res.once('drain', pump)
      }
      res.end()
    }
    res.on('close', () => res.removeAllListeners('drain'))
    pump()
  },
  '/malformed': (_, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{"name": "scribe",')
  },
  '/array': (_, res) => json(res, [file()]),
  '/html': (_, res) => {
    res.writeHead(200, { 'content-type': 'text/html' })
    res.end(JSON.stringify(file()))
  },
  '/gzip': (_, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
    res.end('not really gzip')
  },
  '/missing': (_, res) => {
    res.writeHead(404)
    res.end()
  },
  '/redirect': (_, res) => redirect(res, '/ok'),
  '/redirect-loop': (_, res) => redirect(res, '/redirect-loop'),
  '/redirect-metadata': (_, res) => redirect(res, 'http://169.254.169.254/latest/meta-data'),
  '/redirect-file': (_, res) => redirect(res, 'file:///etc/passwd'),
  '/other-agent': (_, res) =>
    json(res, file({ registrations: [{ agentId: 8, agentRegistry: `eip155:31337:${registry}` }] })),
  '/other-chain': (_, res) =>
    json(res, file({ registrations: [{ agentId: 7, agentRegistry: `eip155:1:${registry}` }] })),
  '/not-a-file': (_, res) => json(res, { name: 'scribe', offerings: 'everything' }),
  '/nul': (_, res) => json(res, file({ description: 'a\u0000b' })),
  '/surrogate': (_, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(file()).replace('Writes things down.', 'Writes \\ud800 down.'))
  },
  '/deep': (_, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(`${'['.repeat(100)}${']'.repeat(100)}`.replace(/^\[/, '{"a":[').replace(/\]$/, ']}'))
  },
  '/twice': (_, res) => json(res, file({ offerings: [file().offerings[0], file().offerings[0]] })),
}

let server: Server
let base: string
let streamed = 0

function json(res: ServerResponse, body: unknown) {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
  res.end(JSON.stringify(body))
}

function redirect(res: ServerResponse, location: string) {
  res.writeHead(302, { location })
  res.end()
}

beforeAll(async () => {
  server = createServer((req, res) => (routes[req.url ?? ''] ?? routes['/missing']!)(req, res))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  server.close()
})

async function refusal(
  uri: string,
  options: { client?: RegistrationFileContext; timeoutMs?: number } = {},
): Promise<string> {
  const error = await fetchRegistrationFile(options.client ?? devnet, {
    uri,
    chainAgentId: '7',
    timeoutMs: options.timeoutMs ?? 2_000,
  }).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(RegistrationFileRefused)
  return (error as RegistrationFileRefused).shortMessage
}

describe('fetchRegistrationFile', () => {
  test('default: fetched, checked, unknown fields left out', async () => {
    const { file: fetched, hash } = await fetchRegistrationFile(devnet, {
      uri: `${base}/ok`,
      chainAgentId: '7',
    })
    expect(fetched).toMatchObject({
      name: 'scribe',
      offerings: [{ name: 'summarize', capabilities: ['text'] }],
    })
    expect(fetched).not.toHaveProperty('extra')
    expect(hash).toMatch(/^0x[0-9a-f]{64}$/)
    const again = await fetchRegistrationFile(devnet, { uri: `${base}/ok`, chainAgentId: '7' })
    expect(again.hash).toBe(hash)
  })

  test("behavior: ERC-8004's optional fields may be left out", async () => {
    const { file: fetched } = await fetchRegistrationFile(devnet, {
      uri: `${base}/minimal`,
      chainAgentId: '7',
    })
    expect(fetched).toMatchObject({ image: '', x402Support: false, supportedTrust: [], offerings: [] })
  })

  test('behavior: data:application/json URIs, base64 or percent-encoded', async () => {
    const text = JSON.stringify(file())
    const base64 = `data:application/json;base64,${Buffer.from(text).toString('base64')}`
    const plain = `data:application/json;charset=utf-8,${encodeURIComponent(text)}`
    for (const uri of [base64, plain])
      expect((await fetchRegistrationFile(devnet, { uri, chainAgentId: '7' })).file.name).toBe('scribe')
    expect(await refusal(`data:text/html,${encodeURIComponent(text)}`)).toBe(
      'its data: URI is not application/json',
    )
  })

  test('behavior: a slow server is cut off at the time limit', async () => {
    const started = Date.now()
    expect(await refusal(`${base}/slow`, { timeoutMs: 300 })).toBe('it did not arrive within 300 ms')
    expect(await refusal(`${base}/drip`, { timeoutMs: 300 })).toBe('it did not arrive within 300 ms')
    expect(Date.now() - started).toBeLessThan(2_000)
  })

  test('behavior: a file too large is refused from its header, or while it streams in', async () => {
    expect(await refusal(`${base}/declared-huge`)).toBe('it is larger than 262144 bytes')
    expect(await refusal(`${base}/streamed-huge`)).toBe('it is larger than 262144 bytes')
    // Refused while streaming: far less than the 64 MiB the server meant to send was read.
    expect(streamed).toBeLessThan(16 * 1024 * 1024)
  })

  test('behavior: only JSON objects, served as JSON, unencoded', async () => {
    expect(await refusal(`${base}/malformed`)).toBe('it is not JSON')
    expect(await refusal(`${base}/array`)).toBe('it is not a JSON object')
    expect(await refusal(`${base}/html`)).toBe('it is served as text/html, not JSON')
    expect(await refusal(`${base}/gzip`)).toBe('it is served gzip-encoded')
    expect(await refusal(`${base}/missing`)).toBe('it answered HTTP 404')
    expect(await refusal(`${base}/not-a-file`)).toMatch(/^it is not a registration file \(/)
    expect(await refusal(`${base}/nul`)).toBe('it holds NUL characters')
    expect(await refusal(`${base}/surrogate`)).toBe('it holds malformed Unicode (a lone surrogate)')
    expect(await refusal(`${base}/deep`)).toBe('it nests deeper than 32 levels')
    expect(await refusal(`${base}/twice`)).toBe('it lists the offering "summarize" twice')
  })

  test('behavior: a file that claims another identity is refused', async () => {
    expect(await refusal(`${base}/other-agent`)).toBe(
      `it does not name agent 7 of eip155:31337:${registry.toLowerCase()} among its registrations`,
    )
    expect(await refusal(`${base}/other-chain`)).toMatch(/^it does not name agent 7 of eip155:31337:/)
  })

  test('behavior: redirects are followed a few times, each checked again', async () => {
    const { file: fetched } = await fetchRegistrationFile(devnet, {
      uri: `${base}/redirect`,
      chainAgentId: '7',
    })
    expect(fetched.name).toBe('scribe')
    expect(await refusal(`${base}/redirect-loop`)).toBe('it redirects more than 3 times')
    expect(await refusal(`${base}/redirect-metadata`)).toBe(
      'it redirects to http://169.254.169.254/latest/meta-data, which points at 169.254.169.254: a link-local, unspecified, multicast or reserved address',
    )
    expect(await refusal(`${base}/redirect-file`)).toBe(
      'it redirects to file:///etc/passwd, which must be an http(s) URL',
    )
  })

  test('behavior: outside development chains, https only and never a local address', async () => {
    const port = (server.address() as AddressInfo).port
    expect(await refusal(`${base}/ok`, { client: publicChain })).toBe(
      'its URI must use https outside the devnet',
    )
    expect(await refusal(`https://127.0.0.1:${port}/ok`, { client: publicChain })).toBe(
      'its URI points at 127.0.0.1: a loopback or private address (allowed on the devnet only)',
    )
    expect(await refusal(`https://localhost:${port}/ok`, { client: publicChain })).toBe(
      'its URI points at localhost, a local or metadata host name',
    )
    expect(await refusal(`https://[::1]:${port}/ok`, { client: publicChain })).toMatch(/loopback or private/)
    expect(await refusal('ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi')).toBe(
      'its URI must be an http(s) URL',
    )
    expect(await refusal('')).toBe('its URI is not a URL')
  })
})
