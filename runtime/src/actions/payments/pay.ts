import { agentEconomyAbi, agentIdentityRegistryAbi } from '@agora/contracts'
import {
  ConflictError,
  createId,
  getIntentByKey,
  getPaymentByKey,
  type Intent,
  type Payment,
  ValidationError,
} from '@agora/db'
import { encodeFunctionData, keccak256, toHex, zeroAddress } from 'viem'
import type { RuntimeClient } from '../../client.ts'
import {
  type ChainUnavailableError,
  type ContractRevertedError,
  type PolicyError,
  wrapChainError,
} from '../../errors.ts'
import type { QuotaError } from '../../guard/quotas.ts'
import type { IntentInput } from '../../outbox/intent-handler.ts'
import { sendIntent } from '../../outbox/send-intent.ts'
import { type PaymentView, toPaymentView } from '../../views/payment-view.ts'
import { type ActiveAgent, requireActiveAgent } from '../agents/require-active-agent.ts'
import { ensureAllowance } from './ensure-allowance.ts'
import { sendRecorded } from './send-recorded.ts'

export type PayParameters = {
  /** The payee: an on-chain agent id. */
  to: string | bigint
  /** Amount in token units, e.g. `'2.5'`. */
  amount: string
  /** Token symbol or address (default: the deployment's default token, dUSD on the devnet). */
  token?: string
  /** A note for the payee; its hash goes on-chain. */
  memo?: string
  /**
   * Retrying with the same key never pays twice (default: a fresh key, i.e. a new payment); the same
   * key with another payee, amount, token or memo is a `ConflictError` (`IDEMPOTENCY_CONFLICT`).
   */
  idempotencyKey?: string
}
export type PayReturnType = PaymentView
export type PayErrorType =
  | ValidationError
  | PolicyError
  | ConflictError
  | ContractRevertedError
  | ChainUnavailableError
  | QuotaError

/**
 * Pays another agent directly from this agent's Safe, through the economy contract. Checked against
 * the owner's quotas and the spending policy before anything is signed; recorded as a payment and
 * an intent in one database transaction (payments made at once share it); idempotent by key.
 *
 * Once recorded, a payment is never reported as failed while it may still happen: when the chain
 * does not answer, the view comes back with status `pending` (or `sent`) and the outbox finishes
 * it later; follow it with `getPayment`. Only a refusal or a revert throws.
 *
 * @example
 * const payment = await pay(client, agentId, { to: '7', amount: '2.5', memo: 'thanks' })
 */
export async function pay(
  client: RuntimeClient,
  agentId: string,
  parameters: PayParameters,
): Promise<PayReturnType> {
  const agent = await client.agents.get(agentId)
  requireActiveAgent(agent, 'pay')
  const token = await client.tokens.resolve(parameters.token)
  const amount = client.tokens.parse(parameters.amount, token)
  const to = String(parameters.to)
  if (!/^\d+$/.test(to)) throw new ValidationError(`"${to}" is not an agent id.`)
  if (to === agent.chainAgentId) throw new ValidationError('An agent cannot pay itself.')
  const key = `pay:${agent.id}:${parameters.idempotencyKey ?? crypto.randomUUID()}`
  const terms = {
    to: BigInt(to).toString(), // as stored: without leading zeros
    token: token.address.toLowerCase(),
    amount: amount.toString(),
    memo: parameters.memo ?? null,
  }
  if (parameters.idempotencyKey !== undefined) {
    // A retry: the payment recorded under the key, if it is this one, wherever it stands.
    const earlier = await getPaymentByKey(client.db, key)
    if (earlier) {
      sameTerms(earlier, terms, parameters.idempotencyKey)
      const intent = await getIntentByKey(client.db, key)
      if (intent) return deliver(client, earlier, intent)
    }
  }
  const toAddress = await payeeAddress(client, to)
  const paymentId = createId('pay')
  const { payment, intent } = await client.quotas.charge(agent.owner, { kind: 'pay', key }, async () => {
    // Approval first: a recorded payment must be sendable as it stands, also by a restarted process.
    await ensureAllowance(client, agent, token, amount)
    return client.guard.spend(agent, { amount, token, counterparty: to, action: 'pay', key }, () =>
      client.payments.record({
        payment: {
          id: paymentId,
          idempotencyKey: key,
          fromAgentId: agent.id,
          fromAddress: agent.safeAddress,
          toChainAgentId: to,
          toAddress,
          token: token.address,
          amount: amount.toString(),
          memo: parameters.memo ?? null,
        },
        intent: payIntent(client, agent, {
          key,
          to,
          token: token.address,
          amount,
          memo: parameters.memo,
          paymentId,
        }),
      }),
    )
  })
  // Another request with the same key recorded first: it must be the same payment.
  if (payment.id !== paymentId && parameters.idempotencyKey !== undefined)
    sameTerms(payment, terms, parameters.idempotencyKey)
  return deliver(client, payment, intent)
}

