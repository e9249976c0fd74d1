import { agentModuleAbi, type Devnet, devUSDAbi, multiSendCallOnlyAbi, safeAbi } from '@agora/contracts'
import { type AgentDefinition, type EmbeddedRuntime, safeTxTypes, startEmbeddedRuntime } from '@agora/runtime'
import { serve } from '@hono/node-server'
import {
  type Address,
  concatHex,
  createPublicClient,
  createWalletClient,
  encodeFunctionData,
  encodePacked,
  type Hex,
  http,
  parseUnits,
  size,
  zeroAddress,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { createSiweMessage } from 'viem/siwe'
import { expect } from 'vitest'
import { type App, type CreateAppParameters, createApp } from '../src/app.ts'

export const domain = 'api.test'
export const origin = 'https://api.test'

export type TestApi = Awaited<ReturnType<typeof startTestApi>>

/** A real runtime on a fresh devnet, and the API over it (no socket: `app.request`). */
export async function startTestApi(options: Partial<CreateAppParameters> = {}) {
  const embedded: EmbeddedRuntime = await startEmbeddedRuntime({ log: () => {} })
  /**
   * Another app over the same runtime and database, with `options` and none of the suite app's own
   * settings: the default sign-in limit, no devnet faucet. For limits tested on an app of their own.
   */
  const appWith = (options: Partial<CreateAppParameters> = {}) =>
    createApp({ runtime: embedded.runtime, db: embedded.db, domain, origin, log: () => {}, ...options })
  // Every test signs in from the same (socketless) client: the sign-in limit is tested on its own app.
  const app = appWith({
    signInLimit: { max: 1_000, windowMs: 60_000 },
    devnetRpcUrl: embedded.devnet.rpcUrl,
    ...options,
  })
  return { ...apiHelpers(app, embedded.devnet), embedded, appWith, stop: embedded.stop }
}

/**
 * A real runtime on a fresh devnet with `definitions`, and the API over it on a real socket (for
 * clients that speak HTTP themselves: x402 clients, scripts). `fund` sends dUSD from account 1.
 */
export async function serveTestApi(definitions: AgentDefinition[]) {
  const embedded = await startEmbeddedRuntime({ definitions, log: () => {} })
  const app = createApp({ runtime: embedded.runtime, db: embedded.db, domain, log: () => {} })
  let server: ReturnType<typeof serve> | undefined
  const baseUrl = await new Promise<string>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
      resolve(`http://127.0.0.1:${info.port}`),
    )
  })
  return {
    embedded,
    devnet: embedded.devnet,
    baseUrl,
    fund: apiHelpers(app, embedded.devnet).fund,
    async stop() {
      server?.close()
      await embedded.stop()
    },
  }
}

