import { getMarketOffering as getMarketOfferingRow, type MarketOfferingMatch, NotFoundError } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'

export type GetMarketOfferingReturnType = MarketOfferingMatch

/**
 * One offering of an agent the market lists (hosted here or by another runtime), by the agent's
 * on-chain id and the offering's name: its price (base units of `token`), schemas and endpoints
 * (`x402`: the paid HTTP resource; `escrow`: the API of the runtime hosting it), and the agent's
 * owner and bound wallet, for a client about to hire it. Offerings of inactive agents are returned
 * too (`agent.active`): the caller decides.
 *
 * @example
 * const { offering, agent } = await getMarketOffering(client, '7', 'summarize')
 */
export async function getMarketOffering(
  client: Pick<RuntimeClient, 'db'>,
  chainAgentId: string,
  name: string,
): Promise<GetMarketOfferingReturnType> {
  const found = /^\d{1,78}$/.test(chainAgentId)
    ? await getMarketOfferingRow(client.db, chainAgentId, name)
    : undefined
  if (!found) throw new NotFoundError(`Agent ${chainAgentId} lists no offering "${name}" in the market.`)
  return found
}
