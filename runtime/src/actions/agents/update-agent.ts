import { agentModuleAbi } from '@agora/contracts'
import {
  type Agent,
  BaseError,
  ConflictError,
  transaction,
  updateAgent as updateAgentRow,
  upsertOfferings,
  ValidationError,
} from '@agora/db'
import { type Address, encodeFunctionData, type Hex } from 'viem'
import { z } from 'zod'
import { canonicalJson } from '../../canonical-json.ts'
import type { RuntimeClient } from '../../client.ts'
import type { AgentDefinition, SpendingPolicy } from '../../define-agent.ts'
import { OwnerSignatureRequiredError } from '../../errors.ts'
import { policyChangeBetween, toPolicyChange } from '../../guard/on-chain-policy.ts'
import { type ModelJson, misplacedApiKeyError, modelPatchSchema } from '../../inference/model-config.ts'
import { createKeyedMutex } from '../../outbox/mutex.ts'
import { type AgentView, type StoredDefinition, toAgentView } from '../../views/agent-view.ts'
import { type AgentJson, agentFromJson, agentJsonSchema } from './agent-from-json.ts'
import { credentialOf, describeDefinition } from './describe-definition.ts'
import {
  type FormerOffering,
  type HostedDefinition,
  restoreFormerOfferings,
  type StoredFormerOffering,
  stillNeeded,
} from './former-offerings.ts'
import { offeringRows, sealModelKey } from './launch-agent.ts'
import { type OwnerSignatureRequest, ownerTransaction } from './owner-transaction.ts'

const { shape } = agentJsonSchema

/**
 * What an owner may change after launch: each field given replaces the one the agent has. `model`
 * replaces the model (`null` removes it); inside it `apiKey` replaces the sealed key, `apiKey: null`
 * removes it, and without `apiKey` the sealed key is kept. `offerings` is the full list: offerings
 * left out are retired, new ones added, changed ones updated.
 */
export const updateAgentSchema = z
  .strictObject(
    {
      description: shape.description,
      instructions: shape.instructions,
      model: modelPatchSchema
        .nullable()
        .optional()
        .describe('Replaces the model; null removes it. Without apiKey, the sealed key is kept.'),
      offerings: shape.offerings.describe(
        'The full list: offerings left out are retired (jobs already funded are still served as hired).',
      ),
      policy: shape.policy.describe('Replaces the spending policy.'),
      providerPolicy: shape.providerPolicy
        .unwrap()
        .nullable()
        .optional()
        .describe('Replaces the provider policy; null removes it.'),
      ownerSignature: z
        .string()
        .regex(/^0x([0-9a-fA-F]{130})+$/, 'must be Safe owner signatures: 0x and 65 bytes per owner')
        .optional()
        .describe(
          "A policy change of an agent on the agent module is a Safe transaction its owners sign: without this field the answer is that transaction (202); send the same update again with the owners' signatures of it here.",
        ),
    },
    { error: misplacedApiKeyError },
  )
  .refine((patch) => Object.entries(patch).some(([k, v]) => k !== 'ownerSignature' && v !== undefined), {
    message: `must set at least one of ${['description', 'instructions', 'model', 'offerings', 'policy', 'providerPolicy'].join(', ')}`,
  })

export type UpdateAgentParameters = z.input<typeof updateAgentSchema>
/** The agent as its owner sees it: its view and its instructions (the owner's prompt). */
export type UpdateAgentReturnType = AgentView & { instructions: string }
/**
 * `OwnerSignatureRequiredError`: a policy change of an agent on the agent module, sent without
 * `ownerSignature`; its `request` is the Safe transaction to sign, and nothing changed.
 */
export type UpdateAgentErrorType = ValidationError | ConflictError | OwnerSignatureRequiredError

/** Fields an agent defined in TypeScript can change: the rest is code. */
const textFields = new Set(['description', 'instructions'])

// PATCHes of one agent are merged one after another: each starts from what the one before stored.
const updates = createKeyedMutex()

/**
 * Changes what an owner set at launch. An agent defined as JSON can change every field: the patch
 * is merged into its stored JSON and the definition rebuilt from it, so a bad patch changes nothing;
 * then its row, sealed model key and market offerings are written in one database transaction and
 * the definition hosted here is swapped. Offerings retired or changed stay hosted, as they were, for
 * the jobs hired before (`offeringForJob`). An agent defined in TypeScript changes only its
 * description and instructions (`DEFINED_IN_CODE` otherwise); a retired one, only those too. Each
 * change is one `lifecycle` activity entry (`updated`, with the fields changed, never their values).
 *
 * @example
 * await updateAgent(client, id, { instructions: 'Answer in French.', offerings: [{ name: 'poem', … }] })
 */
