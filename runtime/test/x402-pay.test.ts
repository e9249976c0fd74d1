import type { Devnet } from '@agora/contracts'
import { BaseError, type Db, insertPayment, tables } from '@agora/db'
import { eq } from 'drizzle-orm'
import { type Address, createPublicClient, http, parseUnits } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { defineAgent } from '../src/define-agent.ts'
import type { AgentHandle, Runtime } from '../src/runtime.ts'
import { toSafeTypedSigner } from '../src/wallet/safe-typed-signer.ts'
import { startX402ResourceServer, type X402ResourceServer } from './fixtures/x402-resource-server.ts'
import { adapters, devnetClients, openRuntime, withDevnet } from './harness.ts'
import { type OpenAIStub, startOpenAIStub } from './inference/openai-stub.ts'

// The seller is paid at a development account that is no agent; its facilitator sends from another
// one, neither of them the runtime's relayers (12-15) nor the agents' owner (1).
const payToAccount = 8
const facilitatorAccount = 9

let devnet: Devnet
let seller: X402ResourceServer
let stub: OpenAIStub

beforeAll(async () => {
  devnet = await withDevnet()
  seller = await startX402ResourceServer(devnet, {
    payTo: devnet.manifest.accounts[payToAccount]!.address,
    facilitatorAccount,
  })
  stub = await startOpenAIStub()
})
afterAll(async () => {
  await seller?.close()
  await stub?.close()
  await devnet?.stop()
})

/** The error `promise` rejects with, for its code and message. */
async function refusal(promise: Promise<unknown>): Promise<BaseError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(BaseError)
  return error as BaseError
}

describe('toSafeTypedSigner', () => {
  const typedData = {
    domain: {
      name: 'Example',
      version: '1',
      chainId: 31337,
      verifyingContract: `0x${'11'.repeat(20)}` as Address,
    },
    types: { Note: [{ name: 'text', type: 'string' }] },
    primaryType: 'Note',
    message: { text: 'hello' },
  } as const

  test('default: a Safe owner’s signature is valid for the Safe (ERC-1271, checked on chain)', async () => {
    const { runtime, close } = await openRuntime(devnet, { name: 'pglite' }, [], [16])
    try {
      const owner = privateKeyToAccount(devnet.manifest.accounts[1]!.privateKey)
      const agent = await runtime.launch(defineAgent({ name: 'signer' }), { owner: owner.address })
      const safe = (await agent.info()).safe as Address
      const publicClient = createPublicClient({ chain: devnet.chain, transport: http(devnet.rpcUrl) })
      const signer = toSafeTypedSigner({ safe, owner, chainId: devnet.manifest.chainId })
      expect(signer.address).toBe(safe)
      const signature = await signer.signTypedData(typedData)
      expect(await publicClient.verifyTypedData({ address: safe, ...typedData, signature })).toBe(true)
      // Another message, or a key that is no owner, does not pass.
      const other = { ...typedData, message: { text: 'bye' } }
      expect(await publicClient.verifyTypedData({ address: safe, ...other, signature })).toBe(false)
      const stranger = privateKeyToAccount(devnet.manifest.accounts[5]!.privateKey)
      const forged = await toSafeTypedSigner({ safe, owner: stranger, chainId: 31337 }).signTypedData(
        typedData,
      )
      expect(await publicClient.verifyTypedData({ address: safe, ...typedData, signature: forged })).toBe(
        false,
      )
    } finally {
      await close()
    }
  })
})

