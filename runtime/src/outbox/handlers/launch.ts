import { agentFactoryAbi } from '@agora/contracts'
import { InternalError } from '@agora/db'
import { type Address, encodeFunctionData, type Hex, parseEventLogs } from 'viem'
import type { IntentHandler } from '../intent-handler.ts'

type LaunchPayload = { owner: Address; signer: Address; agentURI: string; salt: Hex }

/** The factory's one-transaction launch, settled into the agent's row (ids, Safe, account). */
export const launchHandler: IntentHandler = {
  lane: () => 'factory',
  async build(client, intent) {
    const p = intent.payload as LaunchPayload
    return {
      to: client.chain.contracts.factory,
      data: encodeFunctionData({
        abi: agentFactoryAbi,
        functionName: 'launch',
        args: [
          {
            owner: p.owner,
            agentURI: p.agentURI,
            safeOwners: [p.signer, p.owner],
            threshold: 1n,
            salt: p.salt,
          },
        ],
      }),
    }
  },
  async onSettled(client, intent, receipt) {
    const [launched] = parseEventLogs({
      abi: agentFactoryAbi,
      eventName: 'AgentLaunched',
      logs: receipt.logs,
    })
    if (!launched) throw new InternalError('The launch transaction carries no AgentLaunched event.')
    const { agentId, safe, account } = launched.args
    await client.agents.update(intent.agentId!, {
      status: 'active',
      chainAgentId: agentId.toString(),
      safeAddress: safe.toLowerCase(),
      accountAddress: account.toLowerCase(),
      launchTx: receipt.transactionHash,
    })
    await client.activity.record(intent.agentId, 'lifecycle', {
      event: 'launched',
      chainAgentId: agentId.toString(),
      safe,
      account,
      txHash: receipt.transactionHash,
    })
    return { chainAgentId: agentId.toString(), safe, account }
  },
  async onFailed(client, intent, error) {
    await client.activity.record(intent.agentId, 'lifecycle', {
      event: 'launch failed',
      error: error.shortMessage,
    })
  },
}
