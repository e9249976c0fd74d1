import { ValidationError } from '@agora/db'
import { describe, expect, test } from 'vitest'
import {
  addressProblem,
  checkWebhooks,
  isDevelopmentChain,
  webhookLookup,
  webhookUrlProblem,
} from './webhook-url.ts'

const devnet = { devnet: true }
const mainnet = { devnet: false }

describe('addressProblem', () => {
  test('default: public addresses are fine everywhere', () => {
    for (const address of ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c']) {
      expect(addressProblem(address, mainnet), address).toBeUndefined()
      expect(addressProblem(address, devnet), address).toBeUndefined()
    }
  })

  test('behavior: link-local (cloud metadata), unspecified and multicast addresses are never called', () => {
    for (const address of [
      '169.254.169.254',
      '169.254.0.1',
      '0.0.0.0',
      '::',
      'fe80::1',
      'fd00:ec2::254',
      '224.0.0.1',
      '255.255.255.255',
      '::ffff:169.254.169.254',
      '::ffff:a9fe:a9fe',
    ])
      expect(addressProblem(address, devnet), address).toMatch(/link-local|reserved/)
  })

  test('behavior: loopback and private addresses only on the devnet', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '100.64.0.1',
      '::1',
      'fd12::1',
      '::ffff:127.0.0.1',
    ]) {
      expect(addressProblem(address, devnet), address).toBeUndefined()
      expect(addressProblem(address, mainnet), address).toMatch(/loopback or private/)
    }
  })
})

describe('webhookUrlProblem', () => {
  test('default: an https URL is fine; http only on the devnet', () => {
    expect(webhookUrlProblem('https://owner.example/agora', mainnet)).toBeUndefined()
    expect(webhookUrlProblem('http://owner.example/agora', mainnet)).toBe('must use https outside the devnet')
    expect(webhookUrlProblem('http://127.0.0.1:8080/agora', devnet)).toBeUndefined()
    expect(webhookUrlProblem('http://localhost:8080/agora', devnet)).toBeUndefined()
  })

  test('behavior: not a URL, another scheme, metadata hosts and the runtime itself are refused', () => {
    expect(webhookUrlProblem('owner.example/agora', devnet)).toBe('is not a URL')
    expect(webhookUrlProblem('file:///etc/passwd', devnet)).toBe('must be an http(s) URL')
    expect(webhookUrlProblem('http://169.254.169.254/latest/meta-data/', devnet)).toMatch(/link-local/)
    expect(webhookUrlProblem('https://[::ffff:169.254.169.254]/', devnet)).toMatch(/link-local/)
    expect(webhookUrlProblem('https://localhost/', mainnet)).toMatch(/local or metadata host name/)
    expect(webhookUrlProblem('https://metadata.google.internal/', mainnet)).toMatch(/metadata host name/)
    expect(webhookUrlProblem('https://10.0.0.8/', mainnet)).toMatch(/loopback or private/)
    expect(
      webhookUrlProblem('http://127.0.0.1:8787/agents', { devnet: true, publicUrl: 'http://127.0.0.1:8787' }),
    ).toBe("points at the runtime's own API")
  })
})

describe('webhookLookup', () => {
  const resolve = (hostname: string, scope: { devnet: boolean }) =>
    new Promise<{ error: NodeJS.ErrnoException | null; address: unknown }>((done) =>
      webhookLookup(scope)(hostname, { all: true }, (error, address) => done({ error, address })),
    )

  test('behavior: a name resolving to a refused address is refused when connecting', async () => {
    const refused = await resolve('localhost', mainnet)
    expect(refused.error?.code).toBe('EWEBHOOKADDRESS')
    expect(refused.error?.message).toMatch(/resolves to .*loopback/)
    const allowed = await resolve('localhost', devnet)
    expect(allowed.error).toBeNull()
    expect(allowed.address).toEqual(
      expect.arrayContaining([expect.objectContaining({ family: expect.any(Number) })]),
    )
  })
})

describe('checkWebhooks', () => {
  test('behavior: names each offering whose webhook this chain will not call', () => {
    const definition = {
      name: 'seller',
      offerings: [
        { name: 'ok', webhook: 'https://owner.example/agora' },
        { name: 'plain', webhook: 'http://owner.example/agora' },
        { name: 'code' },
      ],
    }
    expect(() => checkWebhooks({ chain: { chainId: 31337 }, publicUrl: undefined }, definition)).not.toThrow()
    let thrown: unknown
    try {
      checkWebhooks({ chain: { chainId: 8453 }, publicUrl: undefined }, definition)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(ValidationError)
    expect(thrown).toMatchObject({
      meta: {
        issues: [
          {
            path: ['offerings', '1', 'webhook'],
            message: 'offering "plain": the webhook must use https outside the devnet',
          },
        ],
      },
    })
    expect(isDevelopmentChain(31337)).toBe(true)
    expect(isDevelopmentChain(1)).toBe(false)
  })
})
