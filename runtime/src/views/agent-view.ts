import { type Agent, agentStatuses } from '@agora/db'
import type { Address } from 'viem'
import { z } from 'zod'
import type { StoredFormerOffering } from '../actions/agents/former-offerings.ts'
import type { RuntimeClient } from '../client.ts'
import { spendingPolicySchema } from '../define-agent.ts'
import {
  defaultBaseURLs,
  type ModelCredential,
  type ModelProvider,
  openAIBaseURL,
} from '../inference/model-config.ts'
import { offeringViewSchema, type StoredOffering, toOfferingView } from './offering-view.ts'

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/)

export const modelViewSchema = z
  .object({
    provider: z.string().describe('`openai`, `openai-compatible`, `ollama`, `llamacpp` or `vllm`.'),
    model: z.string(),
    baseURL: z.string().describe('Where its requests go.'),
    temperature: z.number().optional(),
    maxTokens: z.number().int().optional(),
    timeoutMs: z.number().int().optional(),
    maxRetries: z.number().int().optional(),
    credential: z
      .enum(['sealed', 'env', 'code', 'none'])
      .describe(
        'Where its API key comes from: given over HTTP and sealed at rest (`sealed`), a server environment variable (`env`, named by `apiKeyEnv`), its TypeScript definition (`code`), or none.',
      ),
    apiKeyEnv: z.string().optional(),
  })
  .meta({ id: 'AgentModel', description: 'The model an agent thinks with; never its key.' })

export type ModelView = z.infer<typeof modelViewSchema>

export const agentViewSchema = z
  .object({
    id: z.string().describe('The runtime id (`agt_…`); routes also accept the on-chain id.'),
    name: z.string(),
    description: z.string(),
    owner: address.describe('Holds the identity token and owns the Safe.'),
    status: z.enum(agentStatuses),
    chainAgentId: z.string().nullable().describe('The identity token id; null while launching.'),
    tokenBoundAccount: address.nullable().describe("The identity token's ERC-6551 account."),
    safe: address.nullable().describe("The agent's Safe: its wallet."),
    signer: address.describe(
      "The agent's own key: it acts through the agent module (older agents: a Safe owner), and is the hot wallet its x402 payments come from.",
    ),
    guardrails: z
      .enum(['on-chain', 'code-only'])
      .nullable()
      .describe(
        "`on-chain`: the agent's key acts only through the agent module, which enforces its policy; `code-only`: an agent launched before the module, whose key is still an owner of its Safe (its owner can move it: POST /agents/{id}/module); null before its Safe exists.",
      ),
    offerings: z.array(offeringViewSchema),
    policy: spendingPolicySchema,
    model: modelViewSchema.nullable().describe('The model it thinks with, if any (never its key).'),
    launchTx: z.string().nullable(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Agent', description: 'An agent: identity, wallet, offerings and spending policy.' })

export type AgentView = z.infer<typeof agentViewSchema>

/** The definition as stored with an agent (see `describeDefinition`). */
export type StoredDefinition = {
  /** The model config as used, without its key. */
  model?: Record<string, unknown> | null
  /** Where the model's key comes from (older rows have none: read as `none`). */
  credential?: ModelCredential
  policy?: z.infer<typeof spendingPolicySchema>
  offerings?: StoredOffering[]
  /** The JSON an agent defined over HTTP was built from (`agentFromJson`), without its model's key. */
  json?: Record<string, unknown>
  /** Offerings a PATCH retired or changed, kept for the jobs hired before it (see `offeringForJob`). */
  formerOfferings?: StoredFormerOffering[]
}

/**
 * What anyone may see of an agent: never its sealed key, nor its instructions (the owner's prompt).
 *
 * @example
 * const view = await toAgentView(client, await client.agents.get(id))
 */
export async function toAgentView(
  client: Pick<RuntimeClient, 'tokens' | 'safes'>,
  agent: Agent,
): Promise<AgentView> {
  const definition = agent.definition as StoredDefinition
  const path = agent.safeAddress
    ? await client.safes
        .pathOf(agent.safeAddress as Address, agent.signerAddress as Address)
        .catch(() => null)
    : null
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
    guardrails: path && (path === 'module' ? 'on-chain' : 'code-only'),
    offerings: await Promise.all((definition.offerings ?? []).map((o) => toOfferingView(client, o))),
    policy: definition.policy ?? {},
    model: toModelView(definition),
    launchTx: agent.launchTx,
    createdAt: agent.createdAt.toISOString(),
  }
}

/** The stored model as anyone may see it: where requests go and where the key comes from, never the key. */
export function toModelView(definition: StoredDefinition): ModelView | null {
  const model = definition.model
  if (typeof model?.model !== 'string') return null
  const provider = String(model.provider ?? 'openai')
  const number = (key: string) => (typeof model[key] === 'number' ? { [key]: model[key] as number } : {})
  const credential = definition.credential ?? { source: 'none' }
  return {
    provider,
    model: model.model,
    baseURL:
      typeof model.baseURL === 'string'
        ? model.baseURL
        : (defaultBaseURLs[provider as ModelProvider] ?? openAIBaseURL),
    ...number('temperature'),
    ...number('maxTokens'),
    ...number('timeoutMs'),
    ...number('maxRetries'),
    credential: credential.source,
    ...(credential.apiKeyEnv ? { apiKeyEnv: credential.apiKeyEnv } : {}),
  }
}