export async function updateAgent(
  client: RuntimeClient,
  id: string,
  parameters: UpdateAgentParameters,
): Promise<UpdateAgentReturnType> {
  const parsed = updateAgentSchema.safeParse(parameters)
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message }))
    throw new ValidationError(
      `The update is invalid: ${issues.map((i) => `${i.path.join('.') || '(update)'}: ${i.message}`).join('; ')}`,
      { meta: { issues } },
    )
  }
  const patch = parsed.data
  const { id: agentId } = await client.agents.get(id)
  return updates.run(agentId, async () => {
    const agent = await client.agents.get(agentId)
    const fields = Object.keys(patch).filter(
      (k) => k !== 'ownerSignature' && patch[k as keyof typeof patch] !== undefined,
    )
    const stored = agent.definition as StoredDefinition
    const textOnly = fields.every((f) => textFields.has(f))
    if (!textOnly && !stored.json)
      throw new ConflictError(
        `Agent "${agent.name}" is defined in TypeScript: only its description and instructions can change here; change ${fields.filter((f) => !textFields.has(f)).join(', ')} in its code.`,
        { code: 'DEFINED_IN_CODE' },
      )
    if (!textOnly && agent.status === 'retired')
      throw new ConflictError(
        `Agent "${agent.name}" is retired: only its description and instructions can change.`,
        { code: 'AGENT_RETIRED' },
      )
    const text = {
      description: patch.description ?? agent.description,
      instructions: patch.instructions ?? agent.instructions,
    }
    const hosted = client.definitions.get(agent.name) as HostedDefinition | undefined
    const { updated, offeringChanges } =
      textOnly || !stored.json
        ? await updateTexts(client, agent, text, hosted)
        : await rebuildFromJson(client, agent, stored.json as AgentJson, { patch, text, hosted })
    await client.activity.record(agent.id, 'lifecycle', {
      event: 'updated',
      fields,
      ...(offeringChanges && patch.offerings ? { offerings: offeringChanges } : {}),
    })
    if (updated.chainAgentId) await client.market.refresh(updated.chainAgentId)
    return { ...(await toAgentView(client, updated)), instructions: updated.instructions }
  })
}

/** A patch of the texts only: nothing to rebuild, the row and the hosted definition take them. */
async function updateTexts(
  client: Pick<RuntimeClient, 'agents' | 'definitions'>,
  agent: Agent,
  text: { description: string; instructions: string },
  hosted: HostedDefinition | undefined,
): Promise<{ updated: Agent; offeringChanges?: undefined }> {
  const stored = agent.definition as StoredDefinition
  // The JSON of an agent defined over HTTP follows, so a later rebuild starts from it.
  const json = stored.json && { ...stored.json, ...text }
  const updated = await client.agents.update(agent.id, {
    ...text,
    ...(json ? { definition: { ...stored, json } } : {}),
  })
  if (hosted) client.definitions.set(agent.name, { ...hosted, ...text })
  return { updated }
}

/**
 * A patch beyond the texts of an agent defined as JSON: merged into its JSON, the definition rebuilt
 * and checked (a bad patch throws before anything is written), then its row, sealed key and market
 * offerings written in one transaction, and the hosted definition swapped.
 */
async function rebuildFromJson(
  client: RuntimeClient,
  agent: Agent,
  before: AgentJson,
  {
    patch,
    text,
    hosted,
  }: {
    patch: z.output<typeof updateAgentSchema>
    text: { description: string; instructions: string }
    hosted: HostedDefinition | undefined
  },
): Promise<{ updated: Agent; offeringChanges: OfferingChanges }> {
  const stored = agent.definition as StoredDefinition
  const binding = { address: agent.signerAddress, purpose: 'model-api-key' } as const
  const sealed = agent.modelKey ? client.keys.openSecret(agent.modelKey, binding) : undefined
  let apiKey = sealed
  let model = before.model as ModelJson | undefined
  if (patch.model === null) {
    model = undefined
    apiKey = undefined
  } else if (patch.model) {
    const { apiKey: given, ...rest } = patch.model
    model = rest
    if (given !== undefined) apiKey = given ?? undefined
    if (rest.apiKeyEnv !== undefined) apiKey = undefined // the server's variable replaces a sealed key
  }
  const json = withoutUndefined({
    ...before,
    ...text,
    model,
    ...(patch.offerings ? { offerings: patch.offerings } : {}),
    ...(patch.policy ? { policy: patch.policy } : {}),
    ...(patch.providerPolicy !== undefined ? { providerPolicy: patch.providerPolicy ?? undefined } : {}),
  }) as AgentJson
  const definition = rebuild(json, apiKey)
  const rows = await offeringRows(client, definition)
  const offeringChanges = changesOf(before, json)
  const formers = await formerVersions(client, agent.id, stored, hosted, offeringChanges)
  const described: StoredDefinition = {
    ...describeDefinition(
      definition,
      rows.map((r) => r.token),
    ),
    ...(formers.length > 0 ? { formerOfferings: formers.map((v) => v.stored) } : {}),
  }
  // A key kept as it was keeps its sealed copy; a new one is sealed afresh.
  const modelKey =
    credentialOf(definition).source === 'sealed' && apiKey === sealed
      ? agent.modelKey
      : sealModelKey(client, definition, agent.signerAddress)
  // Everything is checked: the policy goes on chain (the owners' transaction) before the row changes.
  if (patch.policy) {
    const request = await writePolicyOnChain(client, agent, before.policy ?? {}, definition.policy, patch)
    if (request)
      throw new OwnerSignatureRequiredError(
        `Agent ${agent.chainAgentId}'s policy is enforced by the agent module: its owners sign the Safe transaction ${request.safeTxHash} first, then send this update again with ownerSignature.`,
        request,
      )
  }
  await transaction(client.db, async (tx) => {
    await upsertOfferings(tx, { agentId: agent.id, offerings: rows, deactivateMissing: true })
    await updateAgentRow(tx, agent.id, { ...text, definition: described, modelKey })
  })
  const updated = await client.agents.reload(agent.id)
  const hostedFormers = formers.flatMap(
    (v) => v.hosted ?? restoreFormerOfferings(json, [v.stored], { apiKey }),
  )
  client.definitions.set(agent.name, {
    ...definition,
    ...(hostedFormers.length > 0 ? { formerOfferings: hostedFormers } : {}),
  } satisfies HostedDefinition)
  return { updated, offeringChanges }
}

