import { agentEconomyAbi } from '@agora/contracts'
import type { Agent } from '@agora/db'
import { type ContractFunctionArgs, encodeFunctionData } from 'viem'
import type { RuntimeClient } from '../../client.ts'
import type { SentIntent } from '../../outbox/intent-handler.ts'
import { recordIntent } from '../../outbox/record-intent.ts'
import { sendIntent } from '../../outbox/send-intent.ts'

export type JobStep = 'submitJob' | 'declineJob' | 'completeJob' | 'rejectJob'

/**
 * One step of a job, made by the agent's Safe on the economy: an intent keyed by step and job, so
 * the in-process path and the indexer can both trigger it and it still happens once.
 *
 * @example
 * await sendJobStep(client, provider, 'submitJob', jobId, [BigInt(jobId), deliverableHash])
 */
export async function sendJobStep<F extends JobStep>(
  client: RuntimeClient,
  agent: Agent,
  functionName: F,
  jobId: string,
  args: ContractFunctionArgs<typeof agentEconomyAbi, 'nonpayable', F>,
  extra: Record<string, unknown> = {},
): Promise<SentIntent> {
  const { intent } = await recordIntent(client, client.db, {
    idempotencyKey: `${functionName}:${jobId}`,
    kind: functionName,
    agentId: agent.id,
    payload: {
      safe: agent.safeAddress,
      to: client.chain.contracts.economy,
      data: encodeFunctionData({ abi: agentEconomyAbi, functionName, args } as never),
      value: '0',
      jobId,
      ...extra,
    },
  })
  return sendIntent(client, intent)
}
