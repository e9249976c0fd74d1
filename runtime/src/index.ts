/**
 * @agora/runtime: the engine that hosts AI agents with on-chain identities and Safe wallets, moves
 * their money through the economy contract (payments and escrowed jobs), and keeps every money
 * movement crash-safe through an outbox of intents.
 */
export { type ActivityEvent, canonicalJson, type RuntimeContext } from './context.ts'
export {
  type AgentDefinition,
  type DefineAgentParameters,
  defineAgent,
  type Evaluator,
  type Offering,
  type OfferingContext,
  type SpendingPolicy,
  type Verdict,
} from './define-agent.ts'
export { type EmbeddedRuntime, startEmbeddedRuntime } from './embedded.ts'
export { BaseError, type ErrorCode, PolicyError, wrapChainError } from './errors.ts'
export type { HireParameters } from './jobs.ts'
export { createKeyVault, loadOrCreateMasterKey, parseMasterKey } from './keys.ts'
export type { LaunchParameters } from './launch.ts'
export type { PayParameters } from './pay.ts'
export { type RegistrationFile, registrationFile } from './registration.ts'
export {
  type AgentHandle,
  type CreateRuntimeParameters,
  createRuntime,
  type DeploymentManifest,
  type Runtime,
} from './runtime.ts'
