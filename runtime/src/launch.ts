import { agentFactoryAbi } from '@agora/contracts'
import { type Agent, getAgent, insertAgent, transaction, upsertOfferings } from '@agora/db'
import {
  type Address,
  encodeFunctionData,
  getAddress,
  isAddress,
  keccak256,
  parseEventLogs,
  toHex,
} from 'viem'
import { z } from 'zod'
import type { RuntimeContext } from './context.ts'
import { type AgentDefinition, defineAgent } from './define-agent.ts'
import { BaseError } from './errors.ts'
import { registrationFile } from './registration.ts'
import type { IntentKind } from './transactions.ts'

export type LaunchParameters = {
  /** The human owner: receives the identity token and co-owns the Safe. */
  owner: Address
  /** The registration file's URI; by default the registry's base URI names it. */
  agentURI?: string
  /** Runtime id for the new agent (default: generated). Launching again with the same id is a no-op. */
  id?: string
}

/** The serialisable part of a definition, as stored with the agent; tokens resolved to addresses. */
export function describeDefinition(definition: AgentDefinition, tokenAddresses: string[]) {
  // The model's API key is a secret: it stays in the code's definition, never in the database.
  const { apiKey: _secret, ...model } = definition.model ?? {}
  return {
    model: definition.model ? model : null,
    policy: definition.policy,
    offerings: definition.offerings.map((o, i) => ({
      name: o.name,
      description: o.description,
      price: o.price,
      token: tokenAddresses[i]!.toLowerCase(),
      capabilities: o.capabilities ?? [],
    })),
  }
}

/**
 * Launches an agent: generates and seals its key, records it with a launch intent in one database
 * transaction, then sends the factory's one-transaction launch (identity, token-bound account, Safe
 * owned by the agent key and the owner). Idempotent by `id`: a crash mid-way is finished on restart.
 */
export async function launchAgent(
  ctx: RuntimeContext,
  definition: AgentDefinition,
  parameters: LaunchParameters,
) {
  const checked = defineAgent(definition)
  if (!isAddress(parameters.owner)) {
    throw new BaseError(`The owner "${parameters.owner}" is not an address.`, { code: 'INVALID_ARGUMENT' })
  }
  const offerings = await Promise.all(
    checked.offerings.map(async (o) => {
      const token = await ctx.tokens.resolve(o.token)
      return {
        name: o.name,
        description: o.description,
        price: ctx.tokens.parse(o.price, token).toString(),
        token: token.address,
        capabilities: o.capabilities ?? [],
        inputSchema: jsonSchemaOf(o.input),
      }
    }),
  )
  const existing = parameters.id ? await getAgent(ctx.db, parameters.id) : undefined
  let agent: Agent
  if (existing) {
    agent = existing
  } else {
    const key = ctx.vault.create()
    agent = await transaction(ctx.db, async (tx) => {
      const row = await insertAgent(tx, {
        id: parameters.id,
        owner: parameters.owner,
        name: checked.name,
        description: checked.description,
        instructions: checked.instructions,
        definition: describeDefinition(
          checked,
          offerings.map((o) => o.token),
        ),
        signerAddress: key.address,
        encryptedKey: key.sealed,
      })
      await upsertOfferings(tx, { agentId: row.id, offerings })
      await ctx.tx.record(tx, {
        idempotencyKey: `launch:${row.id}`,
        kind: 'launch',
        agentId: row.id,
        payload: {
          owner: getAddress(parameters.owner),
          signer: key.address,
          agentURI: parameters.agentURI ?? '',
          salt: keccak256(toHex(`agora:launch:${row.id}`)),
        },
      })
      return row
    })
  }
  ctx.definitions.set(checked.name, checked)
  if (agent.status === 'launching') {
    await ctx.record(agent.id, 'lifecycle', { event: 'launching', name: agent.name })
    await ctx.tx.execute({
      idempotencyKey: `launch:${agent.id}`,
      kind: 'launch',
      agentId: agent.id,
      payload: {},
    })
  }
  return ctx.requireAgent(agent.id)
}

/** The factory launch as an intent kind: built from its payload, settled into the agent's row. */
export function launchKind(ctx: RuntimeContext): IntentKind {
  return {
    lane: () => 'factory',
    async build(intent) {
      const p = intent.payload as { owner: Address; signer: Address; agentURI: string; salt: `0x${string}` }
      return {
        to: ctx.contracts.factory,
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
    async onSettled(intent, receipt) {
      const [launched] = parseEventLogs({
        abi: agentFactoryAbi,
        eventName: 'AgentLaunched',
        logs: receipt.logs,
      })
      if (!launched)
        throw new BaseError('The launch transaction carries no AgentLaunched event.', { code: 'INTERNAL' })
      const { agentId, safe, account } = launched.args
      const agent = await ctx.updateAgent(intent.agentId!, {
        status: 'active',
        chainAgentId: agentId.toString(),
        safeAddress: safe.toLowerCase(),
        accountAddress: account.toLowerCase(),
        launchTx: receipt.transactionHash,
      })
      // The registration file is kept with the agent; the registry's base URI points at where it is served.
      await ctx.updateAgent(agent.id, {
        definition: { ...agent.definition, registration: registrationFile(ctx, agent, ctx.publicUrl) },
      })
      await ctx.record(intent.agentId, 'lifecycle', {
        event: 'launched',
        chainAgentId: agentId.toString(),
        safe,
        account,
        txHash: receipt.transactionHash,
      })
      return { chainAgentId: agentId.toString(), safe, account }
    },
    async onFailed(intent, error) {
      await ctx.record(intent.agentId, 'lifecycle', { event: 'launch failed', error: error.shortMessage })
    },
  }
}

/** A JSON Schema of an offering's input, for the market and the API (zod 4 converts natively). */
function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> | null {
  try {
    return z.toJSONSchema(schema) as Record<string, unknown>
  } catch {
    return null // schemas with transforms or custom checks have no JSON Schema; the handler still validates
  }
}
