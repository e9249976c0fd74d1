import { agentEconomyAbi, agentIdentityRegistryAbi } from '@agora/contracts'
import {
  type Agent,
  createId,
  type InsertPaymentParameters,
  insertPayments,
  markPaymentsConfirmed,
  transaction,
  updatePayment,
} from '@agora/db'
import { type Address, encodeFunctionData, erc20Abi, keccak256, maxUint256, toHex, zeroAddress } from 'viem'
import { createBatcher, createGroupWriter } from './batcher.ts'
import type { RuntimeContext } from './context.ts'
import { BaseError, wrapChainError } from './errors.ts'
import type { PolicyGuard } from './policy.ts'
import { safeCallKind } from './safe-call-kind.ts'
import type { Token } from './tokens.ts'
import type { IntentInput, IntentKind } from './transactions.ts'

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

// Safes known to have approved the economy for the maximum: nothing spends that down in practice.
const unlimited = new Set<string>()

/** Makes sure the economy may pull `amount` of `token` from the agent's Safe (one max approval per token). */
export async function ensureAllowance(ctx: RuntimeContext, agent: Agent, token: Token, amount: bigint) {
  if (token.address === zeroAddress) return
  const safe = agent.safeAddress as Address
  const key = `${ctx.contracts.economy}:${safe}:${token.address}`.toLowerCase()
  if (unlimited.has(key)) return
  const allowance = await ctx.publicClient.readContract({
    address: token.address,
    abi: erc20Abi,
    functionName: 'allowance',
    args: [safe, ctx.contracts.economy],
  })
  if (allowance >= maxUint256 / 2n) unlimited.add(key)
  if (allowance >= amount) return
  await ctx.tx.execute({
    idempotencyKey: `approve:${agent.id}:${token.address.toLowerCase()}:${allowance}`,
    kind: 'approve',
    agentId: agent.id,
    payload: {
      safe,
      to: token.address,
      data: encodeFunctionData({
        abi: erc20Abi,
        functionName: 'approve',
        args: [ctx.contracts.economy, maxUint256],
      }),
      value: '0',
    },
  })
  unlimited.add(key)
}

/** The agent must be launched and active to move money. */
export function requireActive(
  agent: Agent,
): asserts agent is Agent & { safeAddress: string; chainAgentId: string } {
  if (agent.status !== 'active' || !agent.safeAddress || !agent.chainAgentId) {
    throw new BaseError(`Agent "${agent.name}" is ${agent.status}; only active agents can move money.`, {
      code: 'CONFLICT',
    })
  }
}

/**
 * Direct payments: `pay` and the intent kind that settles them. Payments recorded in the same tick
 * share one database transaction (group commit).
 */
