import { type Agent, agentStatuses } from '@agora/db'
import { z } from 'zod'
import type { RuntimeClient } from '../client.ts'
import { spendingPolicySchema } from '../define-agent.ts'
import { offeringViewSchema, type StoredOffering, toOfferingView } from './offering-view.ts'

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/)

export const agentViewSchema = z
  .object({
    id: z.string().describe('The runtime id (`agt_…`); routes also accept the on-chain id.'),
    name: z.string(),
    description: z.string(),
    owner: address.describe('Holds the identity token and co-owns the Safe.'),
    status: z.enum(agentStatuses),
    chainAgentId: z.string().nullable().describe('The identity token id; null while launching.'),
    tokenBoundAccount: address.nullable().describe("The identity token's ERC-6551 account."),
    safe: address.nullable().describe("The agent's Safe: its wallet."),
    signer: address.describe("The agent's own key (a Safe owner)."),
    offerings: z.array(offeringViewSchema),
    policy: spendingPolicySchema,
    model: z
      .object({ provider: z.string(), model: z.string() })
      .nullable()
      .describe('The model it thinks with, if any (never its key).'),
    launchTx: z.string().nullable(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Agent', description: 'An agent: identity, wallet, offerings and spending policy.' })

export type AgentView = z.infer<typeof agentViewSchema>

/** The definition as stored with an agent (see `describeDefinition`). */
export type StoredDefinition = {
  model?: { provider?: string; model?: string } | null
  policy?: z.infer<typeof spendingPolicySchema>
  offerings?: StoredOffering[]
  /** The JSON an agent defined over HTTP was built from (`agentFromJson`). */
  json?: Record<string, unknown>
}

/**
 * What anyone may see of an agent: never its sealed key, nor its instructions (the owner's prompt).
 *
 * @example
 * const view = await toAgentView(client, await client.agents.get(id))
 */
export async function toAgentView(client: Pick<RuntimeClient, 'tokens'>, agent: Agent): Promise<AgentView> {
  const definition = agent.definition as StoredDefinition
  const model = definition.model
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
    offerings: await Promise.all((definition.offerings ?? []).map((o) => toOfferingView(client, o))),
    policy: definition.policy ?? {},
    model: model?.model ? { provider: String(model.provider ?? 'openai'), model: model.model } : null,
    launchTx: agent.launchTx,
    createdAt: agent.createdAt.toISOString(),
  }
}
