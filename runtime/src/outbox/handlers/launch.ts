import { agentFactoryAbi, agentIdentityRegistryAbi, agentModuleAbi } from '@agora/contracts'
import { InternalError } from '@agora/db'
import { encodeFunctionData, parseEventLogs } from 'viem'
import {
  type LaunchPayload,
  launchIntent,
  MAX_LAUNCH_ATTEMPTS,
  releaseAgent,
} from '../../actions/agents/launch-attempts.ts'
import type { SpendingPolicy } from '../../define-agent.ts'
import { toPolicyChange } from '../../guard/on-chain-policy.ts'
import type { IntentHandler } from '../intent-handler.ts'
import { recordIntent } from '../record-intent.ts'
import { explainRevert } from './explain-revert.ts'

/** What a launch can be refused with: the factory's, the registry's and the module's errors, from inside the launch. */
const launchErrors = [...agentFactoryAbi, ...agentIdentityRegistryAbi, ...agentModuleAbi].filter(
  (item) => item.type === 'error',
)

/**
 * The factory's one-transaction launch, settled into the agent's row (ids, Safe, account): a Safe
 * owned by the agent's owner, with the agent module enabled and the agent's key and spending policy
 * written to it (`toPolicyChange`). An
 * attempt the chain refuses is followed by the next (`launchIntent`, a salt of its own) until
 * `MAX_LAUNCH_ATTEMPTS`; then the agent is released (`releaseAgent`): nothing stays `launching`.
 */
export const launchHandler: IntentHandler = {
  lane: () => 'factory',
  async build(client, intent) {
    const p = intent.payload as LaunchPayload
    const { definition } = await client.agents.get(intent.agentId!)
    const policy = (definition as { policy?: SpendingPolicy }).policy ?? {}
    return {
      to: client.chain.contracts.factory,
      data: encodeFunctionData({
        abi: agentFactoryAbi,
        functionName: 'launch',
        args: [
          {
            owner: p.owner,
            agentURI: p.agentURI,
            safeOwners: [p.owner],
            threshold: 1n,
            salt: p.salt,
            agentKey: p.signer,
            policy: await toPolicyChange(client.tokens, client.chain.knownTokens, policy, p.signer),
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
    await client.market.refresh(agentId.toString())
    return { chainAgentId: agentId.toString(), safe, account }
  },
  async onFailed(client, intent, error) {
    const p = intent.payload as LaunchPayload
    const attempt = p.attempt ?? 0
    await client.activity.record(intent.agentId, 'lifecycle', {
      event: 'launch failed',
      attempt,
      error: error.shortMessage,
    })
    if (attempt + 1 < MAX_LAUNCH_ATTEMPTS)
      await recordIntent(client, client.db, launchIntent(intent.agentId!, p, attempt + 1))
    else await releaseAgent(client, intent.agentId!, error.shortMessage)
  },
  /** The factory's proxy calls hide the registry's refusal: replay the launch to decode it. */
  async explain(client, intent) {
    const call = await launchHandler.build(client, intent)
    const account = client.outbox.relayerFor('factory').address
    return explainRevert(client, intent, { account, to: call.to, data: call.data }, launchErrors)
  },
}
