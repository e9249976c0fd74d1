import { describe, expect, test } from 'vitest'
// The browser module itself: it touches no browser API until it is called.
// @ts-expect-error a plain ES module without types, served to the browser as written
import { checksumOf, keccak256Hex, siweMessage } from '../static/js/session.js'

const bytes = (text: string) => new TextEncoder().encode(text)

describe('keccak256Hex', () => {
  test('default: the known digests (empty, short, longer than one block)', () => {
    expect(keccak256Hex(bytes(''))).toBe('c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470')
    expect(keccak256Hex(bytes('abc'))).toBe(
      '4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45',
    )
    expect(keccak256Hex(bytes('a'.repeat(200)))).toHaveLength(64)
  })
})

describe('checksumOf', () => {
  test('default: the EIP-55 examples', () => {
    for (const address of [
      '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
      '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
      '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
      '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
    ])
      expect(checksumOf(address.toLowerCase())).toBe(address)
  })
})

describe('siweMessage', () => {
  test('default: an EIP-4361 message naming what the nonce said to sign', () => {
    const message: string = siweMessage('0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', {
      domain: 'localhost:8787',
      uri: 'http://localhost:8787',
      chainId: 31337,
      nonce: 'abc123',
    })
    const lines = message.split('\n')
    expect(lines[0]).toBe('localhost:8787 wants you to sign in with your Ethereum account:')
    expect(lines[1]).toBe('0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed')
    expect(lines).toContain('URI: http://localhost:8787')
    expect(lines).toContain('Chain ID: 31337')
    expect(lines).toContain('Nonce: abc123')
  })
})
