import type { Address } from 'viem'
import type { safeCanonicalAddresses } from './canonical.ts'

export type SafeAddresses = { [K in keyof typeof safeCanonicalAddresses]: Address }

/** Addresses of the contracts Agora uses on a chain: its own and the canonical ones it reuses. */
export type AgoraContracts = {
  identityRegistry: Address
  economy: Address
  factory: Address
  /** The agent module every launched agent's Safe spends through. */
  module: Address
  erc6551Registry: Address
  agentAccount: Address
  /** Multicall3, for outside tools (x402 explains failed simulations with it). */
  multicall3?: Address
  /** The devnet's stablecoin (`DevUSD`, known as dUSD); absent on a real chain. */
  devUSD?: Address
}

/** An ERC-20 the deployment knows by symbol (USDC on Base, say), as its contract answered. */
export type ManifestToken = { symbol: string; address: Address; decimals: number }

/**
 * Everything a runtime needs to use a deployment: `npm run deploy` writes one for a real chain, and
 * the devnet's manifest has this shape too. Serialisable as JSON.
 */
export type DeploymentManifest = {
  chainId: number
  /** Block the contracts were deployed in: where indexers start. */
  deploymentBlock: number
  /** The account that deployed the contracts and owns the identity registry and the economy. */
  deployer?: Address
  contracts: AgoraContracts
  safe: SafeAddresses
  /** Protocol settings the economy was deployed with. */
  economy: { feeBps: number; submissionGraceSeconds: number }
  /**
   * ERC-20 tokens known by symbol besides ETH (and dUSD on the devnet); the first is the default
   * token of payments, hires and spending limits when none is named.
   */
  tokens?: ManifestToken[]
}
