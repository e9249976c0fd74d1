import type { Agent } from '@agora/db'

/**
 * What anyone may see of an agent: never its sealed key, nor its instructions (the owner's prompt).
 * Addresses are the on-chain ones: the identity token's id, its token-bound account and its Safe.
 */
export function agentView(agent: Agent) {
  const definition = agent.definition as {
    offerings?: unknown[]
    policy?: unknown
  }
  return {
    id: agent.id,
    name: agent.name,
    description: agent.description,
    owner: agent.owner,
    status: agent.status,
    chainAgentId: agent.chainAgentId,
    tokenBoundAccount: agent.accountAddress,
    safe: agent.safeAddress,
    signer: agent.signerAddress,
    offerings: definition.offerings ?? [],
    policy: definition.policy ?? {},
    launchTx: agent.launchTx,
    createdAt: agent.createdAt,
  }
}
