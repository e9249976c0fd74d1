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
  defineOffering,
  type Evaluator,
  type Offering,
  type OfferingContext,
  offeringNameSchema,
  type SpendingPolicy,
  spendingPolicySchema,
  type Verdict,
} from './define-agent.ts'
export { type EmbeddedRuntime, startEmbeddedRuntime } from './embedded.ts'
export { BaseError, type ErrorCode, PolicyError, wrapChainError } from './errors.ts'
export { createChatModel, wrapInferenceError } from './inference/chat-model.ts'
export {
  type CompleteParameters,
  type CompleteReturnType,
  complete,
  type ToolCall,
} from './inference/complete.ts'
export type {
  ChatMessage,
  InferenceUsage,
  ToolChoice,
  ToolDefinition,
  UsageRecorder,
} from './inference/invoke-model.ts'
export {
  type ModelConfig,
  type ModelConfigInput,
  type ModelProvider,
  modelConfigFromEnv,
  modelConfigSchema,
  parseModelConfig,
} from './inference/model-config.ts'
export {
  type GenerateStructuredParameters,
  type GenerateStructuredReturnType,
  generateStructured,
} from './inference/structured.ts'
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
