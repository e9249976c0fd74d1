import { randomBytes } from 'node:crypto'
import { BaseError } from '@agora/db'
import { describe, expect, test } from 'vitest'
import { createKeyVault } from './key-vault.ts'

const binding = (address: string) => ({ address, purpose: 'model-api-key' as const })

describe('sealSecret', () => {
  const keys = createKeyVault(randomBytes(32))
  const { address, sealed: agentKey } = keys.create()

  test('default: a secret opens again with the same binding, and the sealed text does not contain it', () => {
    const sealed = keys.sealSecret('sk-live-0123456789', binding(address))
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/)
    expect(sealed).not.toContain('sk-live')
    expect(keys.openSecret(sealed, binding(address))).toBe('sk-live-0123456789')
    // The address's case does not matter (rows keep it lower-case, viem checksums it).
    expect(keys.openSecret(sealed, binding(address.toLowerCase()))).toBe('sk-live-0123456789')
  })

  test('behavior: each sealing is fresh (a random IV), so equal keys do not look equal at rest', () => {
    expect(keys.sealSecret('sk-same', binding(address))).not.toBe(
      keys.sealSecret('sk-same', binding(address)),
    )
  })

  test('behavior: a sealed secret does not open for another agent, another master key, or as an agent key', () => {
    const sealed = keys.sealSecret('sk-live-0123456789', binding(address))
    const other = keys.create().address
    const refused = (run: () => unknown) => {
      try {
        run()
      } catch (error) {
        expect(error).toBeInstanceOf(BaseError)
        expect((error as BaseError).code).toBe('INVALID_CONFIG')
        expect((error as BaseError).message).not.toContain('sk-live')
        return
      }
      throw new Error('expected a refusal')
    }
    refused(() => keys.openSecret(sealed, binding(other)))
    refused(() => createKeyVault(randomBytes(32)).openSecret(sealed, binding(address)))
    // The agent's own key and a secret are bound to different data: neither opens as the other.
    refused(() => keys.open(sealed, address))
    refused(() => keys.openSecret(agentKey, binding(address)))
    expect(keys.open(agentKey, address)).toMatch(/^0x[0-9a-f]{64}$/)
  })

  test('behavior: a tampered secret is refused', () => {
    const sealed = keys.sealSecret('sk-live-0123456789', binding(address))
    const [version, iv, tag, body] = sealed.split('.') as [string, string, string, string]
    const flipped = Buffer.from(body, 'base64url')
    flipped[0]! ^= 1
    expect(() =>
      keys.openSecret([version, iv, tag, flipped.toString('base64url')].join('.'), binding(address)),
    ).toThrow(/could not be decrypted/)
    expect(() => keys.openSecret('v2.x', binding(address))).toThrow(/malformed/)
  })
})
