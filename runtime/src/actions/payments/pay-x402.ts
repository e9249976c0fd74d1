import {
  ConflictError,
  createId,
  getPaymentByKey,
  InternalError,
  insertPayment,
  type Payment,
  updatePayment,
  ValidationError,
} from '@agora/db'
import { x402Client, x402HTTPClient } from '@x402/core/client'
import type { PaymentRequirements } from '@x402/core/types'
import type { Address } from 'viem'
import type { RuntimeClient } from '../../client.ts'
import { type ChainUnavailableError, type PolicyError, wrapChainError } from '../../errors.ts'
import { type PaymentView, toPaymentView } from '../../views/payment-view.ts'
import { type ActiveAgent, requireActiveAgent } from '../agents/require-active-agent.ts'
import { isDevelopmentChain, type WebhookScope } from '../jobs/webhook-url.ts'
import { x402Payer } from './hot-wallet.ts'
import {
  authorizationState,
  type SignedAuthorization,
  signAuthorization,
  storedAuthorization,
} from './x402-authorization.ts'
import { chooseOption, readPaymentRequired } from './x402-option.ts'
import {
  checkResourceRequest,
  type ResourceRequest,
  type ResourceResponse,
  requestResource,
  type X402Method,
} from './x402-request.ts'

export type PayX402Parameters = {
  /** The resource: an http(s) URL (https outside the devnet; never a link-local address). */
  url: string
  /** Default `'GET'`. */
  method?: X402Method
  /** Headers to send besides the runtime's (not `host`, `content-length` or the x402 ones). */
  headers?: Record<string, string>
  /** A JSON body, sent as `application/json` (not with GET). */
  body?: unknown
  /** The most to pay, in units of the token asked for (`'0.05'`): a dearer resource is refused unsigned. */
  maxAmount?: string
  /**
   * Retrying with the same key never signs twice (default: a fresh key, i.e. a new purchase): a
   * payment already settled or failed is answered as recorded, without asking the resource again; an
   * authorization signed but not settled is sent again as it is. The same key for another URL is a
   * `ConflictError` (`IDEMPOTENCY_CONFLICT`).
   */
  idempotencyKey?: string
}

/** What the server said of the payment (its `PAYMENT-RESPONSE` header). */
export type X402Settlement = {
  success: boolean
  transaction: string | null
  payer: string | null
  network: string
  errorReason: string | null
}

export type PayX402ReturnType = {
  /** The resource's HTTP status; null when it was not asked (a retry of a settled key) or did not answer. */
  status: number | null
  /** Its answer: parsed JSON when it says it is JSON, the text otherwise. */
  body: unknown
  /** Its response headers (lower-case names). */
  headers: Record<string, string>
  /** The payment made for it; null when the resource was free (it did not answer 402). */
  payment: PaymentView | null
  settlement: X402Settlement | null
  /** Why the payment is not confirmed, or why the resource was not asked again, when that is so. */
  note: string | null
}

export type PayX402ErrorType = ValidationError | PolicyError | ConflictError | ChainUnavailableError

/**
 * Buys an x402 (v2) resource for an agent: asks for it, and when it answers 402 with an `exact`
 * payment on this chain in a token the runtime knows, checks the price against `maxAmount` and the
 * agent's spending policy (per-payment cap, budget, allowed counterparties by agent id, payee
 * address or host), records the payment (kind `x402`, `pending`) and only then signs the EIP-3009
 * authorization (from the agent's hot wallet, topped up through the agent module within the policy
 * on chain; an older agent's from its Safe) and asks again with `PAYMENT-SIGNATURE`. The
 * payment is confirmed only once the chain shows the authorization used; a refusal before signing
 * records nothing as spent.
 *
 * Once signed and sent, a payment is never reported as failed while it may still happen: a server
 * that answers without settling still holds an authorization valid until its `validBefore`, so the
 * payment stays `sent` (counted against the budget) and `note` says so. A resource that does not
 * answer 402 is answered as it is, unpaid.
 *
 * @example
 * const { body, payment } = await payX402(client, agentId, { url: 'https://api.example.com/weather', maxAmount: '0.05' })
 */
export async function payX402(
  client: RuntimeClient,
  agentId: string,
  parameters: PayX402Parameters,
): Promise<PayX402ReturnType> {
  const agent = await client.agents.get(agentId)
  requireActiveAgent(agent, 'buy x402 resources')
  const scope: WebhookScope = { devnet: isDevelopmentChain(client.chain.chainId) }
  const request = checkResourceRequest(scope, parameters)
  const { idempotencyKey, maxAmount } = parameters
  if (maxAmount !== undefined && !/^\d+(\.\d+)?$/.test(maxAmount))
    throw new ValidationError(`"${maxAmount}" is not an amount: use a decimal number such as "0.05".`)
  if (
    idempotencyKey !== undefined &&
    (typeof idempotencyKey !== 'string' || !/^.{1,200}$/.test(idempotencyKey))
  )
    throw new ValidationError('The idempotency key must be 1 to 200 characters.')
  const purchase: Purchase = { client, agent, scope, request, maxAmount }
  const key = `x402:${agent.id}:${idempotencyKey ?? crypto.randomUUID()}`
  if (idempotencyKey === undefined) return buy(purchase, key)
  // Calls with one key run one after another: the second finds what the first recorded.
  return oneAtATime(client.db, key, async () => {
    const earlier = await getPaymentByKey(client.db, key)
    return earlier ? resume(purchase, earlier) : buy(purchase, key)
  })
}

