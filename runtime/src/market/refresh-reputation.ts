import { BaseError, setMarketReputation } from '@agora/db'
import { getReputation } from '../actions/market/get-reputation.ts'
import { marketScore } from '../actions/market/market-score.ts'
import type { RuntimeClient } from '../client.ts'

/**
 * Reads an agent's on-chain record and stores it on its market listing and offerings, where
 * searches sort and filter by it in SQL (no chain read per search). Run after every settlement that
 * names the agent (see `followMarket`) and when its listing is first written. Never throws: a record
 * not read now is read at the next settlement or refresh (the log says so).
 *
 * @example
 * await refreshReputation(client, '7')
 */
export async function refreshReputation(
  client: Pick<RuntimeClient, 'db' | 'chain' | 'agents' | 'log'>,
  chainAgentId: string,
): Promise<void> {
  try {
    const reputation = await getReputation(client, chainAgentId)
    const earned = Object.fromEntries(reputation.earned.map((m) => [m.token, m.value]))
    await setMarketReputation(client.db, chainAgentId, {
      reputation,
      score: marketScore(reputation),
      rating: reputation.averageRating,
      earned,
    })
  } catch (error) {
    const reason = error instanceof BaseError ? error.shortMessage : String(error)
    client.log(`market: agent ${chainAgentId}'s record not refreshed: ${reason}`)
  }
}
