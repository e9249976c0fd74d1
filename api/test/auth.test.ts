import { defineAgent } from '@agora/runtime'
import { getAddress, hashMessage } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { createSiweMessage } from 'viem/siwe'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { domain, origin, problemOf, startTestApi, type TestApi } from './harness.ts'

let api: TestApi
beforeAll(async () => {
  api = await startTestApi()
})
afterAll(async () => {
  await api?.stop()
})

describe('GET /auth/nonce', () => {
  test('default', async () => {
    const response = await api.app.request('/auth/nonce')
    expect(response.status).toBe(200)
    const body = (await response.json()) as { nonce: string; domain: string; uri: string; chainId: number }
    expect(body).toMatchObject({
      nonce: expect.stringMatching(/^[0-9a-f]{32}$/),
      domain,
      uri: origin,
      chainId: api.chainId,
    })
    expect(await api.nonce()).not.toBe(body.nonce)
  })
})

describe('POST /auth/verify', () => {
  test('default: a signed message gives a bearer token that opens protected routes; logout closes it', async () => {
    const signed = await api.signedMessage(2)
    const response = await api.verify(signed)
    expect(response.status).toBe(200)
    const { token, address } = (await response.json()) as { token: string; address: string }
    expect(address).toBe(api.accounts[2]!.address)

    const launch = await api.call('POST', '/agents', { name: '' }, token)
    expect(launch.status).toBe(400) // authenticated: reached validation

    expect((await api.call('POST', '/auth/logout', undefined, token)).status).toBe(204)
    const after = await api.call('POST', '/agents', { name: 'x' }, token)
    expect((await problemOf(after)).status).toBe(401)
  })

  test('behavior: a replayed message is refused (the nonce is used once)', async () => {
    const signed = await api.signedMessage(3)
    expect((await api.verify(signed)).status).toBe(200)
    const replay = await problemOf(await api.verify(signed))
    expect(replay).toMatchObject({ status: 401, type: 'urn:agora:problem:nonce-used' })
  })

  test('behavior: of two concurrent uses of one message, exactly one signs in', async () => {
    const signed = await api.signedMessage(3)
    const statuses = await Promise.all(
      [api.verify(signed), api.verify(signed)].map(async (r) => (await r).status),
    )
    expect(statuses.sort()).toEqual([200, 401])
  })

  test('behavior: an expired message is refused', async () => {
    const signed = await api.signedMessage(3, {
      issuedAt: new Date(Date.now() - 120_000),
      expirationTime: new Date(Date.now() - 60_000),
    })
    expect(await problemOf(await api.verify(signed))).toMatchObject({
      status: 401,
      detail: expect.stringMatching(/expired/),
    })
  })

  test('behavior: a message issued long ago is refused even without an expiry', async () => {
    const signed = await api.signedMessage(3, {
      issuedAt: new Date(Date.now() - 3_600_000),
      expirationTime: undefined,
    })
    expect((await problemOf(await api.verify(signed))).status).toBe(401)
  })

  test('behavior: a message not valid yet is refused', async () => {
    const signed = await api.signedMessage(3, { notBefore: new Date(Date.now() + 60_000) })
    expect((await problemOf(await api.verify(signed))).status).toBe(401)
  })

  test('behavior: a message for another domain is refused', async () => {
    const signed = await api.signedMessage(3, { domain: 'evil.example' })
    expect(await problemOf(await api.verify(signed))).toMatchObject({
      status: 401,
      detail: expect.stringMatching(/evil/),
    })
  })

  test('behavior: a message whose URI is elsewhere is refused', async () => {
    const signed = await api.signedMessage(3, { uri: 'https://evil.example/login' })
    expect((await problemOf(await api.verify(signed))).status).toBe(401)
  })

  test('behavior: a message for another chain is refused', async () => {
    const signed = await api.signedMessage(3, { chainId: 1 })
    expect(await problemOf(await api.verify(signed))).toMatchObject({
      status: 401,
      detail: expect.stringMatching(/chain 1/),
    })
  })

  test('behavior: a forged signature is refused, and the nonce stays usable for its owner', async () => {
    const real = await api.signedMessage(3)
    const forged = await api.signedMessage(4, { nonce: real.message.match(/Nonce: (\w+)/)![1]! })
    // Account 4 signs a message that claims to be account 3.
    const claim = { message: real.message, signature: forged.signature }
    expect(await problemOf(await api.verify(claim))).toMatchObject({
      status: 401,
      detail: expect.stringMatching(/signature/),
    })
    expect((await api.verify(real)).status).toBe(200)
  })

  test('behavior: an unknown nonce is refused', async () => {
    const signed = await api.signedMessage(3, { nonce: 'a'.repeat(32) })
    expect((await problemOf(await api.verify(signed))).status).toBe(401)
  })

  test("behavior: a smart-contract wallet (an agent's Safe) signs in through ERC-1271", async () => {
    const owner = privateKeyToAccount(api.accounts[5]!.privateKey)
    const agent = await api.embedded.runtime.launch(defineAgent({ name: 'vault' }), { owner: owner.address })
    const safe = getAddress((await agent.info()).safe!)
    const message = createSiweMessage({
      domain,
      address: safe,
      uri: origin,
      version: '1',
      chainId: api.chainId,
      nonce: await api.nonce(),
      issuedAt: new Date(),
    })
    // A Safe owner approves the message in the Safe's own EIP-712 domain (what Safe wallets do).
    const signature = await owner.signTypedData({
      domain: { chainId: api.chainId, verifyingContract: safe },
      types: { SafeMessage: [{ name: 'message', type: 'bytes' }] },
      primaryType: 'SafeMessage',
      message: { message: hashMessage(message) },
    })
    const response = await api.verify({ message, signature })
    expect(response.status, await response.clone().text()).toBe(200)
    expect(await response.json()).toMatchObject({ address: safe })

    // The owner's plain signature is not the Safe's.
    const plain = createSiweMessage({
      domain,
      address: safe,
      uri: origin,
      version: '1',
      chainId: api.chainId,
      nonce: await api.nonce(),
      issuedAt: new Date(),
    })
    const refused = await api.verify({
      message: plain,
      signature: await owner.signMessage({ message: plain }),
    })
    expect((await problemOf(refused)).status).toBe(401)
  })

  test('behavior: bad bodies are 400 problems with field paths', async () => {
    const missing = await problemOf(await api.verify({ message: 'hi' }))
    expect(missing.errors).toEqual([expect.objectContaining({ path: 'signature' })])
    const unknown = await problemOf(await api.verify({ message: 'hi', signature: '0x', admin: true }))
    expect(unknown.status).toBe(400)
    const wrongType = await problemOf(await api.verify({ message: 42, signature: '0x' }))
    expect(wrongType.errors?.[0]?.path).toBe('message')
    const garbage = await problemOf(await api.verify({ message: 'not a siwe message', signature: '0x00' }))
    expect(garbage.errors?.[0]?.path).toBe('message')
    const array = await problemOf(await api.verify([1, 2]))
    expect(array.errors?.[0]?.path).toBe('(body)')
  })

  test('behavior: sign-in attempts are limited per client', async () => {
    const limited = api.appWith({ signInLimit: { max: 2, windowMs: 60_000 } })
    const attempt = (ip: string) =>
      limited.request(
        '/auth/verify',
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
        { incoming: { socket: { remoteAddress: ip } } },
      )
    expect((await attempt('10.0.0.1')).status).toBe(400)
    expect((await attempt('10.0.0.1')).status).toBe(400)
    const third = await attempt('10.0.0.1')
    expect((await problemOf(third)).status).toBe(429)
    expect(third.headers.get('retry-after')).toBe('60')
    expect((await attempt('10.0.0.2')).status).toBe(400)
    const nonces = []
    for (let i = 0; i < 7; i++)
      nonces.push(
        (await limited.request('/auth/nonce', {}, { incoming: { socket: { remoteAddress: '10.0.0.3' } } }))
          .status,
      )
    expect(nonces).toEqual([200, 200, 200, 200, 200, 200, 429])
  })
})

describe('requireAuth', () => {
  test('behavior: no token, or an unknown one, is a 401 problem', async () => {
    const none = await api.call('POST', '/agents', { name: 'x' })
    expect((await problemOf(none)).status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe('Bearer')
    const unknown = await api.call('POST', '/agents', { name: 'x' }, 'not-a-token')
    expect((await problemOf(unknown)).status).toBe(401)
  })
})
