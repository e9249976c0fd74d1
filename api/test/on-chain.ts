import { agentEconomyAbi, agentFactoryAbi } from '@agora/contracts'
import { type Address, keccak256, type PublicClient, parseEventLogs, toHex } from 'viem'

/** An operation a load test sent through the API: a payment (memo = key), a hire (job id) or a launch (agent id). */
export type LoadOp = { kind: 'pay' | 'hire' | 'launch'; key: string; id?: string }

/**
 * How many times each operation is on chain: `Paid` events with its key as memo, `JobCreated` with
 * its job id, `AgentLaunched` with its agent's Safe (`safeOf`, read from the API). Exactly once is
 * what the crash and kill tests demand.
 *
 * @example
 * const counts = await countOnChain(publicClient, contracts, ops, (id) => safeOf(id))
 */
export async function countOnChain(
  publicClient: PublicClient,
  contracts: { economy: Address; factory: Address },
  ops: readonly LoadOp[],
  safeOf: (agentId: string) => Promise<Address>,
): Promise<Map<LoadOp, number>> {
  const events = parseEventLogs({
    abi: [...agentEconomyAbi, ...agentFactoryAbi],
    logs: await publicClient.getLogs({ address: [contracts.economy, contracts.factory], fromBlock: 0n }),
  })
  const counts = new Map<LoadOp, number>()
  for (const op of ops) {
    let found = 0
    if (op.kind === 'pay')
      found = events.filter((e) => e.eventName === 'Paid' && e.args.memo === keccak256(toHex(op.key))).length
    else if (op.kind === 'hire')
      found = events.filter((e) => e.eventName === 'JobCreated' && String(e.args.jobId) === op.id).length
    else {
      const safe = (await safeOf(op.id!)).toLowerCase()
      found = events.filter(
        (e) => e.eventName === 'AgentLaunched' && e.args.safe.toLowerCase() === safe,
      ).length
    }
    counts.set(op, found)
  }
  return counts
}
