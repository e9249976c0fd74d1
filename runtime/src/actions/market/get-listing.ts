import { getListing as getListingRow, type MarketAgent, NotFoundError } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'

export type GetListingReturnType = MarketAgent

/**
 * What the market knows of an agent on the chain, hosted here or not: its owner, bound wallet and
 * token URI, whether its registration file is `listed` (with the file as validated) or `skipped`
 * (with the reason in `error`), and when it was last read.
 *
 * @example
 * const { status, error } = await getListing(client, '7')
 */
export async function getListing(
  client: Pick<RuntimeClient, 'db'>,
  chainAgentId: string,
): Promise<GetListingReturnType> {
  const listing = /^\d{1,78}$/.test(chainAgentId) ? await getListingRow(client.db, chainAgentId) : undefined
  if (!listing) throw new NotFoundError(`The market knows no agent with on-chain id ${chainAgentId}.`)
  return listing
}
