import type { Agent } from '@agora/db'
import type { Address, LocalAccount } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { RuntimeClient } from '../client.ts'
import type { KeyVault } from './key-vault.ts'

/** Agents' keys as accounts: each opened from its sealed form once per process, never logged. */
export type AgentSigners = { of(agent: Agent): LocalAccount }

/** @example const signers = createAgentSigners(vault); const account = signers.of(agent) */
export function createAgentSigners(vault: KeyVault): AgentSigners {
  const signers = new Map<string, LocalAccount>()
  return {
    of(agent) {
      let account = signers.get(agent.id)
      if (!account) {
        account = privateKeyToAccount(vault.open(agent.encryptedKey, agent.signerAddress as Address))
        signers.set(agent.id, account)
      }
      return account
    },
  }
}

/** The signing account of an agent hosted here, by its runtime id. */
export async function agentSigner(
  client: Pick<RuntimeClient, 'agents' | 'signers'>,
  agentId: string,
): Promise<LocalAccount> {
  return client.signers.of(await client.agents.get(agentId))
}
