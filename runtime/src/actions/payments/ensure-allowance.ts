import type { Agent } from '@agora/db'
import { type Address, encodeFunctionData, erc20Abi, maxUint256, zeroAddress } from 'viem'
import type { RuntimeClient } from '../../client.ts'
import { recordIntent } from '../../outbox/record-intent.ts'
import { sendIntent } from '../../outbox/send-intent.ts'
import type { Token } from '../../wallet/tokens.ts'

// Safes known to have approved the economy for the maximum: nothing spends that down in practice.
const unlimited = new Set<string>()

/**
 * Makes sure the economy may pull `amount` of `token` from the agent's Safe (one max approval per
 * token). Done before a spend is recorded, so a recorded spend can be sent as it stands, also by a
 * restarted process.
 *
 * @example
 * await ensureAllowance(client, agent, dUSD, 2_500_000n)
 */
export async function ensureAllowance(client: RuntimeClient, agent: Agent, token: Token, amount: bigint) {
  if (token.address === zeroAddress) return
  const economy = client.chain.contracts.economy
  const safe = agent.safeAddress as Address
  const key = `${economy}:${safe}:${token.address}`.toLowerCase()
  if (unlimited.has(key)) return
  const allowance = await client.chain.publicClient.readContract({
    address: token.address,
    abi: erc20Abi,
    functionName: 'allowance',
    args: [safe, economy],
  })
  if (allowance >= maxUint256 / 2n) unlimited.add(key)
  if (allowance >= amount) return
  const { intent } = await recordIntent(client, client.db, {
    idempotencyKey: `approve:${agent.id}:${token.address.toLowerCase()}:${allowance}`,
    kind: 'approve',
    agentId: agent.id,
    payload: {
      safe,
      to: token.address,
      data: encodeFunctionData({ abi: erc20Abi, functionName: 'approve', args: [economy, maxUint256] }),
      value: '0',
    },
  })
  await sendIntent(client, intent)
  unlimited.add(key)
}
