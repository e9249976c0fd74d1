import { tables } from '@agora/db'
import { and, eq, isNotNull, lt } from 'drizzle-orm'
import type { RuntimeClient } from '../../client.ts'
import { confirm, fail } from './pay-x402.ts'
import { authorizationState, storedAuthorization } from './x402-authorization.ts'

/**
 * x402 purchases left `sent` (signed and handed to a server that did not say it settled): confirmed
 * once the chain shows the authorization used, failed (and no longer counted against the budget)
 * once it expired unused. Runs in the runtime's sweep; a chain that does not answer leaves them as
 * they are.
 *
 * @example
 * await resolveX402Purchases(client)
 */
export async function resolveX402Purchases(client: RuntimeClient, olderThanMs = 10_000): Promise<void> {
  const { payments } = tables
  const sent = await client.db
    .select()
    .from(payments)
    .where(
      and(
        eq(payments.kind, 'x402'),
        eq(payments.status, 'sent'),
        isNotNull(payments.fromAgentId),
        lt(payments.updatedAt, new Date(Date.now() - olderThanMs)),
      ),
    )
    .limit(100)
  if (sent.length === 0) return
  const block = await client.chain.publicClient.getBlock().catch(() => undefined)
  if (!block) return
  for (const payment of sent) {
    const signed = await storedAuthorization(client, payment)
    if (!signed) continue
    const state = await authorizationState(client.chain.publicClient, {
      token: payment.token as `0x${string}`,
      authorization: signed.authorization,
      fromBlock: signed.fromBlock,
    }).catch(() => undefined)
    if (state?.settled) await confirm(client, payment, state.txHash)
    else if (state && BigInt(signed.authorization.validBefore) < block.timestamp) await fail(client, payment)
  }
}
