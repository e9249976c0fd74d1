import {
  type Agent,
  ConflictError,
  getAgent,
  getIntentByKey,
  type Intent,
  insertAgent,
  type OfferingInput,
  transaction,
  upsertOfferings,
  ValidationError,
} from '@agora/db'
import { type Address, isAddress } from 'viem'
import type { RuntimeClient } from '../../client.ts'
import { type AgentDefinition, defineAgent } from '../../define-agent.ts'
import type { ChainUnavailableError, ContractRevertedError } from '../../errors.ts'
import type { QuotaError } from '../../guard/quotas.ts'
import { launchURI } from '../../market/launch-uri.ts'
import { recordIntent } from '../../outbox/record-intent.ts'
import { sendIntent } from '../../outbox/send-intent.ts'
import { checkWebhooks } from '../jobs/webhook-url.ts'
import { credentialOf, describeDefinition, jsonSchemaOf } from './describe-definition.ts'
import {
  type LaunchPayload,
  launchIntent,
  launchKey,
  MAX_LAUNCH_ATTEMPTS,
  releaseAgent,
} from './launch-attempts.ts'

export type LaunchAgentParameters = {
  /** The human owner: receives the identity token and co-owns the Safe. */
  owner: Address
  /**
   * The registration file's URI; by default the registry's base URI names it, or, when that base is
   * not this runtime's API, `<publicUrl>/registration/<runtime id>` (see `launchURI`).
   */
  agentURI?: string
  /** Runtime id for the new agent (default: generated). Launching again with the same id is a no-op. */
  id?: string
}

export type LaunchAgentReturnType = Agent

export type LaunchAgentErrorType =
  | ValidationError
  | ConflictError
  | ContractRevertedError
  | ChainUnavailableError
  | QuotaError

/**
 * Launches an agent: generates and seals its key, records it with its offerings and a launch
 * intent in one database transaction, then sends the factory's one-transaction launch (identity,
 * token-bound account, Safe owned by the agent key and the owner). Idempotent by `id`: a crash
 * mid-way is finished on restart. A name taken by another agent is a `ConflictError` (`NAME_TAKEN`).
 * A launch the chain refuses is tried again with a fresh salt, up to `MAX_LAUNCH_ATTEMPTS` times;
 * then the agent is released (retired, its name free for another launch) and the refusal thrown.
 *
 * @example
 * const agent = await launchAgent(client, summarizer, { owner: '0xOwner…' })
 */
export async function launchAgent(
  client: RuntimeClient,
  definition: AgentDefinition,
  parameters: LaunchAgentParameters,
): Promise<LaunchAgentReturnType> {
  const checked = defineAgent(definition)
  if (!isAddress(parameters.owner))
    throw new ValidationError(`The owner "${parameters.owner}" is not an address.`)
  const offerings = await offeringRows(client, checked)
  const existing = parameters.id ? await getAgent(client.db, parameters.id) : undefined
  // A new launch counts against the owner's quota (the relayer pays for it); a resumed one already did.
  const agent =
    existing ??
    (await client.quotas.charge(
      parameters.owner,
      { kind: 'launch' },
      () => recordLaunch(client, checked, parameters, offerings),
      (row) => `launch:${row.id}`,
    ))
  client.definitions.set(checked.name, checked)
  if (agent.status === 'launching') {
    await client.activity.record(agent.id, 'lifecycle', { event: 'launching', name: agent.name })
    await sendLaunch(client, agent, parameters)
  }
  return client.agents.get(agent.id)
}

/**
 * Sends the agent's launch until it lands: its current attempt, then (when the chain refuses one)
 * the next, which the launch handler records on the failure, up to `MAX_LAUNCH_ATTEMPTS`; after the
 * last the handler releases the agent and the last error is thrown. An attempt that is not refused
 * but could not be sent (the chain does not answer) stays pending for the next start.
 */
async function sendLaunch(client: RuntimeClient, agent: Agent, parameters: LaunchAgentParameters) {
  for (;;) {
    const intent = await currentAttempt(client, agent, parameters)
    try {
      await sendIntent(client, intent)
      return
    } catch (error) {
      const refused = (await getIntentByKey(client.db, intent.idempotencyKey))?.status === 'failed'
      if (!refused || (await client.agents.get(agent.id)).status !== 'launching') throw error
    }
  }
}

