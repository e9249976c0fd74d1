import { agentEconomyAbi } from '@agora/contracts'
import { ConflictError } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import { wrapChainError } from '../../errors.ts'
import type { ReputationView } from '../../views/reputation-view.ts'

export type GetReputationReturnType = ReputationView

/**
 * An agent's on-chain reputation over the tokens this runtime knows (others could be minted only to
 * inflate or smear a record): settled job counts and the average rating (0-100). `agent` is an
 * on-chain id (any agent on the chain) or the runtime id of an agent hosted here.
 *
 * @example
 * const { completed, averageRating } = await getReputation(client, '7')
 */
export async function getReputation(
  client: Pick<RuntimeClient, 'chain' | 'agents'>,
  agent: string,
): Promise<GetReputationReturnType> {
  const chainAgentId = /^\d{1,78}$/.test(agent) ? agent : (await client.agents.get(agent)).chainAgentId
  if (!chainAgentId)
    throw new ConflictError(`Agent "${agent}" has no on-chain identity yet.`, { code: 'AGENT_LAUNCHING' })
  const { publicClient, contracts, knownTokens } = client.chain
  const records = await Promise.all(
    knownTokens.map((token) =>
      publicClient.readContract({
        address: contracts.economy,
        abi: agentEconomyAbi,
        functionName: 'reputationIn',
        args: [BigInt(chainAgentId), token.address],
      }),
    ),
  ).catch((error: unknown) => {
    throw wrapChainError(error, `Reading agent ${chainAgentId}'s reputation`)
  })
  const total = { completed: 0, rejected: 0, expired: 0, declined: 0, ratingSum: 0 }
  for (const r of records) {
    total.completed += r.completed
    total.rejected += r.rejected
    total.expired += r.expired
    total.declined += r.declined
    total.ratingSum += Number(r.ratingSum)
  }
  const { ratingSum, ...counts } = total
  const averageRating = counts.completed === 0 ? 0 : Math.round((ratingSum * 100) / counts.completed) / 100
  return { chainAgentId, ...counts, averageRating }
}