describe.each(adapters)('payX402 on $name', (adapter) => {
  let runtime: Runtime
  let db: Db
  let close: () => Promise<void>
  let buyer: AgentHandle
  let safe: string
  /** The agent's hot wallet (its key): x402 payments come from it, topped up from the Safe by the module. */
  let hot: string
  const owner = () => devnet.manifest.accounts[1]!.address
  const chain = () => devnetClients(devnet)
  const paidTo = () => chain().dUSD(seller.payTo)
  /** What the agent holds: its Safe and its hot wallet. */
  const held = async () => (await chain().dUSD(safe)) + (await chain().dUSD(hot))

  beforeAll(async () => {
    if (adapter.skip) return
    ;({ runtime, db, close } = await openRuntime(devnet, adapter, []))
    buyer = await runtime.launch(
      defineAgent({
        name: `buyer-${adapter.name}`,
        policy: {
          perJobCap: '1',
          budget: { amount: '5', period: 'day' },
          allowedCounterparties: ['127.0.0.1'],
        },
      }),
      { owner: owner() },
    )
    safe = (await buyer.info()).safe!
    hot = (await buyer.info()).signer
    await chain().fund(safe, '10')
  })
  afterAll(async () => {
    await close?.()
  })

  test.skipIf(adapter.skip)(
    'default: pays from its hot wallet, topped up from its Safe, gets the resource, records the payment confirmed',
    async () => {
      const [before, safeBefore, payeeBefore] = [await held(), await chain().dUSD(safe), await paidTo()]
      const seen = seller.seen.length
      const result = await buyer.payX402({ url: `${seller.url}/weather`, maxAmount: '0.05' })
      expect(result).toMatchObject({
        status: 200,
        body: { forecast: 'sunny', high: 24 },
        settlement: { success: true, payer: expect.stringMatching(new RegExp(hot, 'i')) },
        note: null,
        payment: {
          kind: 'x402',
          status: 'confirmed',
          from: { agentId: buyer.id, address: hot.toLowerCase() },
          to: { address: seller.payTo.toLowerCase(), chainAgentId: null },
          resource: `${seller.url}/weather`,
          amount: { value: '10000', symbol: 'dUSD', formatted: '0.01' },
        },
      })
      // Asked once unpaid, once with the payment.
      expect(seller.seen.slice(seen)).toEqual([
        { method: 'GET', path: '/weather', paid: false },
        { method: 'GET', path: '/weather', paid: true },
      ])
      // The money moved on chain, from the Safe (through the module, into the empty hot wallet) to the
      // payee, in the transaction recorded.
      expect(safeBefore - (await chain().dUSD(safe))).toBe(10_000n)
      expect(before - (await held())).toBe(10_000n)
      expect((await paidTo()) - payeeBefore).toBe(10_000n)
      const receipt = await chain().publicClient.getTransactionReceipt({
        hash: result.payment!.txHash as never,
      })
      expect(receipt.status).toBe('success')
      expect(result.settlement!.transaction).toBe(result.payment!.txHash)
      // In the payment list and in the activity, as an x402 payment out.
      const listed = (await buyer.payments()).find((p) => p.id === result.payment!.id)
      expect(listed).toEqual(result.payment)
      const activity = await runtime.listActivity(buyer.id, { limit: 1_000 })
      const events = activity.filter((a) => a.kind === 'payment' && a.data.paymentId === result.payment!.id)
      expect(events.map((e) => e.data.event)).toEqual(['x402 authorization signed', 'paid'])
      expect(events[1]!.data).toMatchObject({
        direction: 'out',
        kind: 'x402',
        resource: `${seller.url}/weather`,
        to: seller.payTo.toLowerCase(),
        amount: { value: '10000' },
        txHash: result.payment!.txHash,
      })
    },
  )

  test.skipIf(adapter.skip)('behavior: a POST with a JSON body is paid and answered', async () => {
    const result = await runtime.payX402(buyer.id, {
      url: `${seller.url}/translate`,
      method: 'POST',
      body: { text: 'agora' },
    })
    expect(result).toMatchObject({ status: 200, body: { text: 'AGORA' }, payment: { status: 'confirmed' } })
    expect(result.payment!.amount.formatted).toBe('0.02')
  })

  test.skipIf(adapter.skip)('behavior: a free resource is fetched without paying', async () => {
    const result = await buyer.payX402({ url: `${seller.url}/free` })
    expect(result).toMatchObject({ status: 200, body: 'free for all', payment: null, settlement: null })
  })

  test.skipIf(adapter.skip)(
    'behavior: over the per-payment cap or maxAmount, refused unsigned and unrecorded',
    async () => {
      const [before, payments, seen] = [
        await chain().dUSD(safe),
        (await buyer.payments()).length,
        seller.seen.length,
      ]
      const capped = await refusal(buyer.payX402({ url: `${seller.url}/report` }))
      expect(capped.code).toBe('POLICY_REFUSED')
      expect(capped.shortMessage).toMatch(/50 dUSD is over the per-job cap of 1/)
      const dear = await refusal(buyer.payX402({ url: `${seller.url}/weather`, maxAmount: '0.001' }))
      expect(dear.code).toBe('POLICY_REFUSED')
      expect(dear.shortMessage).toMatch(/costs 0.01 dUSD, over the maximum of 0.001/)
      // The server never saw a payment; nothing moved; nothing was recorded as spent.
      expect(seller.seen.slice(seen).every((r) => !r.paid)).toBe(true)
      expect(await held()).toBe(before)
      expect(await buyer.payments()).toHaveLength(payments)
      const guardrails = (await runtime.listActivity(buyer.id, { limit: 1_000 })).filter(
        (a) => a.kind === 'guardrail',
      )
      expect(guardrails.at(-1)!.data).toMatchObject({
        refused: 'x402',
        counterparty: seller.payTo.toLowerCase(),
      })
    },
  )

  test.skipIf(adapter.skip)(
    'behavior: a host or payee not among the allowed counterparties is refused; a listed payee address is allowed',
    async () => {
      const launch = (name: string, allowedCounterparties: string[]) =>
        runtime.launch(defineAgent({ name: `${name}-${adapter.name}`, policy: { allowedCounterparties } }), {
          owner: owner(),
        })
      const [strict, listed] = await Promise.all([
        launch('strict', ['api.example.com', '7']),
        // The payee's address, in another case than the server writes it.
        launch('listed', [seller.payTo.toLowerCase()]),
      ])
      const strictSafe = (await strict.info()).safe!
      await chain().fund(strictSafe, '1')
      await chain().fund((await listed.info()).safe!, '1')
      const seen = seller.seen.length
      const refused = await refusal(strict.payX402({ url: `${seller.url}/weather` }))
      expect(refused.code).toBe('POLICY_REFUSED')
      expect(refused.shortMessage).toBe(
        `The payee ${seller.payTo} (of 127.0.0.1) is not among this agent's allowed counterparties.`,
      )
      expect(seller.seen.slice(seen).every((r) => !r.paid)).toBe(true)
      expect(await chain().dUSD(strictSafe)).toBe(parseUnits('1', 6))
      expect(await strict.payments()).toEqual([])
      // Listed by its payee address, the same seller is allowed.
      const bought = await listed.payX402({ url: `${seller.url}/weather` })
      expect(bought.payment!.status).toBe('confirmed')
    },
  )

  test.skipIf(adapter.skip)('behavior: a retry with the same idempotency key never pays twice', async () => {
    const before = await held()
    const seen = seller.seen.length
    const url = `${seller.url}/weather`
    // At once, then again after.
    const [a, b] = await Promise.all([
      buyer.payX402({ url, idempotencyKey: 'weather-1' }),
      buyer.payX402({ url, idempotencyKey: 'weather-1' }),
    ])
    const c = await buyer.payX402({ url, idempotencyKey: 'weather-1' })
    expect(new Set([a.payment!.id, b.payment!.id, c.payment!.id]).size).toBe(1)
    expect([a, b].filter((r) => r.status === 200)).toHaveLength(1)
    expect(c).toMatchObject({
      status: null,
      payment: { status: 'confirmed' },
      note: expect.stringMatching(/Already paid/),
    })
    expect(before - (await held())).toBe(10_000n)
    expect(seller.seen.slice(seen).filter((r) => r.paid)).toHaveLength(1)
    // The same key for another resource is a conflict.
    const conflict = await refusal(
      buyer.payX402({
        url: `${seller.url}/translate`,
        method: 'POST',
        body: {},
        idempotencyKey: 'weather-1',
      }),
    )
    expect(conflict.code).toBe('IDEMPOTENCY_CONFLICT')
  })

  test.skipIf(adapter.skip)(
    'behavior: a payment the server does not settle stays sent; a retry finds it settled later',
    async () => {
      const before = await held()
      const url = `${seller.url}/weather`
      seller.settling = false
      let unsettled: Awaited<ReturnType<AgentHandle['payX402']>>
      try {
        unsettled = await buyer.payX402({ url, idempotencyKey: 'weather-2' })
      } finally {
        seller.settling = true
      }
      expect(unsettled).toMatchObject({
        status: 402,
        payment: { status: 'sent', txHash: null },
        settlement: { success: false, errorReason: 'settlement_paused' },
        note: expect.stringMatching(/signed and sent but not settled.*may still settle it until/),
      })
      expect(await held()).toBe(before)
      // The server kept the authorization and settles it afterwards; the retry sees it on chain.
      expect((await seller.settle(seller.lastPayment!)).success).toBe(true)
      const seen = seller.seen.length
      const retried = await buyer.payX402({ url, idempotencyKey: 'weather-2' })
      expect(retried).toMatchObject({
        status: null,
        payment: { id: unsettled.payment!.id, status: 'confirmed' },
      })
      expect(seller.seen.length).toBe(seen)
      expect(before - (await held())).toBe(10_000n)
      const row = await db.query.payments.findFirst({ where: eq(tables.payments.id, unsettled.payment!.id) })
      expect(row).toMatchObject({ status: 'confirmed', txHash: retried.payment!.txHash })
    },
  )

  test.skipIf(adapter.skip)(
    'behavior: a payment left sent is confirmed by the runtime itself once the chain shows it settled',
    async () => {
      const url = `${seller.url}/weather`
      seller.settling = false
      let unsettled: Awaited<ReturnType<AgentHandle['payX402']>>
      try {
        unsettled = await buyer.payX402({ url })
      } finally {
        seller.settling = true
      }
      expect(unsettled.payment).toMatchObject({ status: 'sent' })
      expect((await seller.settle(seller.lastPayment!)).success).toBe(true)
      // No retry (there is no key): the runtime's sweep reads the chain and confirms it.
      await expect
        .poll(async () => (await buyer.payments()).find((p) => p.id === unsettled.payment!.id)?.status, {
          timeout: 30_000,
          interval: 500,
        })
        .toBe('confirmed')
    },
    45_000,
  )

  test.skipIf(adapter.skip)(
    'behavior: an authorization that expired unsettled is failed by the retry',
    async () => {
      const before = await held()
      const unsettled = await buyer.payX402({ url: `${seller.url}/flash`, idempotencyKey: 'flash-1' })
      expect(unsettled).toMatchObject({ status: 402, payment: { status: 'sent' } })
      // Once a block is past its validBefore, the authorization can never be used.
      await new Promise((resolve) => setTimeout(resolve, 2_100))
      await chain().advance(0)
      const retried = await buyer.payX402({ url: `${seller.url}/flash`, idempotencyKey: 'flash-1' })
      expect(retried).toMatchObject({
        status: null,
        payment: { id: unsettled.payment!.id, status: 'failed' },
        note: expect.stringMatching(/expired unsettled/),
      })
      expect(await held()).toBe(before)
      // Failed for good: a later retry answers the same, without signing again.
      const seen = seller.seen.length
      expect(
        (await buyer.payX402({ url: `${seller.url}/flash`, idempotencyKey: 'flash-1' })).payment!.status,
      ).toBe('failed')
      expect(seller.seen.length).toBe(seen)
    },
  )

  test.skipIf(adapter.skip)(
    'behavior: a payment recorded by a run that stopped before signing is signed by the retry',
    async () => {
      const url = `${seller.url}/weather`
      // What a process leaves when it stops between recording and signing: a pending row, nothing signed.
      const { payment } = await insertPayment(db, {
        idempotencyKey: `x402:${buyer.id}:stopped`,
        kind: 'x402',
        fromAgentId: buyer.id,
        fromAddress: hot.toLowerCase(),
        toAddress: seller.payTo,
        resource: url,
        token: devnet.manifest.contracts.devUSD,
        amount: '10000',
      })
      const before = await held()
      const result = await buyer.payX402({ url, idempotencyKey: 'stopped' })
      expect(result).toMatchObject({ status: 200, payment: { id: payment.id, status: 'confirmed' } })
      expect(before - (await held())).toBe(10_000n)
    },
  )

  test.skipIf(adapter.skip)('behavior: malformed requests are refused before anything is asked', async () => {
    const cases: [Parameters<AgentHandle['payX402']>[0], RegExp][] = [
      [{ url: 'ftp://example.com/x' }, /must be an http\(s\) URL/],
      [{ url: 'not a url' }, /is not a URL/],
      [{ url: 'http://169.254.169.254/latest' }, /link-local/],
      [{ url: `${seller.url}/weather`, method: 'TRACE' as 'GET' }, /The method "TRACE" is not one of/],
      [{ url: `${seller.url}/weather`, body: { a: 1 } }, /A GET request has no body/],
      [{ url: `${seller.url}/translate`, method: 'POST', body: { n: 1n } }, /cannot be sent as JSON/],
      [{ url: `${seller.url}/weather`, headers: { 'Payment-Signature': 'x' } }, /set by the runtime/],
      [{ url: `${seller.url}/weather`, maxAmount: '-1' }, /is not an amount/],
    ]
    const seen = seller.seen.length
    for (const [parameters, message] of cases) {
      const error = await refusal(buyer.payX402(parameters))
      expect(error.code, message.source).toBe('INVALID_ARGUMENT')
      expect(error.shortMessage).toMatch(message)
    }
    expect(seller.seen.length).toBe(seen)
  })

  test.skipIf(adapter.skip)(
    'behavior: the model buys through the buy_x402 tool, within the policy',
    async () => {
      const shopper = await runtime.launch(
        defineAgent({
          name: `shopper-${adapter.name}`,
          model: { provider: 'openai-compatible', baseURL: stub.baseURL, model: 'scripted', maxRetries: 0 },
          policy: { allowedCounterparties: ['127.0.0.1'] },
        }),
        { owner: owner() },
      )
      const shopperSafe = (await shopper.info()).safe!
      await chain().fund(shopperSafe, '1')
      const buy = (path: string, maxAmount: string) => ({
        toolCalls: [{ name: 'buy_x402', arguments: { url: `${seller.url}${path}`, maxAmount } }],
      })
      stub.reply(
        buy('/report', '100'), // over the default per-payment cap of 5: refused
        buy('/weather', '0.05'),
        { toolCalls: [{ name: 'finish', arguments: { answer: 'sunny' } }] },
      )
      const result = await shopper.runTask({ goal: 'Find tomorrow’s weather.' })
      expect(result).toMatchObject({ answer: 'sunny', steps: 3 })
      const told = stub.requests
        .at(-1)!
        .messages.filter((m) => m.role === 'tool')
        .map((m) => String(m.content))
      expect(told[0]).toMatch(/refused by your spending policy: 50 dUSD is over the per-job cap of 5/)
      expect(told[1]).toMatch(/<untrusted-data source="tool:buy_x402">/)
      expect(told[1]).toMatch(/"forecast":"sunny"/)
      const payments = await shopper.payments()
      expect(payments).toMatchObject([{ kind: 'x402', status: 'confirmed', amount: { formatted: '0.01' } }])
      expect(parseUnits('1', 6) - (await chain().dUSD(shopperSafe))).toBe(10_000n)
    },
  )
})