type Purchase = {
  client: RuntimeClient
  agent: ActiveAgent
  scope: WebhookScope
  request: ResourceRequest
  maxAmount: string | undefined
}

/** Asks for the resource and pays for it if it answers 402; `recorded` is a payment of this key never signed. */
async function buy(purchase: Purchase, key: string, recorded?: Payment): Promise<PayX402ReturnType> {
  const { client, agent, scope, request } = purchase
  const first = await requestResource(scope, request)
  if (first.status !== 402) {
    const payment = recorded ? await toPaymentView(client, await fail(client, recorded)) : null
    return {
      ...answer(first),
      payment,
      settlement: null,
      note: recorded ? 'The resource is free now.' : null,
    }
  }
  const required = readPaymentRequired(first, request.url)
  const { option, token } = chooseOption(client, required, {
    url: request.url,
    maxAmount: purchase.maxAmount,
  })
  let payment: Payment
  if (recorded) {
    if (!sameTerms(recorded, option)) {
      await fail(client, recorded)
      throw new ConflictError(
        `The price of ${request.url.href} changed since the idempotency key was used (payment ${recorded.id}); use a new key.`,
        { code: 'IDEMPOTENCY_CONFLICT', meta: { paymentId: recorded.id } },
      )
    }
    payment = recorded
  } else {
    const payee = await client.agents.bySafe(option.payTo)
    const payer = await x402Payer(client, agent)
    const amount = BigInt(option.amount)
    // Recorded before anything is signed: what the guard counts is what may be paid.
    const { payment: row, created } = await client.guard.spend(
      agent,
      {
        amount,
        token,
        counterparty: payee?.chainAgentId ?? option.payTo.toLowerCase(),
        payee: { address: option.payTo, host: request.url.hostname },
        action: 'x402',
        key,
      },
      () =>
        insertPayment(client.db, {
          id: createId('pay'),
          idempotencyKey: key,
          kind: 'x402',
          fromAgentId: agent.id,
          fromAddress: payer.address.toLowerCase(),
          toAddress: option.payTo,
          resource: request.url.href,
          token: token.address,
          amount: amount.toString(),
        }),
    )
    if (!created) return resume(purchase, row)
    payment = row
  }
  const signed = await signAuthorization(client, agent, { payment, required, option }).catch(
    async (error: unknown) => {
      // Nothing left the process: the payment can never happen.
      await fail(client, payment)
      throw error
    },
  )
  return deliver(purchase, payment, signed)
}

/** A retry of a key already recorded: answered from the record, or the same authorization sent again. */
async function resume(purchase: Purchase, earlier: Payment): Promise<PayX402ReturnType> {
  const { client, request } = purchase
  if (earlier.kind !== 'x402' || earlier.resource !== request.url.href)
    throw new ConflictError(
      `The idempotency key was used for another purchase (${earlier.id}, ${earlier.resource ?? 'a payment'}); use a new key.`,
      { code: 'IDEMPOTENCY_CONFLICT', meta: { paymentId: earlier.id } },
    )
  if (earlier.status === 'confirmed')
    return recorded(client, earlier, `Already paid under this key (tx ${earlier.txHash}); not asked again.`)
  if (earlier.status === 'failed')
    return recorded(client, earlier, 'The payment under this key failed and moved nothing; use a new key.')
  const signed = await storedAuthorization(client, earlier)
  // Never signed (an earlier run stopped before signing): nothing left the process, so sign now.
  if (!signed) return buy(purchase, earlier.idempotencyKey, earlier)
  // The block first: if it is past `validBefore` and the state read after it shows no use, none can come.
  const block = await client.chain.publicClient.getBlock().catch((error: unknown) => {
    throw wrapChainError(error, 'Reading the chain')
  })
  const state = await stateOf(client, earlier, signed)
  if (state?.settled) {
    const payment = await confirm(client, earlier, state.txHash)
    return recorded(client, payment, `Already paid under this key (tx ${state.txHash}); not asked again.`)
  }
  if (state && block.timestamp >= BigInt(signed.authorization.validBefore)) {
    const payment = await fail(client, earlier)
    return recorded(client, payment, 'The authorization expired unsettled and moved nothing; use a new key.')
  }
  return deliver(purchase, earlier, signed)
}

function sameTerms(payment: Payment, option: PaymentRequirements): boolean {
  return (
    payment.toAddress === option.payTo.toLowerCase() &&
    payment.token === option.asset.toLowerCase() &&
    payment.amount === BigInt(option.amount).toString()
  )
}

