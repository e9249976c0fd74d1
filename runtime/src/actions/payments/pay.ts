import { agentEconomyAbi, agentIdentityRegistryAbi } from '@agora/contracts'
import { type ConflictError, createId, ValidationError } from '@agora/db'
import { encodeFunctionData, keccak256, toHex, zeroAddress } from 'viem'
import type { RuntimeClient } from '../../client.ts'
import {
  type ChainUnavailableError,
  type ContractRevertedError,
  type PolicyError,
  wrapChainError,
} from '../../errors.ts'
import type { IntentInput } from '../../outbox/intent-handler.ts'
import { sendIntent } from '../../outbox/send-intent.ts'
import { type PaymentView, toPaymentView } from '../../views/payment-view.ts'
import { type ActiveAgent, requireActiveAgent } from '../agents/require-active-agent.ts'
import { ensureAllowance } from './ensure-allowance.ts'

export type PayParameters = {
  /** The payee: an on-chain agent id. */
  to: string | bigint
  /** Amount in token units, e.g. `'2.5'`. */
  amount: string
  /** Token symbol or address (default `'dUSD'`). */
  token?: string
  /** A note for the payee; its hash goes on-chain. */
  memo?: string
  /** Retrying with the same key never pays twice (default: a fresh key, i.e. a new payment). */
  idempotencyKey?: string
}
export type PayReturnType = PaymentView
export type PayErrorType =
  | ValidationError
  | PolicyError
  | ConflictError
  | ContractRevertedError
  | ChainUnavailableError

/**
 * Pays another agent directly from this agent's Safe, through the economy contract. Checked against
 * the spending policy before anything is signed; recorded as a payment and an intent in one
 * database transaction (payments made at once share it); idempotent by key.
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
  const token = await client.tokens.resolve(parameters.token ?? 'dUSD')
  const amount = client.tokens.parse(parameters.amount, token)
  const to = String(parameters.to)
  if (!/^\d+$/.test(to)) throw new ValidationError(`"${to}" is not an agent id.`)
  if (to === agent.chainAgentId) throw new ValidationError('An agent cannot pay itself.')
  const toAddress = await payeeAddress(client, to)
  const key = `pay:${agent.id}:${parameters.idempotencyKey ?? crypto.randomUUID()}`
  // Approval first: a recorded payment must be sendable as it stands, also by a restarted process.
  await ensureAllowance(client, agent, token, amount)
  const paymentId = createId('pay')
  const { payment, intent } = await client.guard.spend(
    agent,
    { amount, token, counterparty: to, action: 'pay', key },
    () =>
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
  if (payment.status === 'confirmed') return toPaymentView(client, payment)
  // A retry of a payment that failed: it spends nothing (sending it reports the failure).
  if (payment.status === 'failed') client.guard.release(agent.id, key)
  const { receipt } = await sendIntent(client, intent)
  return toPaymentView(client, { ...payment, status: 'confirmed', txHash: receipt.transactionHash })
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
