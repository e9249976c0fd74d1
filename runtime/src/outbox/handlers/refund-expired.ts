import { agentEconomyAbi } from '@agora/contracts'
import { encodeFunctionData, parseEventLogs } from 'viem'
import { applyJobEvent } from '../../projection/apply-job-event.ts'
import type { IntentHandler } from '../intent-handler.ts'

/** Refunds a job whose time is up; anyone may call it on the economy, so a relayer does. */
export const refundExpiredHandler: IntentHandler = {
  lane: (payload) => `refund:${String(payload.jobId)}`,
  async build(client, intent) {
    return {
      to: client.chain.contracts.economy,
      data: encodeFunctionData({
        abi: agentEconomyAbi,
        functionName: 'refundExpired',
        args: [BigInt(String(intent.payload.jobId))],
      }),
    }
  },
  async onSettled(client, _intent, receipt) {
    for (const event of parseEventLogs({ abi: agentEconomyAbi, logs: receipt.logs }))
      await applyJobEvent(client, event)
    return undefined
  },
}