/** The definition a merged JSON describes; its errors are the patch's. */
function rebuild(json: AgentJson, apiKey: string | undefined): AgentDefinition {
  try {
    return agentFromJson(json, { apiKey })
  } catch (error) {
    if (error instanceof BaseError) throw error
    if (error instanceof z.ZodError) {
      const issues = error.issues.map((i) => ({ path: i.path.map(String), message: i.message }))
      throw new ValidationError(
        `The update is invalid: ${issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        { meta: { issues } },
      )
    }
    throw error
  }
}

/** A former version of an offering: as stored, and as hosted here when it is. */
type FormerVersion = { stored: StoredFormerOffering; hosted?: FormerOffering }

/**
 * The versions of offerings that jobs hired before a patch may still need: those kept from earlier
 * patches and those this patch retires or changes, less those no unfinished job needs any more.
 */
async function formerVersions(
  client: Pick<RuntimeClient, 'db'>,
  agentId: string,
  stored: StoredDefinition,
  hosted: HostedDefinition | undefined,
  changes: OfferingChanges,
): Promise<FormerVersion[]> {
  const until = new Date()
  const earlier = (stored.formerOfferings ?? []).map((former) => ({
    stored: former,
    hosted: hosted?.formerOfferings?.find(
      (h) => h.offering.name === former.offering.name && +h.until === +new Date(former.until),
    ),
  }))
  const before = (stored.json as AgentJson).offerings ?? []
  const ended = [...changes.changed, ...changes.retired].map((name) => {
    const offering = hosted?.offerings.find((o) => o.name === name)
    return {
      stored: {
        offering: before.find((o) => o.name === name) as StoredFormerOffering['offering'],
        until: until.toISOString(),
      },
      hosted: offering && { offering, until },
    }
  })
  const versions = [...earlier, ...ended]
  const needed = new Set(
    await stillNeeded(
      client.db,
      agentId,
      versions.map((v) => v.stored),
    ),
  )
  return versions.filter((v) => needed.has(v.stored))
}

/** Offering names added, changed (price, text, schemas, how it is served) and retired by a patch. */
type OfferingChanges = { added: string[]; changed: string[]; retired: string[] }

function changesOf(before: AgentJson, after: AgentJson): OfferingChanges {
  const old = new Map((before.offerings ?? []).map((o) => [o.name, canonicalJson(o)]))
  const now = new Map((after.offerings ?? []).map((o) => [o.name, canonicalJson(o)]))
  return {
    added: [...now.keys()].filter((name) => !old.has(name)),
    changed: [...now.keys()].filter((name) => old.has(name) && old.get(name) !== now.get(name)),
    retired: [...old.keys()].filter((name) => !now.has(name)),
  }
}

function withoutUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined))
}

/**
 * Writes a changed spending policy to the agent module, as its owners' Safe transaction: the
 * signature request when `ownerSignature` is missing, nothing once it landed. An agent launched before
 * the module (its key still an owner) keeps its policy in code only, as before.
 */
async function writePolicyOnChain(
  client: RuntimeClient,
  agent: Agent,
  before: SpendingPolicy,
  after: SpendingPolicy,
  patch: z.output<typeof updateAgentSchema>,
): Promise<OwnerSignatureRequest | undefined> {
  if (!agent.safeAddress || agent.status === 'retired') return undefined
  const key = agent.signerAddress as Address
  if ((await client.safes.pathOf(agent.safeAddress as Address, key)) !== 'module') return undefined
  const { tokens, chain } = client
  const change = policyChangeBetween(
    await toPolicyChange(tokens, chain.knownTokens, before, key),
    await toPolicyChange(tokens, chain.knownTokens, after, key),
  )
  const data = encodeFunctionData({ abi: agentModuleAbi, functionName: 'configure', args: [change] })
  return ownerTransaction(
    client,
    agent,
    { to: chain.contracts.module, data },
    patch.ownerSignature as Hex | undefined,
    `Write agent ${agent.chainAgentId}'s new spending policy to the agent module.`,
  )
}
