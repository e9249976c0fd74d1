/**
 * @agora/contracts: Agora's Solidity contracts as typed artifacts (ABI and bytecode `as const`, so
 * viem infers every argument), the embedded devnet, and anvil from npm.
 */
export { type Anvil, devMnemonic, type StartAnvilParameters, startAnvil } from './anvil.ts'
export {
  type AgoraContracts,
  type Devnet,
  type DevnetManifest,
  type SafeAddresses,
  type StartDevnetParameters,
  safeCanonicalAddresses,
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