/** Sends the signed payment and settles the record by what the chain shows. */
async function deliver(
  purchase: Purchase,
  payment: Payment,
  signed: SignedAuthorization,
): Promise<PayX402ReturnType> {
  const { client, agent, scope, request } = purchase
  const http = new x402HTTPClient(new x402Client())
  let response: ResourceResponse | undefined
  let failure: string | undefined
  try {
    response = await requestResource(scope, request, http.encodePaymentSignatureHeader(signed.payload))
  } catch (error) {
    failure = error instanceof ValidationError ? error.shortMessage : String(error)
  }
  const settlement = response ? settlementOf(http, response) : null
  const state = await stateOf(client, payment, signed, settlement?.transaction ?? undefined)
  if (state?.settled) {
    const confirmed = await confirm(client, payment, state.txHash)
    return {
      ...(response ? answer(response) : { status: null, body: undefined, headers: {} }),
      payment: await toPaymentView(client, confirmed),
      settlement,
      note: response ? null : `Paid (tx ${state.txHash}), but the resource did not answer: ${failure}`,
    }
  }
  const until = new Date(Number(signed.authorization.validBefore) * 1_000).toISOString()
  const why = !response
    ? failure
    : settlement?.errorReason
      ? `the server did not settle it (${settlement.errorReason})`
      : settlement?.success
        ? `the server reports it settled in ${settlement.transaction}, which the chain does not show yet`
        : `the server answered ${response.status} without settling it`
  const note = `The payment is signed and sent but not settled: ${why}. The server may still settle it until ${until}; until then it stays "sent" and counts against the budget.`
  await client.activity.record(agent.id, 'payment', {
    event: 'x402 payment not settled',
    direction: 'out',
    kind: 'x402',
    paymentId: payment.id,
    resource: payment.resource,
    reason: why,
    validBefore: until,
  })
  return {
    ...(response ? answer(response) : { status: null, body: undefined, headers: {} }),
    payment: await toPaymentView(client, { ...payment, status: 'sent' }),
    settlement,
    note,
  }
}

/** The server's `PAYMENT-RESPONSE`, if it sent a readable one. */
function settlementOf(http: x402HTTPClient, response: ResourceResponse): X402Settlement | null {
  try {
    const s = http.getPaymentSettleResponse((name) => response.headers[name.toLowerCase()])
    return {
      success: s.success === true,
      transaction: s.transaction || null,
      payer: s.payer ?? null,
      network: s.network,
      errorReason: s.errorReason ?? null,
    }
  } catch {
    return null
  }
}

/** Where the payment's authorization stands on chain; undefined when the chain does not answer. */
async function stateOf(
  client: RuntimeClient,
  payment: Payment,
  signed: SignedAuthorization,
  transaction?: string,
) {
  return authorizationState(client.chain.publicClient, {
    token: payment.token as Address,
    authorization: signed.authorization,
    transaction,
    fromBlock: signed.fromBlock,
  }).catch(() => undefined)
}

/** Marks a purchase paid once the chain shows it, with its activity entry. */
export async function confirm(client: RuntimeClient, payment: Payment, txHash: string): Promise<Payment> {
  const confirmed = await client.payments.confirm({ id: payment.id, txHash })
  if (!confirmed) throw new InternalError(`Payment ${payment.id} is not in the database.`)
  await client.activity.record(payment.fromAgentId, 'payment', {
    event: 'paid',
    direction: 'out',
    kind: 'x402',
    paymentId: payment.id,
    from: payment.fromAgentId,
    to: payment.toAddress,
    resource: payment.resource,
    amount: await client.tokens.moneyOf(payment.amount, payment.token),
    txHash,
  })
  return confirmed
}

/** A payment that can never happen (nothing signed left the process, or it expired): not spent. */
export async function fail(client: RuntimeClient, payment: Payment): Promise<Payment> {
  const failed = await updatePayment(client.db, payment.id, { status: 'failed' })
  client.guard.release(payment.fromAgentId!, payment.idempotencyKey)
  return failed
}

/** The answer to a retry that does not ask the resource again: the payment as recorded. */
async function recorded(client: RuntimeClient, payment: Payment, note: string): Promise<PayX402ReturnType> {
  const view = await toPaymentView(client, payment)
  return { status: null, body: undefined, headers: {}, payment: view, settlement: null, note }
}

function answer(response: ResourceResponse) {
  return { status: response.status, body: response.body, headers: response.headers }
}

// Keyed by the runtime's database, so runtimes in one process share nothing; entries go with their runs.
const inFlight = new WeakMap<object, Map<string, Promise<unknown>>>()

/** Runs `fn` for `key` once the run before it for the same key (in this runtime) has ended. */
async function oneAtATime<T>(scope: object, key: string, fn: () => Promise<T>): Promise<T> {
  let running = inFlight.get(scope)
  if (!running) {
    running = new Map()
    inFlight.set(scope, running)
  }
  for (let current = running.get(key); current; current = running.get(key)) await current.catch(() => {})
  const run = fn()
  running.set(key, run)
  try {
    return await run
  } finally {
    if (running.get(key) === run) running.delete(key)
  }
}
