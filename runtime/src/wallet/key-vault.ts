import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { ConfigError, InternalError } from '@agora/db'
import type { Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'

/**
 * Agent keys are encrypted at rest with AES-256-GCM under a 32-byte master key. A sealed key reads
 * `v1.<iv>.<tag>.<ciphertext>` (base64url); the agent's address is the associated data, so a sealed
 * key cannot be swapped between agents unnoticed.
 */
export type KeyVault = {
  /** Generates a new agent key and returns its address with the key sealed. */
  create(): { address: Hex; sealed: string }
  /** Opens a sealed key; the address must be the one it was sealed for. */
  open(sealed: string, address: Hex): Hex
  /**
   * Seals another secret of an agent (its model's API key) the same way, bound to the agent's
   * signer address and to a purpose: a sealed secret cannot be moved to another agent, nor opened
   * as another kind of secret (or as the agent's key).
   */
  sealSecret(secret: string, binding: SecretBinding): string
  /** Opens what `sealSecret` sealed, with the same binding. */
  openSecret(sealed: string, binding: SecretBinding): string
}

/** What a sealed secret is bound to: the agent (its signer address) and what the secret is for. */
export type SecretBinding = { address: string; purpose: SecretPurpose }
export type SecretPurpose = 'model-api-key'

/**
 * @example
 * const keys = createKeyVault(masterKey)
 * const { address, sealed } = keys.create()
 * const modelKey = keys.sealSecret('sk-…', { address, purpose: 'model-api-key' })
 * keys.openSecret(modelKey, { address, purpose: 'model-api-key' }) // 'sk-…'
 */
export function createKeyVault(masterKey: Uint8Array): KeyVault {
  if (masterKey.length !== 32) {
    throw new ConfigError('The master key must be 32 bytes (64 hex characters).')
  }
  const seal = (plaintext: Buffer, associatedData: string) => {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', masterKey, iv)
    cipher.setAAD(Buffer.from(associatedData))
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
    return ['v1', iv, cipher.getAuthTag(), body]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.')
  }
  const open = (sealed: string, associatedData: string, what: string): Buffer => {
    const [version, iv, tag, body] = sealed.split('.')
    if (version !== 'v1' || !iv || !tag || !body) {
      throw new InternalError(`A sealed ${what} is malformed.`)
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', masterKey, Buffer.from(iv, 'base64url'))
      decipher.setAAD(Buffer.from(associatedData))
      decipher.setAuthTag(Buffer.from(tag, 'base64url'))
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()])
    } catch (cause) {
      throw new ConfigError(
        `An ${what} could not be decrypted: wrong master key, or it was tampered with or sealed for another agent.`,
        { cause },
      )
    }
  }
  // The agent key's associated data is its bare address (as first sealed); a secret's adds its
  // purpose, so the two can never be taken for one another.
  const secretData = ({ address, purpose }: SecretBinding) => `${address.toLowerCase()}:${purpose}`
  return {
    create() {
      const privateKey = generatePrivateKey()
      const address = privateKeyToAccount(privateKey).address
      return { address, sealed: seal(Buffer.from(privateKey.slice(2), 'hex'), address.toLowerCase()) }
    },
    open(sealed, address) {
      return `0x${open(sealed, address.toLowerCase(), 'agent key').toString('hex')}` as Hex
    },
    sealSecret(secret, binding) {
      return seal(Buffer.from(secret, 'utf8'), secretData(binding))
    },
    openSecret(sealed, binding) {
      return open(sealed, secretData(binding), 'agent secret').toString('utf8')
    },
  }
}

/** Parses a master key given as 64 hex characters (with or without 0x). */
export function parseMasterKey(text: string): Uint8Array {
  const hex = text.trim().replace(/^0x/, '')
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new ConfigError('The master key must be 64 hex characters (32 bytes).')
  }
  return Buffer.from(hex, 'hex')
}

/**
 * The devnet's master key: generated on first use and kept (mode 0600) at `path`, so agents survive
 * restarts without configuration. Production passes its own key instead.
 */
export function loadOrCreateMasterKey(path: string): Uint8Array {
  if (existsSync(path)) return parseMasterKey(readFileSync(path, 'utf8'))
  mkdirSync(dirname(path), { recursive: true })
  const key = randomBytes(32)
  writeFileSync(path, `${key.toString('hex')}\n`, { mode: 0o600 })
  return key
}
