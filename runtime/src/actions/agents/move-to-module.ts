import { agentModuleAbi, safeAbi } from '@agora/contracts'
import { ConflictError } from '@agora/db'
import { type Address, encodeFunctionData, type Hex } from 'viem'
import type { RuntimeClient } from '../../client.ts'
import type { SpendingPolicy } from '../../define-agent.ts'
import { OwnerSignatureRequiredError, wrapChainError } from '../../errors.ts'
import { toPolicyChange } from '../../guard/on-chain-policy.ts'
import { type AgentView, toAgentView } from '../../views/agent-view.ts'
import { multiSendData } from '../../wallet/safe-signer.ts'
import { ownerTransaction } from './owner-transaction.ts'

export type MoveToModuleParameters = {
  /** The Safe owners' signatures of the transaction a call without them returns. */
  ownerSignature?: Hex
}

/** Safe's owner list starts (and ends) at this sentinel. */
const SENTINEL = '0x0000000000000000000000000000000000000001'

/**
 * Moves an agent launched before the agent module onto it, as one Safe transaction of its owners:
 * the agent's key stops being an owner, the module is enabled, and the key and the agent's policy
 * are written to it. Until then its policy holds in code only (its view says `guardrails:
 * 'code-only'`). Without `ownerSignature` nothing changes: an `OwnerSignatureRequiredError` carries
 * the transaction to sign; with the signatures it is sent and this returns once it landed.
 *
 * @example
 * await moveToModule(client, agentId, { ownerSignature })
 */
export async function moveToModule(
  client: RuntimeClient,
  agentId: string,
  parameters: MoveToModuleParameters = {},
): Promise<AgentView> {
  const agent = await client.agents.get(agentId)
  const safe = agent.safeAddress as Address | null
  if (!safe || agent.status === 'retired' || agent.status === 'launching')
    throw new ConflictError(`Agent "${agent.name}" has no Safe in use to move (it is ${agent.status}).`)
  const key = agent.signerAddress as Address
  client.safes.forget(safe) // read afresh: the owners act on the Safe without the runtime
  if ((await client.safes.pathOf(safe, key)) === 'module')
    throw new ConflictError(`Agent "${agent.name}" already acts through the agent module.`)
  const policy = (agent.definition as { policy?: SpendingPolicy }).policy ?? {}
  const change = await toPolicyChange(client.tokens, client.chain.knownTokens, policy, key)
  const { module } = client.chain.contracts
  const calls = [
    { to: safe, data: await removeOwnerData(client, safe, key) },
    { to: safe, data: encodeFunctionData({ abi: safeAbi, functionName: 'enableModule', args: [module] }) },
    {
      to: module,
      data: encodeFunctionData({ abi: agentModuleAbi, functionName: 'initialize', args: [key, change] }),
    },
  ]
  const request = await ownerTransaction(
    client,
    agent,
    { to: client.chain.safeContracts.multiSendCallOnly, data: multiSendData(calls), operation: 1 },
    parameters.ownerSignature,
    `Move agent ${agent.chainAgentId} onto the agent module: remove its key ${key} as an owner, enable the module, write its key and policy there.`,
  )
  if (request)
    throw new OwnerSignatureRequiredError(
      `Agent ${agent.chainAgentId}'s owners sign the Safe transaction ${request.safeTxHash} to move it onto the agent module, then send the request again with ownerSignature.`,
      request,
    )
  client.safes.forget(safe)
  await client.activity.record(agent.id, 'lifecycle', { event: 'moved to the agent module', module })
  return toAgentView(client, agent)
}

/** `removeOwner(prev, key, threshold)`: the owner before the key in Safe's list, the threshold kept if it can be. */
async function removeOwnerData(client: RuntimeClient, safe: Address, key: Address): Promise<Hex> {
  const read = <T>(p: Promise<T>) =>
    p.catch((error: unknown) => {
      throw wrapChainError(error, "Reading the Safe's owners")
    })
  const { publicClient } = client.chain
  const [owners, threshold] = await Promise.all([
    read(publicClient.readContract({ address: safe, abi: safeAbi, functionName: 'getOwners' })),
    read(publicClient.readContract({ address: safe, abi: safeAbi, functionName: 'getThreshold' })),
  ])
  const at = owners.findIndex((o) => o.toLowerCase() === key.toLowerCase())
  if (at < 0 || owners.length < 2)
    throw new ConflictError(
      `The agent's key is not an owner of its Safe ${safe} beside another: nothing to move.`,
    )
  const prev = at === 0 ? SENTINEL : owners[at - 1]!
  const left = BigInt(owners.length - 1)
  return encodeFunctionData({
    abi: safeAbi,
    functionName: 'removeOwner',
    args: [prev, key, threshold > left ? left : threshold],
  })
}