/** Sign-in, requests and funding for an app over `devnet` (whatever runtime it serves). */
export function apiHelpers(app: App, devnet: Devnet) {
  const accounts = devnet.manifest.accounts
  const chainId = devnet.manifest.chainId

  async function nonce(): Promise<string> {
    const response = await app.request('/auth/nonce')
    return ((await response.json()) as { nonce: string }).nonce
  }

  /** A signed SIWE message from development account `i`; `overrides` bend single fields. */
  async function signedMessage(i: number, overrides: Partial<Parameters<typeof createSiweMessage>[0]> = {}) {
    const account = privateKeyToAccount(accounts[i]!.privateKey)
    const message = createSiweMessage({
      domain,
      address: account.address,
      uri: `${origin}/login`,
      version: '1',
      chainId,
      nonce: overrides.nonce ?? (await nonce()),
      issuedAt: new Date(),
      expirationTime: new Date(Date.now() + 5 * 60_000),
      ...overrides,
    })
    return { message, signature: await account.signMessage({ message }) }
  }

  function verify(body: unknown) {
    return app.request('/auth/verify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  }

  /** Signs development account `i` in; returns its bearer token. */
  async function signIn(i: number): Promise<{ token: string; address: Address }> {
    const response = await verify(await signedMessage(i))
    if (response.status !== 200) throw new Error(`sign-in failed: ${await response.text()}`)
    return (await response.json()) as { token: string; address: Address }
  }

  /** A JSON request, signed in when a token is given; `headers` adds to it. */
  function call(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
    headers: Record<string, string> = {},
  ) {
    return app.request(path, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  }

  /** Sends `amount` dUSD from development account 1. */
  async function fund(to: string, amount: string) {
    const wallet = createWalletClient({
      account: privateKeyToAccount(accounts[1]!.privateKey as Hex),
      chain: devnet.chain,
      transport: http(devnet.rpcUrl),
    })
    const hash = await wallet.writeContract({
      address: devnet.manifest.contracts.devUSD,
      abi: devUSDAbi,
      functionName: 'transfer',
      args: [to as Address, parseUnits(amount, 6)],
    })
    await createPublicClient({
      chain: devnet.chain,
      transport: http(devnet.rpcUrl),
    }).waitForTransactionReceipt({
      hash,
    })
  }

  return { app, chainId, accounts, nonce, signedMessage, verify, signIn, call, fund }
}

/** Every error response has the one problem shape. */
export async function problemOf(response: Response) {
  expect(response.headers.get('content-type')).toContain('application/problem+json')
  const body = (await response.json()) as {
    type: string
    title: string
    status: number
    code: string
    detail: string
    errors?: { path: string; message: string }[]
    contractError?: { name: string; args: string[] }
  }
  expect(body).toMatchObject({
    type: expect.any(String),
    title: expect.any(String),
    code: expect.any(String),
    detail: expect.any(String),
  })
  expect(body.type).toBe(`urn:agora:problem:${body.code.toLowerCase().replaceAll('_', '-')}`)
  expect(body.status).toBe(response.status)
  return body
}

/**
 * Makes an agent's Safe what agents launched before the agent module had: its key an owner, the
 * module disabled. Its owner (development account `ownerIndex`) does it with its own Safe
 * transaction, signed with viem and sent by itself: no runtime in the way.
 */
export async function makeOlderAgent(devnet: Devnet, ownerIndex: number, safe: Address, key: Address) {
  const { contracts, safe: safeContracts, chainId } = devnet.manifest
  const owner = privateKeyToAccount(devnet.manifest.accounts[ownerIndex]!.privateKey)
  const transport = http(devnet.rpcUrl)
  const publicClient = createPublicClient({ chain: devnet.chain, transport })
  const calls = [
    {
      to: safe,
      data: encodeFunctionData({ abi: safeAbi, functionName: 'addOwnerWithThreshold', args: [key, 1n] }),
    },
    {
      to: contracts.module,
      data: encodeFunctionData({ abi: agentModuleAbi, functionName: 'setAgentKey', args: [zeroAddress] }),
    },
    {
      to: safe,
      data: encodeFunctionData({
        abi: safeAbi,
        functionName: 'disableModule',
        args: [sentinel, contracts.module],
      }),
    },
  ]
  const packed = concatHex(
    calls.map((c) =>
      encodePacked(
        ['uint8', 'address', 'uint256', 'uint256', 'bytes'],
        [0, c.to, 0n, BigInt(size(c.data)), c.data],
      ),
    ),
  )
  const message = {
    to: safeContracts.multiSendCallOnly,
    value: 0n,
    data: encodeFunctionData({ abi: multiSendCallOnlyAbi, functionName: 'multiSend', args: [packed] }),
    operation: 1,
    safeTxGas: 0n,
    baseGas: 0n,
    gasPrice: 0n,
    gasToken: zeroAddress,
    refundReceiver: zeroAddress,
    nonce: await publicClient.readContract({ address: safe, abi: safeAbi, functionName: 'nonce' }),
  } as const
  const signature = await owner.signTypedData({
    domain: { chainId, verifyingContract: safe },
    types: safeTxTypes,
    primaryType: 'SafeTx',
    message,
  })
  const wallet = createWalletClient({ account: owner, chain: devnet.chain, transport })
  const hash = await wallet.writeContract({
    address: safe,
    abi: safeAbi,
    functionName: 'execTransaction',
    args: [
      message.to,
      message.value,
      message.data,
      message.operation,
      message.safeTxGas,
      message.baseGas,
      message.gasPrice,
      message.gasToken,
      message.refundReceiver,
      signature,
    ],
  })
  const receipt = await publicClient.waitForTransactionReceipt({ hash })
  expect(receipt.status).toBe('success')
}

const sentinel = '0x0000000000000000000000000000000000000001'

export { safeTxTypes }
