/**
 * `npm run sign-in -w @agora/api [-- <private key>]`: signs in to a running API with Sign-In with
 * Ethereum and prints the bearer token (only the token goes to stdout, so `TOKEN=$(…)` works).
 * Without a key it uses the devnet's development account #1. The API is found at `API_URL`, else
 * at `http://localhost:$PORT` (the port `npm start` listens on; 8787 by default). Every failure is
 * one line on stderr and a non-zero exit, never a stack trace.
 */

import { devMnemonic } from '@agora/contracts'
import { type Hex, isHex } from 'viem'
import { mnemonicToAccount, privateKeyToAccount } from 'viem/accounts'
import { createSiweMessage } from 'viem/siwe'

const api = (process.env.API_URL ?? `http://localhost:${process.env.PORT || 8787}`).replace(/\/+$/, '')
const key = process.argv[2]
if (key !== undefined && !(isHex(key) && key.length === 66)) {
  console.error('The private key must be 32 bytes of 0x-prefixed hex.')
  process.exit(2)
}
const account = key ? privateKeyToAccount(key as Hex) : mnemonicToAccount(devMnemonic, { addressIndex: 1 })

/** Stops with one line on stderr: what went wrong and what to do. */
function fail(line: string, code = 1): never {
  console.error(line)
  process.exit(code)
}

/** A request to the API; an API that does not answer (or is not one) ends the script with one line. */
async function request(
  path: string,
  init?: RequestInit,
): Promise<{ status: number; ok: boolean; body: unknown }> {
  let response: Response
  try {
    response = await fetch(`${api}${path}`, { ...init, signal: AbortSignal.timeout(10_000) })
  } catch (error) {
    const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name
    fail(
      `The Agora API is not reachable at ${api} (${reason}). Start it with \`npm start\`, or set API_URL (or PORT) to where it runs.`,
    )
  }
  const text = await response.text()
  try {
    return { status: response.status, ok: response.ok, body: JSON.parse(text) }
  } catch {
    fail(
      `${api}${path} answered HTTP ${response.status} without JSON: is API_URL (or PORT) pointing at the Agora API?`,
    )
  }
}

const nonce = await request('/auth/nonce')
const issued = nonce.body as {
  nonce?: string
  domain?: string
  uri?: string
  chainId?: number
  detail?: string
}
if (!nonce.ok || !issued.nonce || !issued.domain || !issued.uri || !issued.chainId)
  fail(`Sign-in failed: ${api}/auth/nonce answered HTTP ${nonce.status}: ${issued.detail ?? 'no nonce'}`)
const message = createSiweMessage({
  domain: issued.domain,
  address: account.address,
  uri: issued.uri,
  version: '1',
  chainId: issued.chainId,
  nonce: issued.nonce,
  issuedAt: new Date(),
  expirationTime: new Date(Date.now() + 5 * 60_000),
  statement: 'Sign in to Agora.',
})
const verified = await request('/auth/verify', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ message, signature: await account.signMessage({ message }) }),
})
const body = verified.body as { token?: string; detail?: string }
if (!verified.ok || !body.token)
  fail(`Sign-in failed (HTTP ${verified.status}): ${body.detail ?? 'no detail'}`)
console.error(`Signed in to ${api} as ${account.address}`)
console.log(body.token)
