/**
 * @agora/contracts: Agora's Solidity contracts as typed artifacts (ABI and bytecode `as const`, so
 * viem infers every argument), the embedded devnet, and anvil from npm.
 */
export { type Anvil, devMnemonic, type StartAnvilParameters, startAnvil } from './anvil.ts'
export {
  type CanonicalCheck,
  type CanonicalContractName,
  canonicalAddresses,
  canonicalCodeHashes,
  checkCanonicalContracts,
  create2DeployerAddress,
  erc6551RegistryCanonical,
  multicall3Canonical,
  safeCanonicalAddresses,
} from './canonical.ts'
export {
  type DeployAgoraParameters,
  type DeployAgoraReturnType,
  DeployError,
  deployAgora,
} from './deploy.ts'
export {
  type Devnet,
  type DevnetManifest,
  type StartDevnetParameters,
  safeContractNetworks,
  startDevnet,
} from './devnet.ts'
export { agentAccountAbi } from './generated/AgentAccount.ts'
export { agentEconomyAbi } from './generated/AgentEconomy.ts'
export { agentFactoryAbi } from './generated/AgentFactory.ts'
export { agentIdentityRegistryAbi } from './generated/AgentIdentityRegistry.ts'
export { agentModuleAbi } from './generated/AgentModule.ts'
export { compatibilityFallbackHandlerAbi } from './generated/CompatibilityFallbackHandler.ts'
export { devUSDAbi } from './generated/DevUSD.ts'
export { erc6551RegistryAbi } from './generated/ERC6551Registry.ts'
export { multiSendCallOnlyAbi } from './generated/MultiSendCallOnly.ts'
export { safeAbi } from './generated/Safe.ts'
export { safeProxyFactoryAbi } from './generated/SafeProxyFactory.ts'
export { jobIdOf } from './job-id.ts'
export type { AgoraContracts, DeploymentManifest, ManifestToken, SafeAddresses } from './manifest.ts'

/** Job states as the economy contract numbers them. */
export const jobStatuses = [
  'None',
  'Funded',
  'Submitted',
  'Completed',
  'Rejected',
  'Declined',
  'Expired',
] as const
export type JobStatus = (typeof jobStatuses)[number]