export function createPayments(ctx: RuntimeContext, guard: PolicyGuard) {
  const recordPayment = createGroupWriter(
    (items: { payment: InsertPaymentParameters; intent: IntentInput }[]) =>
      transaction(ctx.db, async (tx) => {
        const payments = await insertPayments(
          tx,
          items.map((i) => i.payment),
        )
        const intents = await ctx.tx.recordMany(
          tx,
          items.map((i) => i.intent),
        )
        return items.map((_, n) => ({ payment: payments[n]!.payment, intent: intents[n]!.intent }))
      }),
  )

  /**
   * Pays another agent directly from this agent's Safe, through the economy contract. Checked
   * against the spending policy before anything is signed; recorded as a payment and an intent in
   * one database transaction; idempotent by key.
   */
  async function pay(agentId: string, parameters: PayParameters) {
    const agent = await ctx.requireAgent(agentId)
    requireActive(agent)
    const token = await ctx.tokens.resolve(parameters.token ?? 'dUSD')
    const amount = ctx.tokens.parse(parameters.amount, token)
    const to = String(parameters.to)
    if (!/^\d+$/.test(to)) throw new BaseError(`"${to}" is not an agent id.`, { code: 'INVALID_ARGUMENT' })
    if (to === agent.chainAgentId)
      throw new BaseError('An agent cannot pay itself.', { code: 'INVALID_ARGUMENT' })
    // A payee hosted here is paid at its Safe; any other is resolved on-chain, as the contract will.
    const local = await ctx.localAgent(to)
    const toAddress =
      local?.safeAddress ??
      (await ctx.publicClient
        .readContract({
          address: ctx.contracts.identityRegistry,
          abi: agentIdentityRegistryAbi,
          functionName: 'paymentAddress',
          args: [BigInt(to)],
        })
        .catch((error: unknown) => {
          throw wrapChainError(error, `Looking up agent ${to}`)
        }))
    const key = `pay:${agent.id}:${parameters.idempotencyKey ?? crypto.randomUUID()}`
    const memoHash = keccak256(toHex(parameters.memo ?? ''))
    // Approval first: a recorded payment must be sendable as it stands, also by a restarted process.
    await ensureAllowance(ctx, agent, token, amount)
    const paymentId = createId('pay')
    const { payment, intent } = await guard.spend(
      agent,
      { amount, token, counterparty: to, action: 'pay', key },
      () =>
        recordPayment({
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
          intent: {
            idempotencyKey: key,
            kind: 'pay',
            agentId: agent.id,
            payload: {
              safe: agent.safeAddress,
              to: ctx.contracts.economy,
              data: encodeFunctionData({
                abi: agentEconomyAbi,
                functionName: 'pay',
                args: [BigInt(to), token.address, amount, memoHash],
              }),
              value: token.address === zeroAddress ? amount.toString() : '0',
              paymentId,
            },
          },
        }),
    )
    if (payment.status === 'confirmed') return payment
    // A retry of a payment that failed: it spends nothing (execute reports the failure).
    if (payment.status === 'failed') guard.release(agent.id, key)
    const { receipt } = await ctx.tx.execute(
      { idempotencyKey: key, kind: 'pay', agentId: agent.id, payload: {} },
      intent,
    )
    return { ...payment, status: 'confirmed' as const, txHash: receipt.transactionHash }
  }

  return { pay, kind: payKind(ctx, guard) }
}

function payKind(ctx: RuntimeContext, guard: PolicyGuard): IntentKind {
  // Payments settling in the same tick are confirmed in one statement.
  const confirm = createBatcher((items: { id: string; txHash: string }[]) =>
    markPaymentsConfirmed(ctx.db, items),
  )
  return safeCallKind(ctx, {
    // A Safe's queued payments go out together (one transaction through MultiSendCallOnly).
    batch: true,
    async onSettled(intent, receipt) {
      const paymentId = String(intent.payload.paymentId)
      const payment = (await confirm({ id: paymentId, txHash: receipt.transactionHash })).find(
        (row) => row.id === paymentId,
      )
      if (!payment) throw new BaseError(`Payment ${paymentId} is not in the database.`, { code: 'INTERNAL' })
      const payee = payment.toChainAgentId ? await ctx.localAgent(payment.toChainAgentId) : undefined
      const data = {
        paymentId,
        from: payment.fromAgentId,
        to: payment.toChainAgentId,
        token: payment.token,
        amount: payment.amount,
        memo: payment.memo,
        txHash: receipt.transactionHash,
      }
      await ctx.recordMany([
        { agentId: intent.agentId, kind: 'payment', data: { direction: 'out', ...data } },
        ...(payee
          ? [{ agentId: payee.id, kind: 'payment' as const, data: { direction: 'in', ...data } }]
          : []),
      ])
      return { paymentId }
    },
    async onFailed(intent, error) {
      const payment = await updatePayment(ctx.db, String(intent.payload.paymentId), { status: 'failed' })
      guard.release(payment.fromAgentId, payment.idempotencyKey)
      await ctx.record(intent.agentId, 'payment', {
        paymentId: intent.payload.paymentId,
        failed: error.shortMessage,
      })
    },
  })
}
