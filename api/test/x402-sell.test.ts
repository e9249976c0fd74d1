import { agentFactoryAbi, type Devnet, devUSDAbi, safeContractNetworks } from '@agora/contracts'
import type { EmbeddedRuntime } from '@agora/runtime'
import protocolKit from '@safe-global/protocol-kit'
import { x402Client } from '@x402/core/client'
import {
  decodePaymentRequiredHeader,
  decodePaymentResponseHeader,
  encodePaymentSignatureHeader,
} from '@x402/core/http'
import type { PaymentRequirements } from '@x402/core/types'
import type { ClientEvmSigner } from '@x402/evm'
import { ExactEvmScheme } from '@x402/evm/exact/client'
import { wrapFetchWithPayment } from '@x402/fetch'
import {
  type Address,
  createPublicClient,
  createWalletClient,
  type Hex,
  hashTypedData,
  http,
  pad,
  parseEventLogs,
  parseUnits,
  type TypedDataDefinition,
  toHex,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { serveTestApi } from './harness.ts'
import { upperAgent } from './upper-agent.ts'

/** protocol-kit's CommonJS-flavoured types put the class at `default.default`; Node loads the ES build. */
const Safe = ('init' in protocolKit ? protocolKit : protocolKit.default) as typeof protocolKit.default

let embedded: EmbeddedRuntime
let devnet: Devnet
let baseUrl: string
let served: Awaited<ReturnType<typeof serveTestApi>>
let seller: { chainAgentId: string; safe: Address; id: string }
const publicClient = () => createPublicClient({ chain: devnet.chain, transport: http(devnet.rpcUrl) })
const account = (i: number) => privateKeyToAccount(devnet.manifest.accounts[i]!.privateKey)
const dUSD = (amount: string) => parseUnits(amount, 6)

async function balanceOf(address: Address) {
  return publicClient().readContract({
    address: devnet.manifest.contracts.devUSD,
    abi: devUSDAbi,
    functionName: 'balanceOf',
    args: [address],
  })
}

async function send(hash: Promise<Hex>) {
  const receipt = await publicClient().waitForTransactionReceipt({ hash: await hash })
  expect(receipt.status).toBe('success')
  return receipt
}

/** Sends dUSD from development account 1. */
const fund = (to: Address, amount: string) => served.fund(to, amount)

/** A plain 1-of-1 Safe 1.4.1 of development account `i` (deployed through the factory, which any account may call). */
async function safeOf(i: number): Promise<Address> {
  const owner = account(i)
  const wallet = createWalletClient({ account: owner, chain: devnet.chain, transport: http(devnet.rpcUrl) })
  const receipt = await send(
    wallet.writeContract({
      address: devnet.manifest.contracts.factory,
      abi: agentFactoryAbi,
      functionName: 'launch',
      args: [
        {
          owner: owner.address,
          agentURI: '',
          safeOwners: [owner.address],
          threshold: 1n,
          salt: pad(toHex(i)),
          // An agent key with no limit: this Safe pays only as its owner signs.
          agentKey: owner.address,
          policy: {
            removeLimits: [],
            setLimits: [],
            disallowAgents: [],
            allowAgents: [],
            disallowPayees: [],
            allowPayees: [],
            restricted: false,
          },
        },
      ],
    }),
  )
  const [launched] = parseEventLogs({ abi: agentFactoryAbi, eventName: 'AgentLaunched', logs: receipt.logs })
  return launched!.args.safe
}

/**
 * An x402 signer for a 1-of-1 Safe (ERC-1271): its owner signs the authorization's digest as the Safe
 * message EIP-712 type, in the Safe's domain (what Safe 1.4.1's fallback handler checks). An EIP-712
 * owner signature (v 27/28) is needed: x402 reads a 65-byte signature as ECDSA, and an eth_sign-style
 * one (v 31/32) does not parse as one.
 */
async function safeSigner(safe: Address, ownerIndex: number): Promise<ClientEvmSigner> {
  const owner = account(ownerIndex)
  const kit = await Safe.init({
    provider: devnet.rpcUrl,
    signer: devnet.manifest.accounts[ownerIndex]!.privateKey,
    safeAddress: safe,
    contractNetworks: safeContractNetworks(devnet.manifest.chainId, devnet.manifest.safe),
  })
  return {
    address: safe,
    async signTypedData(data) {
      const digest = hashTypedData(data as unknown as TypedDataDefinition)
      const safeMessage = {
        domain: { chainId: devnet.manifest.chainId, verifyingContract: safe },
        types: { SafeMessage: [{ name: 'message', type: 'bytes' }] },
        primaryType: 'SafeMessage',
        message: { message: digest },
      } as const
      // protocol-kit and viem agree on what the Safe checks.
      expect(await kit.getSafeMessageHash(digest)).toBe(hashTypedData(safeMessage))
      return owner.signTypedData(safeMessage)
    },
  }
}

/** The published x402 client with the exact EVM scheme, allowed to pay up to 5 dUSD per payment (not a default asset). */
function clientOf(signer: ClientEvmSigner) {
  const network = `eip155:${devnet.manifest.chainId}` as const
  return new x402Client().register(network, new ExactEvmScheme(signer)).setSpendControls({
    allowedAssets: [
      { network, asset: devnet.manifest.contracts.devUSD, maxAmountPerPayment: dUSD('5').toString() },
    ],
  })
}

/** `fetch` that pays 402s with `signer`. */
function payingFetch(signer: ClientEvmSigner) {
  return wrapFetchWithPayment(fetch, clientOf(signer))
}

const offeringUrl = (name = 'upper', id = seller.chainAgentId) => `${baseUrl}/agents/${id}/offerings/${name}`
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })

beforeAll(async () => {
  served = await serveTestApi([upperAgent])
  ;({ embedded, devnet, baseUrl } = served)
  const info = await (await embedded.runtime.launch(upperAgent, { owner: account(2).address })).info()
  seller = { chainAgentId: info.chainAgentId!, safe: info.safe as Address, id: info.id }
}, 120_000)

afterAll(async () => {
  await served?.stop()
})

describe('x402: offerings sold as paid HTTP resources', () => {
  test('without payment: 402 with the v2 PAYMENT-REQUIRED requirements of the offering', async () => {
    const response = await post(offeringUrl(), { text: 'hi' })
    expect(response.status).toBe(402)
    const required = decodePaymentRequiredHeader(response.headers.get('payment-required')!)
    expect(required.x402Version).toBe(2)
    expect(required.accepts).toEqual([
      expect.objectContaining({
        scheme: 'exact',
        network: `eip155:${devnet.manifest.chainId}`,
        amount: dUSD('1').toString(),
        asset: devnet.manifest.contracts.devUSD,
        payTo: seller.safe,
        extra: { name: 'Agora Dev USD', version: '1' },
      }),
    ])
    expect(await response.json()).toMatchObject({ detail: expect.stringContaining('costs 1 dUSD') })
  })

  test('bad input, unknown offering or agent: a clear problem, never a 402', async () => {
    const invalid = await post(offeringUrl(), { text: 42 })
    expect(invalid.status).toBe(400)
    expect(await invalid.json()).toMatchObject({ detail: expect.stringContaining('input.text') })
    expect((await post(offeringUrl('nope'), { text: 'hi' })).status).toBe(404)
    expect((await post(offeringUrl('upper', '999999'), { text: 'hi' })).status).toBe(404)
    const garbage = await fetch(offeringUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    })
    expect(garbage.status).toBe(400)
  })

  test('an EOA pays with @x402/fetch: deliverable, PAYMENT-RESPONSE, money on chain, a payment in the agent’s record', async () => {
    const payer = account(5)
    await fund(payer.address, '10')
    const [payerBefore, safeBefore] = await Promise.all([balanceOf(payer.address), balanceOf(seller.safe)])
    const response = await payingFetch(payer)(offeringUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hello' }),
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      agent: seller.chainAgentId,
      offering: 'upper',
      deliverable: { text: 'HELLO' },
    })
    const settlement = decodePaymentResponseHeader(response.headers.get('payment-response')!)
    expect(settlement).toMatchObject({ success: true, payer: payer.address })
    const receipt = await publicClient().getTransactionReceipt({ hash: settlement.transaction as Hex })
    expect(receipt.status).toBe('success')
    expect(await balanceOf(payer.address)).toBe(payerBefore - dUSD('1'))
    expect(await balanceOf(seller.safe)).toBe(safeBefore + dUSD('1'))

    const { payments } = await embedded.runtime.listPayments(seller.id)
    expect(payments[0]).toMatchObject({
      kind: 'x402',
      status: 'confirmed',
      from: { agentId: null, address: payer.address.toLowerCase() },
      to: { chainAgentId: seller.chainAgentId, agentId: seller.id },
      amount: { value: dUSD('1').toString(), symbol: 'dUSD' },
      txHash: settlement.transaction,
      resource: offeringUrl(),
    })
    const activity = await embedded.runtime.listActivity(seller.id)
    expect(activity.map((a) => a.data)).toContainEqual(
      expect.objectContaining({
        event: 'paid',
        direction: 'in',
        kind: 'x402',
        txHash: settlement.transaction,
      }),
    )
  })

  test('a Safe pays (ERC-1271, its owner’s EIP-712 signature) with @x402/fetch', async () => {
    const safe = await safeOf(6)
    await fund(safe, '5')
    const response = await payingFetch(await safeSigner(safe, 6))(offeringUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'from a safe' }),
    })
    const body = (await response.json()) as { deliverable: unknown }
    expect({ status: response.status, body }).toMatchObject({
      status: 200,
      body: { deliverable: { text: 'FROM A SAFE' } },
    })
    expect(decodePaymentResponseHeader(response.headers.get('payment-response')!)).toMatchObject({
      success: true,
      payer: safe,
    })
    expect(await balanceOf(safe)).toBe(dUSD('4'))
  })

  test('a replayed payment is refused and nothing is delivered twice', async () => {
    const payer = account(5)
    let header = ''
    // Keep the signed header the client sends, then present it again.
    const recording: typeof fetch = async (input, init) => {
      const sent = new Headers(init?.headers).get('payment-signature')
      if (sent) header = sent
      return fetch(input, init)
    }
    const first = await wrapFetchWithPayment(recording, clientOf(payer))(offeringUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'once' }),
    })
    expect(first.status).toBe(200)
    const before = await balanceOf(payer.address)
    const replay = await post(offeringUrl(), { text: 'once' }, { 'payment-signature': header })
    expect(replay.status).toBe(402)
    expect(JSON.stringify(await replay.json())).not.toContain('ONCE')
    expect(await balanceOf(payer.address)).toBe(before)
    // Two copies at once: one is delivered at most.
    const fresh = await signedPayment(payer, { text: 'twice' })
    const both = await Promise.all(
      [0, 1].map(() => post(offeringUrl(), { text: 'twice' }, { 'payment-signature': fresh })),
    )
    expect(both.map((r) => r.status).sort()).toEqual([200, 402])
    expect(await balanceOf(payer.address)).toBe(before - dUSD('1'))
  })

  test('an underpaid payment, or one for another resource, is refused with nothing delivered', async () => {
    const payer = account(5)
    const before = await balanceOf(payer.address)
    const underpaid = await signedPayment(payer, { text: 'cheap' }, (r) => ({ ...r, amount: '1' }))
    const response = await post(offeringUrl(), { text: 'cheap' }, { 'payment-signature': underpaid })
    expect(response.status).toBe(402)
    expect(JSON.stringify(await response.json())).not.toContain('CHEAP')
    const elsewhere = await signedPayment(payer, { text: 'x' }, (r) => ({ ...r, payTo: payer.address }))
    expect((await post(offeringUrl(), { text: 'x' }, { 'payment-signature': elsewhere })).status).toBe(402)
    const forged = await post(offeringUrl(), { text: 'x' }, { 'payment-signature': 'not-base64!' })
    expect(forged.status).toBe(402)
    expect(await balanceOf(payer.address)).toBe(before)
  })
})

/** A PAYMENT-SIGNATURE for the offering's current requirements (bent by `bend`), made with the published client. */
async function signedPayment(
  payer: ClientEvmSigner,
  input: unknown,
  bend: (r: PaymentRequirements) => PaymentRequirements = (r) => r,
): Promise<string> {
  const unpaid = await post(offeringUrl(), input)
  const required = decodePaymentRequiredHeader(unpaid.headers.get('payment-required')!)
  const payload = await clientOf(payer).createPaymentPayload({
    ...required,
    accepts: required.accepts.map(bend),
  })
  return encodePaymentSignatureHeader(payload)
}
