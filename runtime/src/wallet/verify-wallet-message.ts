import { type Address, type Hex, recoverMessageAddress, zeroAddress } from 'viem'
import type { ChainContext } from '../client.ts'
import { readAgent } from './safe-signer.ts'

/**
 * Whether `signature` is `address`'s over `message`: an account's own signature, a contract wallet's
 * through ERC-1271 (a Safe's owners), or, for an agent's Safe, its agent's key as the agent module
 * names it now. The last is how an agent signs for its Safe (its key is no owner, so ERC-1271 would
 * refuse it); a key the owner rotated or revoked no longer counts.
 *
 * @example
 * const ok = await verifyWalletMessage(client.chain, { address: job.client, message, signature })
 */
export async function verifyWalletMessage(
  chain: Pick<ChainContext, 'publicClient' | 'contracts'>,
  parameters: { address: Address; message: string; signature: Hex },
): Promise<boolean> {
  const { publicClient, contracts } = chain
  if (await publicClient.verifyMessage(parameters).catch(() => false)) return true
  const agent = await readAgent(publicClient, contracts.module, parameters.address).catch(() => undefined)
  if (!agent || agent.key === zeroAddress) return false
  const signer = await recoverMessageAddress(parameters).catch(() => undefined)
  return signer?.toLowerCase() === agent.key.toLowerCase()
}
