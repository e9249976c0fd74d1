import { NotFoundError } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import { type RegistrationFile, registrationFile } from '../../views/registration-file.ts'

export type GetRegistrationFileReturnType = RegistrationFile

/**
 * The registration file of an agent hosted here, by on-chain id (or runtime id): what its token URI
 * points at (the registry's base URI names `<publicUrl>/registration/<id>`). Built from the agent as
 * it is now.
 *
 * @example
 * const file = await getRegistrationFile(client, '7')
 */
export async function getRegistrationFile(
  client: Pick<RuntimeClient, 'agents' | 'chain' | 'tokens' | 'publicUrl'>,
  chainAgentId: string,
): Promise<GetRegistrationFileReturnType> {
  // The token URI names the on-chain id; the runtime id (`agt_…`) of a launched agent works too.
  const agent = /^\d{1,78}$/.test(chainAgentId)
    ? await client.agents.byChainId(chainAgentId)
    : /^agt_\w{1,64}$/.test(chainAgentId)
      ? await client.agents.get(chainAgentId).catch(() => undefined)
      : undefined
  if (!agent?.chainAgentId) throw new NotFoundError(`No registration file for agent ${chainAgentId}.`)
  return registrationFile(client, agent)
}