/**
 * The attempt to send now: the first one not refused. Each is recorded before it is sent (the first
 * with the agent, the others by the failure of the one before, or here after a crash in between);
 * an agent whose every attempt was refused but which was not released yet is released here.
 */
async function currentAttempt(
  client: RuntimeClient,
  agent: Agent,
  parameters: LaunchAgentParameters,
): Promise<Intent> {
  let first = launchIntent(agent.id, {
    owner: parameters.owner,
    signer: agent.signerAddress as Address,
    agentURI: parameters.agentURI ?? '',
  }).payload as LaunchPayload
  for (let attempt = 0; attempt < MAX_LAUNCH_ATTEMPTS; attempt++) {
    const recorded = await getIntentByKey(client.db, launchKey(agent.id, attempt))
    if (!recorded)
      return (await recordIntent(client, client.db, launchIntent(agent.id, first, attempt))).intent
    if (recorded.status !== 'failed') return recorded
    // Later attempts launch what the first one did (owner, URI), whatever this call was given.
    if (attempt === 0) first = recorded.payload as LaunchPayload
  }
  await releaseAgent(client, agent.id, 'every launch attempt was refused')
  throw new ConflictError(
    `The launch of "${agent.name}" was refused ${MAX_LAUNCH_ATTEMPTS} times; the agent was released.`,
    { code: 'AGENT_RETIRED' },
  )
}

/**
 * An agent's offerings as the market stores them (price in base units, token by address). An
 * unknown token, in an offering or in the policy (read only when money moves), is refused here.
 *
 * @example
 * const rows = await offeringRows(client, definition)
 */
export async function offeringRows(
  client: Pick<RuntimeClient, 'tokens' | 'chain' | 'publicUrl'>,
  definition: AgentDefinition,
): Promise<(OfferingInput & { token: string })[]> {
  checkWebhooks(client, definition)
  const rows = await Promise.all(
    definition.offerings.map(async (o) => {
      const token = await client.tokens.resolve(o.token)
      return {
        name: o.name,
        description: o.description,
        price: client.tokens.parse(o.price, token).toString(),
        token: token.address,
        capabilities: o.capabilities ?? [],
        inputSchema: jsonSchemaOf(o.input),
      }
    }),
  )
  if (definition.policy.token) await client.tokens.resolve(definition.policy.token)
  return rows
}

/**
 * The model's API key of an agent defined as JSON, sealed for the agent (`agents.model_key`), or
 * null when it has none to keep: no model, a key from a server variable, or a key given in code
 * (which stays in code).
 *
 * @example
 * const modelKey = sealModelKey(client, definition, agent.signerAddress)
 */
export function sealModelKey(
  client: Pick<RuntimeClient, 'keys'>,
  definition: AgentDefinition,
  signerAddress: string,
): string | null {
  const apiKey = definition.model?.apiKey
  if (credentialOf(definition).source !== 'sealed' || typeof apiKey !== 'string') return null
  return client.keys.sealSecret(apiKey, { address: signerAddress, purpose: 'model-api-key' })
}

async function recordLaunch(
  client: RuntimeClient,
  definition: AgentDefinition,
  parameters: LaunchAgentParameters,
  offerings: (OfferingInput & { token: string })[],
): Promise<Agent> {
  const key = client.keys.create()
  const modelKey = sealModelKey(client, definition, key.address)
  const given = parameters.agentURI
  const uriOf = given === undefined ? await launchURI(client) : () => given
  return transaction(client.db, async (tx) => {
    const row = await insertAgent(tx, {
      id: parameters.id,
      owner: parameters.owner,
      name: definition.name,
      description: definition.description,
      instructions: definition.instructions,
      definition: describeDefinition(
        definition,
        offerings.map((o) => o.token),
      ),
      signerAddress: key.address,
      encryptedKey: key.sealed,
      modelKey,
      // Served by the process launching it: its relayers send the launch.
      shard: client.shard,
    })
    await upsertOfferings(tx, { agentId: row.id, offerings })
    await recordIntent(
      client,
      tx,
      launchIntent(row.id, { owner: parameters.owner, signer: key.address, agentURI: uriOf(row.id) }),
    )
    return row
  })
}
