import { ConflictError } from '@agora/db'
import { type Address, encodeFunctionData, erc20Abi, getAddress, zeroAddress } from 'viem'
import { z } from 'zod'
import type { RuntimeClient } from '../../client.ts'
import { recordIntent } from '../../outbox/record-intent.ts'
import { sendIntent } from '../../outbox/send-intent.ts'
import { type Money, moneySchema } from '../../views/money.ts'

export type WithdrawParameters = {
  /** Token symbol or address (default `'dUSD'`). */
  token?: string
  /** Amount in token units; everything the agent holds by default. */
  amount?: string
  /** Where to send it; the agent's owner by default. */
  to?: Address
  /** Retrying with the same key never withdraws twice. */
  idempotencyKey?: string
}

export const withdrawalViewSchema = z
  .object({ txHash: z.string(), amount: moneySchema, to: z.string() })
  .meta({
    id: 'Withdrawal',
    description: "Tokens sent from an agent's Safe to its owner (or another address).",
  })
export type WithdrawReturnType = { txHash: string; amount: Money; to: string }

/**
 * Sends the agent's tokens from its Safe to its owner (or `to`): everything by default. Owner
 * withdrawals are not spending, so the spending policy does not apply; a paused agent can withdraw.
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
  const token = await client.tokens.resolve(parameters.token ?? 'dUSD')
  const to = getAddress(parameters.to ?? agent.owner)
  const safe = agent.safeAddress as Address
  const held = await client.tokens.balanceOf(token, safe)
  const amount = parameters.amount === undefined ? held : client.tokens.parse(parameters.amount, token)
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
  const { intent } = await recordIntent(client, client.db, {
    idempotencyKey: `withdraw:${agent.id}:${parameters.idempotencyKey ?? crypto.randomUUID()}`,
    kind: 'withdraw',
    agentId: agent.id,
    payload: { safe, ...call },
  })
  const { receipt } = await sendIntent(client, intent)
  const withdrawn = client.tokens.money(amount, token)
  await client.activity.record(agent.id, 'payment', {
    event: 'withdrawn',
    amount: withdrawn,
    to,
    txHash: receipt.transactionHash,
  })
  return { txHash: receipt.transactionHash, amount: withdrawn, to }
}
