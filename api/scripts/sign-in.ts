/**
 * `npm run sign-in -w @agora/api [-- <private key>]`: signs in to a running API with Sign-In with
 * Ethereum and prints the bearer token. Without a key it uses the devnet's development account #1.
 * The API is found at API_URL (default http://localhost:8787).
 */

import { devMnemonic } from '@agora/contracts'
import { type Hex, isHex } from 'viem'
import { mnemonicToAccount, privateKeyToAccount } from 'viem/accounts'
import { createSiweMessage } from 'viem/siwe'

const api = process.env.API_URL ?? 'http://localhost:8787'
const key = process.argv[2]
if (key !== undefined && !(isHex(key) && key.length === 66)) {
  console.error('The private key must be 32 bytes of 0x-prefixed hex.')
  process.exit(2)
}
const account = key ? privateKeyToAccount(key as Hex) : mnemonicToAccount(devMnemonic, { addressIndex: 1 })

const issued = (await (await fetch(`${api}/auth/nonce`)).json()) as {
  nonce: string
  domain: string
  uri: string
  chainId: number
}
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
const response = await fetch(`${api}/auth/verify`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ message, signature: await account.signMessage({ message }) }),
})
const body = (await response.json()) as { token?: string; detail?: string }
if (!response.ok || !body.token) {
  console.error(`Sign-in failed (${response.status}): ${body.detail ?? 'no detail'}`)
  process.exit(1)
}
console.error(`Signed in as ${account.address}`)
console.log(body.token)
