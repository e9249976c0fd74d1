import type { Address } from 'viem'
import type { RuntimeClient } from '../../client.ts'
import type { Money } from '../../views/money.ts'

export type GetBalancesParameters = {
  /** Token symbols or addresses; the tokens the runtime knows by name (ETH, dUSD) by default. */
  tokens?: string[]
}
export type GetBalancesReturnType = Money[]

/**
 * What the agent's Safe holds of each token; nothing before it is launched.
 *
 * @example
 * const [eth, dusd] = await getBalances(client, id)
 */
export async function getBalances(
  client: Pick<RuntimeClient, 'agents' | 'tokens' | 'chain'>,
  id: string,
  parameters: GetBalancesParameters = {},
): Promise<GetBalancesReturnType> {
  const agent = await client.agents.get(id)
  if (!agent.safeAddress) return []
  const symbols = parameters.tokens ?? client.chain.knownTokens.map((t) => t.symbol)
  return Promise.all(
    symbols.map(async (symbol) => {
      const token = await client.tokens.resolve(symbol)
      return client.tokens.money(await client.tokens.balanceOf(token, agent.safeAddress as Address), token)
    }),
  )
}
