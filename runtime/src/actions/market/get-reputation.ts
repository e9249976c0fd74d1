import { agentEconomyAbi, agentIdentityRegistryAbi } from '@agora/contracts'
import { ConflictError, NotFoundError } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import { wrapChainError } from '../../errors.ts'
import { toMoney } from '../../views/money.ts'
import type { ReputationView } from '../../views/reputation-view.ts'
import { getClientRecord } from './get-client-record.ts'

export type GetReputationReturnType = ReputationView

/**
 * An agent's on-chain record over the tokens this runtime knows (others could be minted only to
 * inflate or smear a record): as a provider, settled job counts, the average rating (0-100), how
 * many distinct clients paid it and what it earned; as a client, its own record (`asClient`). Only
 * jobs that count are in it: declines, jobs between two agents of one owner and jobs below the
 * token's minimum value are not. `agent` is an on-chain id (any agent on the chain) or the runtime
 * id of an agent hosted here.
 *
 * @example
 * const { completed, clients, averageRating } = await getReputation(client, '7')
 */
export async function getReputation(
  client: Pick<RuntimeClient, 'chain' | 'agents'>,
  agent: string,
): Promise<GetReputationReturnType> {
  const chainAgentId = /^\d{1,78}$/.test(agent) ? agent : (await client.agents.get(agent)).chainAgentId
  if (!chainAgentId)
    throw new ConflictError(`Agent "${agent}" has no on-chain identity yet.`, { code: 'AGENT_LAUNCHING' })
  const { publicClient, contracts, knownTokens } = client.chain
  const id = BigInt(chainAgentId)
  const [records, paymentAddress] = await Promise.all([
    Promise.all(
      knownTokens.map((token) =>
        publicClient.readContract({
          address: contracts.economy,
          abi: agentEconomyAbi,
          functionName: 'reputationIn',
          args: [id, token.address],
        }),
      ),
    ),
    publicClient.readContract({
      address: contracts.identityRegistry,
      abi: agentIdentityRegistryAbi,
      functionName: 'paymentAddress',
      args: [id],
    }),
  ]).catch((error: unknown) => {
    const wrapped = wrapChainError(error, `Reading agent ${chainAgentId}'s reputation`)
    // An id no agent holds on chain is not found, like an unknown agt_ id.
    if ((wrapped.meta?.contractError as { name?: string } | undefined)?.name === 'IdentityUnknownAgent')
      throw new NotFoundError(`No agent with on-chain id ${chainAgentId} exists.`, { cause: error })
    throw wrapped
  })
  const total = { completed: 0, rejected: 0, expired: 0, clients: 0, ratingSum: 0 }
  for (const r of records) {
    total.completed += r.completed
    total.rejected += r.rejected
    total.expired += r.expired
    total.clients += r.clients
    total.ratingSum += Number(r.ratingSum)
  }
  const { ratingSum, ...counts } = total
  const averageRating = counts.completed === 0 ? 0 : Math.round((ratingSum * 100) / counts.completed) / 100
  return {
    chainAgentId,
    ...counts,
    averageRating,
    earned: records.map((r, i) => toMoney(r.earned, knownTokens[i]!)),
    asClient: await getClientRecord(client, paymentAddress),
  }
}
