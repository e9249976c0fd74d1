import { ConflictError, getIntentByKey, type Intent } from '@agora/db'
import { type Address, encodeFunctionData, erc20Abi, getAddress, zeroAddress } from 'viem'
import { z } from 'zod'
import type { RuntimeClient } from '../../client.ts'
import type { QuotaError } from '../../guard/quotas.ts'
import { recordIntent } from '../../outbox/record-intent.ts'
import { moneySchema } from '../../views/money.ts'
import { sendRecorded } from '../payments/send-recorded.ts'

export type WithdrawParameters = {
  /** Token symbol or address (default: the deployment's default token, dUSD on the devnet). */
  token?: string
  /** Amount in token units; everything the agent holds by default. */
  amount?: string
  /** Where to send it; the agent's owner by default. */
  to?: Address
  /**
   * Retrying with the same key never withdraws twice, and answers with the first withdrawal; the
   * same key with another token, amount or address is a `ConflictError` (`IDEMPOTENCY_CONFLICT`).
   */
  idempotencyKey?: string
}

export const withdrawalViewSchema = z
  .object({
    status: z
      .enum(['pending', 'sent', 'confirmed'])
      .describe('`pending` or `sent` while the chain does not answer: it is sent later, never twice.'),
    txHash: z.string().nullable().describe('Once sent.'),
    amount: moneySchema,
    to: z.string(),
  })
  .meta({
    id: 'Withdrawal',
    description: "Tokens sent from an agent's Safe to its owner (or another address).",
  })
export type WithdrawReturnType = z.infer<typeof withdrawalViewSchema>
export type WithdrawErrorType = ConflictError | QuotaError

/** What a withdrawal was asked for, kept on its intent so a retry with its key can be compared. */
type WithdrawRequest = { token: string; to: string; amount: string | null }

/**
 * Sends the agent's tokens from its Safe to its owner (or `to`): everything by default. Owner
 * withdrawals are not spending, so the spending policy does not apply (the owner's quotas do); a
 * paused agent can withdraw. When the chain does not answer, the withdrawal stays recorded and
 * comes back `pending`: the outbox sends it later, and a retry with the same key answers with it.
 *
 * @example
 * const { amount } = await withdraw(client, id, { token: 'dUSD' })
 */
export async function withdraw(
  client: RuntimeClient,
  id: string,
  parameters: WithdrawParameters = {},
): Promise<WithdrawReturnType> {
  const agent = await client.agents.get(id)
  if (!agent.safeAddress || agent.status === 'launching')
    throw new ConflictError(`Agent "${agent.name}" has no wallet yet.`, { code: 'AGENT_LAUNCHING' })
  const token = await client.tokens.resolve(parameters.token)
  const to = getAddress(parameters.to ?? agent.owner)
  const requested =
    parameters.amount === undefined ? undefined : client.tokens.parse(parameters.amount, token)
  const request: WithdrawRequest = {
    token: token.address.toLowerCase(),
    to: to.toLowerCase(),
    amount: requested === undefined ? null : requested.toString(),
  }
  const key = `withdraw:${agent.id}:${parameters.idempotencyKey ?? crypto.randomUUID()}`
  if (parameters.idempotencyKey !== undefined) {
    const earlier = await getIntentByKey(client.db, key)
    if (earlier) return resume(client, earlier, request, parameters.idempotencyKey)
  }
  const safe = agent.safeAddress as Address
  const held = await client.tokens.balanceOf(token, safe)
  const amount = requested ?? held
  const format = (value: bigint) => `${client.tokens.format(value, token)} ${token.symbol}`
  if (amount <= 0n) throw new ConflictError(`The agent holds no ${token.symbol} to withdraw.`)
  if (amount > held) throw new ConflictError(`The agent holds ${format(held)}, less than ${format(amount)}.`)
  const call =
    token.address === zeroAddress
      ? { to, data: '0x' as const, value: amount.toString() }
      : {
          to: token.address,
          data: encodeFunctionData({ abi: erc20Abi, functionName: 'transfer', args: [to, amount] }),
          value: '0',
        }
  const { intent, created } = await client.quotas.charge(agent.owner, { kind: 'withdraw', key }, () =>
    recordIntent(client, client.db, {
      idempotencyKey: key,
      kind: 'withdraw',
      agentId: agent.id,
      payload: { safe, ...call, amount: amount.toString(), token: request.token, request },
    }),
  )
  // Another request with the same key recorded first.
  if (!created) return resume(client, intent, request, parameters.idempotencyKey ?? key)
  const withdrawn = client.tokens.money(amount, token)
  const outcome = await sendRecorded(client, intent)
  if (outcome.status !== 'confirmed') return { status: outcome.status, txHash: null, amount: withdrawn, to }
  await client.activity.record(agent.id, 'payment', {
    event: 'withdrawn',
    amount: withdrawn,
    to,
    txHash: outcome.receipt.transactionHash,
  })
  return { status: 'confirmed', txHash: outcome.receipt.transactionHash, amount: withdrawn, to }
}

/** A withdrawal retried with its key: the same request answers with where the first one stands. */
async function resume(
  client: RuntimeClient,
  intent: Intent,
  request: WithdrawRequest,
  key: string,
): Promise<WithdrawReturnType> {
  const payload = intent.payload as {
    amount?: string
    token?: string
    to?: string
    request?: WithdrawRequest
  }
  const first = payload.request
  if (!first || first.token !== request.token || first.to !== request.to || first.amount !== request.amount)
    throw new ConflictError(
      `The idempotency key "${key}" was used for another withdrawal; use a new key for a new withdrawal.`,
      { code: 'IDEMPOTENCY_CONFLICT' },
    )
  const token = await client.tokens.resolve(first.token)
  const answer = (status: WithdrawReturnType['status'], txHash: string | null): WithdrawReturnType => ({
    status,
    txHash,
    amount: client.tokens.money(BigInt(payload.amount ?? '0'), token),
    to: getAddress(first.to),
  })
  if (intent.status === 'confirmed') return answer('confirmed', intent.txHash)
  const outcome = await sendRecorded(client, intent)
  if (outcome.status !== 'confirmed') return answer(outcome.status, null)
  return answer('confirmed', outcome.receipt.transactionHash)
}
