import { type Agent, getIntentByKey, type Payment, tables } from '@agora/db'
import { and, eq, ne, sql } from 'drizzle-orm'
import { type Address, encodeFunctionData, erc20Abi } from 'viem'
import type { RuntimeClient } from '../../client.ts'
import { createKeyedMutex } from '../../outbox/mutex.ts'
import { recordIntent } from '../../outbox/record-intent.ts'
import { sendIntent } from '../../outbox/send-intent.ts'

/**
 * An agent's x402 payments are EIP-3009 authorizations, signed off chain, which the agent module cannot
 * see. So an agent on the module pays them from a hot wallet, its own key's address, which the module
 * tops up from the Safe through a transfer it checks and counts like any other spend (the cap per call,
 * the budget per period, the key allowed as payee). The hot wallet holds no more than the purchases in
 * flight need: a thief with the key takes at most what the policy lets any spend take.
 * An agent launched before the module pays from its Safe (ERC-1271), as its key is an owner there.
 */

/** Where an agent's x402 payments come from: its hot wallet on the module, its Safe otherwise. */
export async function x402Payer(
  client: Pick<RuntimeClient, 'safes' | 'signers'>,
  agent: Agent & { safeAddress: string },
): Promise<{ address: Address; hot: boolean }> {
  const key = client.signers.of(agent)
  const hot = (await client.safes.pathOf(agent.safeAddress as Address, key.address)) === 'module'
  return { address: hot ? key.address : (agent.safeAddress as Address), hot }
}

/** Top-ups of one agent run one after another: each sees the balance the one before left. */
const topUps = createKeyedMutex()

/**
 * Moves into `agent`'s hot wallet what `payment` needs beyond what the wallet holds for other
 * payments signed and not yet settled, and waits until the move lands. Idempotent per payment: a
 * retry finds its top-up recorded (and sent, or sends it). Refusals come from the agent module
 * (`ModuleOverCallCap`, `ModuleOverBudget`, `ModulePayeeNotAllowed`, `ModulePaused`, ...).
 *
 * @example
 * await topUpHotWallet(client, agent, payment)
 */
export async function topUpHotWallet(
  client: RuntimeClient,
  agent: Agent & { safeAddress: string },
  payment: Payment,
): Promise<void> {
  await topUps.run(agent.id, async () => {
    const key = `topUp:${payment.id}`
    let intent = await getIntentByKey(client.db, key)
    if (!intent) {
      const token = await client.tokens.resolve(payment.token)
      const hot = client.signers.of(agent).address
      const [held, owed] = await Promise.all([
        client.tokens.balanceOf(token, hot),
        signedUnsettled(client, agent.id, hot, payment),
      ])
      const need = BigInt(payment.amount) + owed - held
      if (need <= 0n) return
      const data = encodeFunctionData({ abi: erc20Abi, functionName: 'transfer', args: [hot, need] })
      intent = (
        await recordIntent(client, client.db, {
          idempotencyKey: key,
          kind: 'topUp',
          agentId: agent.id,
          payload: { safe: agent.safeAddress, to: token.address, data, value: '0' },
        })
      ).intent
    }
    await sendIntent(client, intent)
  })
}

/** What the hot wallet owes to x402 payments of the agent's signed and not settled, other than `payment`. */
async function signedUnsettled(
  client: Pick<RuntimeClient, 'db'>,
  agentId: string,
  hot: Address,
  payment: Payment,
): Promise<bigint> {
  const { payments } = tables
  const [row] = await client.db
    .select({ total: sql<string>`coalesce(sum(${payments.amount}), 0)` })
    .from(payments)
    .where(
      and(
        eq(payments.fromAgentId, agentId),
        eq(payments.kind, 'x402'),
        eq(payments.status, 'sent'),
        eq(payments.fromAddress, hot.toLowerCase()),
        eq(payments.token, payment.token),
        ne(payments.id, payment.id),
      ),
    )
  return BigInt(row?.total ?? 0)
}
