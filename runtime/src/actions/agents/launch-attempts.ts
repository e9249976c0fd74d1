import type { Agent } from '@agora/db'
import { type Address, getAddress, type Hex, keccak256, toHex } from 'viem'
import type { RuntimeClient } from '../../client.ts'
import type { IntentInput } from '../../outbox/intent-handler.ts'

/**
 * How many times one agent's launch is tried before the agent is released. Each attempt is an
 * intent of its own (`launch:<id>`, then `launch:<id>:1`, …) with a salt of its own, so an attempt
 * the chain refused never blocks the next one.
 */
export const MAX_LAUNCH_ATTEMPTS = 3

/** What every attempt of one agent's launch carries; the salt is the attempt's. */
export type LaunchPayload = { owner: Address; signer: Address; agentURI: string; salt: Hex; attempt?: number }

/** The idempotency key of attempt `attempt` (0 first) of the agent's launch. */
export function launchKey(agentId: string, attempt: number): string {
  return attempt === 0 ? `launch:${agentId}` : `launch:${agentId}:${attempt}`
}

/**
 * The launch intent of attempt `attempt`: recorded with the agent for the first, by the failure of
 * the one before for the others. The factory binds the Safe's salt to its caller (the relayer) and
 * refuses a deployment of the Safe by anyone else, so a salt cannot be taken; a fresh one per
 * attempt still keeps a retry clear of whatever the attempt before left behind.
 */
export function launchIntent(
  agentId: string,
  launch: Pick<LaunchPayload, 'owner' | 'signer' | 'agentURI'>,
  attempt = 0,
): IntentInput {
  const key = launchKey(agentId, attempt)
  return {
    idempotencyKey: key,
    kind: 'launch',
    agentId,
    payload: {
      owner: getAddress(launch.owner),
      signer: getAddress(launch.signer),
      agentURI: launch.agentURI,
      // `agora:launch:<id>` for the first attempt, as agents launched before retries had.
      salt: keccak256(toHex(`agora:${key}`)),
      attempt,
    } satisfies LaunchPayload,
  }
}

/**
 * Releases an agent whose every launch attempt the chain refused: it is retired (it never had an
 * identity, a Safe or funds) and renamed out of the way, so its name can be launched again. Its
 * activity keeps the story. Does nothing to an agent that is no longer launching.
 *
 * @example
 * await releaseAgent(client, agentId, 'IdentityNotLauncher(0x…)')
 */
export async function releaseAgent(
  client: Pick<RuntimeClient, 'agents' | 'activity'>,
  agentId: string,
  reason: string,
): Promise<Agent | undefined> {
  const agent = await client.agents.get(agentId)
  if (agent.status !== 'launching') return undefined
  const released = await client.agents.update(agentId, {
    status: 'retired',
    name: `${agent.name} (launch failed, ${agentId})`,
  })
  await client.activity.record(agentId, 'lifecycle', {
    event: 'launch released',
    name: agent.name,
    attempts: MAX_LAUNCH_ATTEMPTS,
    error: reason,
  })
  return released
}
