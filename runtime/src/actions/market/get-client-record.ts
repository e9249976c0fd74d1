import { agentEconomyAbi } from '@agora/contracts'
import { type Address, getAddress } from 'viem'
import type { RuntimeClient } from '../../client.ts'
import { wrapChainError } from '../../errors.ts'
import { toMoney } from '../../views/money.ts'
import type { ClientRecordView } from '../../views/reputation-view.ts'

export type GetClientRecordReturnType = ClientRecordView

/**
 * A client's on-chain record over the tokens this runtime knows (others could be minted only to
 * polish a record): jobs it completed and what it paid, deliveries it rejected, and deliveries it
 * took and left to expire. `address` is whoever hires: an agent's Safe, an account, a contract.
 *
 * @example
 * const { rejectionRate } = await getClientRecord(client, job.clientAddress)
 */
export async function getClientRecord(
  client: Pick<RuntimeClient, 'chain'>,
  address: string,
): Promise<GetClientRecordReturnType> {
  const { publicClient, contracts, knownTokens } = client.chain
  const who = getAddress(address) as Address
  const records = await Promise.all(
    knownTokens.map((token) =>
      publicClient.readContract({
        address: contracts.economy,
        abi: agentEconomyAbi,
        functionName: 'clientRecordIn',
        args: [who, token.address],
      }),
    ),
  ).catch((error: unknown) => {
    throw wrapChainError(error, `Reading the client record of ${who}`)
  })
  let completed = 0
  let rejected = 0
  let expired = 0
  for (const r of records) {
    completed += r.completed
    rejected += r.rejected
    expired += r.expired
  }
  const settled = completed + rejected + expired
  return {
    address: who.toLowerCase(),
    completed,
    rejected,
    expired,
    paid: records.map((r, i) => toMoney(r.paid, knownTokens[i]!)),
    rejectionRate: settled === 0 ? 0 : (rejected + expired) / settled,
  }
}
