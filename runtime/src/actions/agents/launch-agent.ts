import {
  type Agent,
  type ConflictError,
  getAgent,
  insertAgent,
  type OfferingInput,
  transaction,
  upsertOfferings,
  ValidationError,
} from '@agora/db'
import { type Address, getAddress, isAddress, keccak256, toHex } from 'viem'
import type { RuntimeClient } from '../../client.ts'
import { type AgentDefinition, defineAgent } from '../../define-agent.ts'
import type { ChainUnavailableError, ContractRevertedError } from '../../errors.ts'
import { recordIntent } from '../../outbox/record-intent.ts'
import { sendIntent } from '../../outbox/send-intent.ts'
import { describeDefinition, jsonSchemaOf } from './describe-definition.ts'

export type LaunchAgentParameters = {
  /** The human owner: receives the identity token and co-owns the Safe. */
  owner: Address
  /** The registration file's URI; by default the registry's base URI names it. */
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

/**
 * Launches an agent: generates and seals its key, records it with its offerings and a launch
 * intent in one database transaction, then sends the factory's one-transaction launch (identity,
 * token-bound account, Safe owned by the agent key and the owner). Idempotent by `id`: a crash
 * mid-way is finished on restart. A name taken by another agent is a `ConflictError` (`NAME_TAKEN`).
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
  const offerings = await Promise.all(
    checked.offerings.map(async (o) => {
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
  // The policy's token is read only when money moves: an unknown one is refused now.
  if (checked.policy.token) await client.tokens.resolve(checked.policy.token)
  const existing = parameters.id ? await getAgent(client.db, parameters.id) : undefined
  const agent = existing ?? (await recordLaunch(client, checked, parameters, offerings))
  client.definitions.set(checked.name, checked)
  if (agent.status === 'launching') {
    await client.activity.record(agent.id, 'lifecycle', { event: 'launching', name: agent.name })
    const { intent } = await recordIntent(
      client,
      client.db,
      launchIntent(agent.id, parameters, agent.signerAddress),
    )
    await sendIntent(client, intent)
  }
  return client.agents.get(agent.id)
}

async function recordLaunch(
  client: RuntimeClient,
  definition: AgentDefinition,
  parameters: LaunchAgentParameters,
  offerings: (OfferingInput & { token: string })[],
): Promise<Agent> {
  const key = client.keys.create()
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
    })
    await upsertOfferings(tx, { agentId: row.id, offerings })
    await recordIntent(client, tx, launchIntent(row.id, parameters, key.address))
    return row
  })
}

/** The launch intent: recorded with the agent, found again by its key when the launch is resumed. */
function launchIntent(agentId: string, parameters: LaunchAgentParameters, signer: string) {
  return {
    idempotencyKey: `launch:${agentId}`,
    kind: 'launch' as const,
    agentId,
    payload: {
      owner: getAddress(parameters.owner),
      signer: getAddress(signer),
      agentURI: parameters.agentURI ?? '',
      salt: keccak256(toHex(`agora:launch:${agentId}`)),
    },
  }
}