type Terms = { to: string; token: string; amount: string; memo: string | null }

/** A key names one payment: the same key with other terms is refused, not answered with the first. */
function sameTerms(payment: Payment, terms: Terms, key: string) {
  const differs =
    payment.toChainAgentId !== terms.to ||
    payment.token !== terms.token ||
    payment.amount !== terms.amount ||
    (payment.memo ?? null) !== terms.memo
  if (differs)
    throw new ConflictError(
      `The idempotency key "${key}" was used for another payment (${payment.id}); use a new key for a new payment.`,
      { code: 'IDEMPOTENCY_CONFLICT', meta: { paymentId: payment.id } },
    )
}

/** Sends a recorded payment unless it is settled: its view, confirmed or still on its way. */
async function deliver(client: RuntimeClient, payment: Payment, intent: Intent): Promise<PaymentView> {
  if (payment.status === 'confirmed') return toPaymentView(client, payment)
  if (payment.status === 'failed') {
    // A retry of a payment that failed: it spends nothing (sending it reports the failure).
    client.guard.release(payment.fromAgentId!, payment.idempotencyKey)
    await sendIntent(client, intent)
  }
  const outcome = await sendRecorded(client, intent)
  if (outcome.status !== 'confirmed') return toPaymentView(client, { ...payment, status: 'pending' })
  return toPaymentView(client, {
    ...payment,
    status: 'confirmed',
    txHash: outcome.receipt.transactionHash,
  })
}

/** A payee hosted here is paid at its Safe; any other is resolved on-chain, as the contract will. */
async function payeeAddress(client: RuntimeClient, to: string): Promise<string> {
  const local = await client.agents.byChainId(to)
  if (local?.safeAddress) return local.safeAddress
  return client.chain.publicClient
    .readContract({
      address: client.chain.contracts.identityRegistry,
      abi: agentIdentityRegistryAbi,
      functionName: 'paymentAddress',
      args: [BigInt(to)],
    })
    .catch((error: unknown) => {
      throw wrapChainError(error, `Looking up agent ${to}`)
    })
}

function payIntent(
  client: RuntimeClient,
  agent: ActiveAgent,
  p: { key: string; to: string; token: `0x${string}`; amount: bigint; memo?: string; paymentId: string },
): IntentInput {
  return {
    idempotencyKey: p.key,
    kind: 'pay',
    agentId: agent.id,
    payload: {
      safe: agent.safeAddress,
      to: client.chain.contracts.economy,
      data: encodeFunctionData({
        abi: agentEconomyAbi,
        functionName: 'pay',
        args: [BigInt(p.to), p.token, p.amount, keccak256(toHex(p.memo ?? ''))],
      }),
      value: p.token === zeroAddress ? p.amount.toString() : '0',
      paymentId: p.paymentId,
    },
  }
}
