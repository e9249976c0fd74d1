/**
 * Signing in with Ethereum (EIP-4361) from the browser: the message is built here from the API's
 * nonce, signed by a browser wallet (an EIP-1193 provider, `personal_sign`) or, on the embedded
 * devnet, by a development account (the node signs), and exchanged for a session at `/auth/verify`.
 */
import { api, saveSession, session } from './api.js'

/** The EIP-4361 message for `address`, from what `GET /auth/nonce` said to sign. */
export function siweMessage(address, issued) {
  const now = new Date()
  const expires = new Date(now.getTime() + 5 * 60_000)
  return [
    `${issued.domain} wants you to sign in with your Ethereum account:`,
    address,
    '',
    'Sign in to Agora.',
    '',
    `URI: ${issued.uri}`,
    'Version: 1',
    `Chain ID: ${issued.chainId}`,
    `Nonce: ${issued.nonce}`,
    `Issued At: ${now.toISOString()}`,
    `Expiration Time: ${expires.toISOString()}`,
  ].join('\n')
}

/** Signs in with `sign(message)` for `address`; stores and returns the session. */
async function signInWith(address, sign) {
  const issued = await api('/auth/nonce', { auth: false })
  const message = siweMessage(address, issued)
  const signature = await sign(message)
  const verified = await api('/auth/verify', { body: { message, signature }, auth: false })
  const value = {
    token: verified.token,
    address: verified.address.toLowerCase(),
    expiresAt: verified.expiresAt,
  }
  saveSession(value)
  return value
}

/** A browser wallet (`window.ethereum`): asks for an account, then for its signature. */
export async function signInWithWallet() {
  const provider = window.ethereum
  if (!provider)
    throw new Error(
      'No browser wallet was found: install one (an EIP-1193 wallet), or use a development account.',
    )
  const [address] = await provider.request({ method: 'eth_requestAccounts' })
  if (!address) throw new Error('The wallet shared no account.')
  const checksummed = checksumOf(address)
  return signInWith(checksummed, (message) =>
    provider.request({ method: 'personal_sign', params: [toHex(message), address] }),
  )
}

/** A development account of the devnet, signed for by the node. */
export async function signInWithDevAccount(address) {
  const checksummed = checksumOf(address)
  return signInWith(checksummed, async (message) => {
    const { signature } = await api('/dashboard/dev-wallet/sign', { body: { address, message }, auth: false })
    return signature
  })
}

export async function signOut() {
  if (session()) await api('/auth/logout', { method: 'POST' }).catch(() => {})
  saveSession(null)
}

/** The development accounts the devnet offers. */
export async function devAccounts() {
  const { accounts } = await api('/dashboard/dev-wallet/accounts', { auth: false })
  return accounts
}

/** Shows who is signed in, in the page's header. */
export function showSession() {
  const element = document.getElementById('session')
  const current = session()
  if (!element) return
  element.textContent = current
    ? `Signed in as ${current.address.slice(0, 6)}…${current.address.slice(-4)}`
    : 'Not signed in'
  element.title = current?.address ?? ''
}

function toHex(text) {
  return `0x${[...new TextEncoder().encode(text)].map((b) => b.toString(16).padStart(2, '0')).join('')}`
}

/**
 * The EIP-55 checksummed address, as EIP-4361 requires in the message (keccak-256 is not in the
 * browser's crypto, so the API's own sign-in answer can't help here): computed with a small keccak.
 */
export function checksumOf(address) {
  const lower = address.toLowerCase().replace(/^0x/, '')
  const hash = keccak256Hex(new TextEncoder().encode(lower))
  let out = '0x'
  for (let i = 0; i < 40; i++) out += Number.parseInt(hash[i], 16) >= 8 ? lower[i].toUpperCase() : lower[i]
  return out
}

// Keccak-256 (the pre-standard SHA-3 Ethereum uses), for EIP-55 only: a plain sponge over 64-bit lanes as BigInts.
const roundConstants = [
  0x1n,
  0x8082n,
  0x800000000000808an,
  0x8000000080008000n,
  0x808bn,
  0x80000001n,
  0x8000000080008081n,
  0x8000000000008009n,
  0x8an,
  0x88n,
  0x80008009n,
  0x8000000an,
  0x8000808bn,
  0x800000000000008bn,
  0x8000000000008089n,
  0x8000000000008003n,
  0x8000000000008002n,
  0x8000000000000080n,
  0x800an,
  0x800000008000000an,
  0x8000000080008081n,
  0x8000000000008080n,
  0x80000001n,
  0x8000000080008008n,
]
const rotations = [
  [0, 36, 3, 41, 18],
  [1, 44, 10, 45, 2],
  [62, 6, 43, 15, 61],
  [28, 55, 25, 21, 56],
  [27, 20, 39, 8, 14],
]
const mask = (1n << 64n) - 1n
const rotl = (x, n) => (n === 0 ? x : ((x << BigInt(n)) | (x >> BigInt(64 - n))) & mask)

function keccakF(state) {
  for (const rc of roundConstants) {
    const c = [0, 1, 2, 3, 4].map(
      (x) => state[x] ^ state[x + 5] ^ state[x + 10] ^ state[x + 15] ^ state[x + 20],
    )
    for (let x = 0; x < 5; x++) {
      const d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1)
      for (let y = 0; y < 25; y += 5) state[x + y] ^= d
    }
    const b = new Array(25)
    for (let x = 0; x < 5; x++)
      for (let y = 0; y < 5; y++) b[y + ((2 * x + 3 * y) % 5) * 5] = rotl(state[x + 5 * y], rotations[x][y])
    for (let x = 0; x < 5; x++)
      for (let y = 0; y < 25; y += 5)
        state[x + y] = b[x + y] ^ (~b[((x + 1) % 5) + y] & b[((x + 2) % 5) + y] & mask)
    state[0] ^= rc
  }
}

export function keccak256Hex(bytes) {
  const rate = 136
  const padded = new Uint8Array(Math.ceil((bytes.length + 1) / rate) * rate)
  padded.set(bytes)
  padded[bytes.length] ^= 0x01
  padded[padded.length - 1] ^= 0x80
  const state = new Array(25).fill(0n)
  for (let offset = 0; offset < padded.length; offset += rate) {
    for (let i = 0; i < rate / 8; i++) {
      let lane = 0n
      for (let j = 7; j >= 0; j--) lane = (lane << 8n) | BigInt(padded[offset + i * 8 + j])
      state[i] ^= lane
    }
    keccakF(state)
  }
  let hex = ''
  for (let i = 0; i < 4; i++)
    for (let j = 0; j < 8; j++)
      hex += Number((state[i] >> BigInt(8 * j)) & 0xffn)
        .toString(16)
        .padStart(2, '0')
  return hex
}
